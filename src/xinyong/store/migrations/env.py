"""Alembic environment: runs on the connection ``xinyong.store.schema`` hands over.

Migrations are written out (``scripts/migration_ops.py`` drafts one from
``xinyong.all_tables``), so running them needs no target metadata.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from xinyong.store.partitions import outside_partitions

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    **outside_partitions(connection),
)
with context.begin_transaction():
    context.run_migrations()
