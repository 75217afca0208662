"""The one ``MetaData`` every table of xinyong belongs to, whatever package defines it.

Tables live beside what they hold (``store/tables.py`` for subjects and records,
``audit/tables.py`` for the audit chain, …) but share this metadata, so Alembic sees one schema.
Constraint names follow one convention, so migrations are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
