"""The restriction index without foreign keys to subjects: restrictions_no_subject_fk

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-04

``restrictions`` is derived (from ``list_entries`` and ``subject_relations``, whose subjects are
checked where those rows are written) and re-derivation checks it (``lists.derive.rebuild``,
``xinyong batch derive --compare``), as revision 0008 reasoned for its references to records.
Its three references to ``subjects`` (``subject_id``, ``source_subject_id``,
``via_subject_id``) cost PostgreSQL three index probes per index row written — a court defaulter
row writes about 17 — and measured more than the rows' own insert: the ``COPY`` of 161,465
index rows took 7.2 s with them and 3.1 s without (``python bench/ingest.py``; docs/performance.md).
Subjects are never deleted, so nothing can be left dangling. No data changes; the downgrade puts
the references back.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

#: The columns of ``restrictions`` that referred to ``subjects.id``.
COLUMNS = ("subject_id", "source_subject_id", "via_subject_id")


def _fk(column: str) -> str:
    return f"fk_restrictions_{column}_subjects"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.drop_constraint(_fk(column), "restrictions", type_="foreignkey")
        return
    # SQLite rebuilds the table (xinyong.store.schema.migrate runs this with foreign keys off).
    with op.batch_alter_table("restrictions") as batch:
        for column in COLUMNS:
            batch.drop_constraint(_fk(column), type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.create_foreign_key(_fk(column), "restrictions", "subjects", [column], ["id"])
        return
    with op.batch_alter_table("restrictions") as batch:
        for column in COLUMNS:
            batch.create_foreign_key(_fk(column), "subjects", [column], ["id"])
