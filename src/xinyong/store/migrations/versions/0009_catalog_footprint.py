"""Which catalog derived the store's tables: catalog_footprint

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

``catalog_footprint`` (``xinyong.store.footprint``): the list, measure and action ids the
derived tables hold, each with the version of the catalog that first derived it, and one row
(kind ``run``) with the version of the catalog that last ran the pipeline. The pipeline refuses
a catalog that lacks a held id, and keeps the table up to date as it runs.

A store derived before this revision gets its ids here, once, from ``list_entries`` and
``restrictions`` (every version: an as-of read names them too), with the version
``unrecorded``: nothing says which catalog derived them. The same statements on SQLite and
PostgreSQL (on PostgreSQL neither table is partitioned; ``records`` and ``audit_events`` are,
and this revision does not touch them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from xinyong.store.footprint import UNRECORDED

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: (kind, table, column): where the derived tables name each kind of catalog id.
HELD = (
    ("list", "list_entries", "list_id"),
    ("list", "restrictions", "list_id"),
    ("measure", "restrictions", "measure_id"),
    ("action", "restrictions", "action"),
)


def upgrade() -> None:
    op.create_table(
        "catalog_footprint",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('run', 'list', 'measure', 'action')", name=op.f("ck_catalog_footprint_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "entity_id", name=op.f("pk_catalog_footprint")),
    )
    held = " UNION ".join(
        f"SELECT DISTINCT '{kind}' AS kind, {column} AS entity_id FROM {table}"
        for kind, table, column in HELD
    )
    op.execute(
        "INSERT INTO catalog_footprint (kind, entity_id, catalog_version) "
        f"SELECT kind, entity_id, '{UNRECORDED}' FROM ({held}) AS held"
    )


def downgrade() -> None:
    op.drop_table("catalog_footprint")
