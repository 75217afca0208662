"""Alembic environment: runs on the connection ``xinyong.store.schema`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from xinyong.store.partitions import outside_partitions
from xinyong.store.schema import full_metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=full_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    **outside_partitions(connection),
)
with context.begin_transaction():
    context.run_migrations()
