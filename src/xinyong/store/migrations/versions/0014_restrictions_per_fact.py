"""The restriction index keeps one row per fact: restrictions_per_fact

Revision ID: 0014
Revises: 0015 (chained after the audit branch's 0015, merged first; both follow 0013)
Create Date: 2026-12-04

Until now ``restrictions`` held one row per (fact, measure, action) — a court defaulter's entry
wrote about 17 — although which measures and actions a fact carries is the catalog's to say
(issue 19). From here a row is one fact: a list entry reaching a subject (itself, or a person
through an enterprise), with the subject's kind (``subject_kind``); the measures are resolved
from the catalog at check time (``xinyong.measures.reach``).

Upgrade, in SQL on both databases: the rows of one fact version (same subject, entry, relation,
validity and ``recorded_at``: they were written together) become one, keeping the smallest id
(so the index's order is kept) and as ``superseded_at`` NULL if any of them was current, else
the latest; history included. ``subject_kind`` comes from ``subjects`` (a person reached
through an enterprise is an individual). ``action``, ``measure_id``, ``effect`` and their
indexes go; the check's lookup is by ``subject_id``.

Downgrade expands each fact again into its rows by measure and action, by the shipped catalog
(``xinyong.catalog.default_catalog``; an operator's own measures are not known here: re-derive
with ``xinyong lists rebuild`` after downgrading a store that used them).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The columns that name one fact version.
FACT = (
    "subject_id, list_id, entry_id, source_subject_id, record_id, via_subject_id, role, "
    "relation_record_id, valid_from, valid_to, record_key, relation_record_key, recorded_at"
)
CURRENT: dict[str, Any] = {
    "sqlite_where": sa.text("superseded_at IS NULL"),
    "postgresql_where": sa.text("superseded_at IS NULL"),
}


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.drop_index("ix_restrictions_subject_id_action", table_name="restrictions")
    op.drop_index("ix_restrictions_current_action", table_name="restrictions")
    op.execute(
        "CREATE TABLE restrictions_0014 AS SELECT min(id) AS id, CASE WHEN count(*) > "
        "count(superseded_at) THEN NULL ELSE max(superseded_at) END AS superseded_at "
        f"FROM restrictions GROUP BY {FACT}"
    )
    op.execute("CREATE UNIQUE INDEX ix_restrictions_0014_id ON restrictions_0014 (id)")
    op.execute(
        "DELETE FROM restrictions WHERE NOT EXISTS "
        "(SELECT 1 FROM restrictions_0014 k WHERE k.id = restrictions.id)"
    )
    if pg:
        op.execute(
            "UPDATE restrictions r SET superseded_at = k.superseded_at FROM restrictions_0014 k "
            "WHERE k.id = r.id AND r.superseded_at IS NOT NULL "
            "AND k.superseded_at IS DISTINCT FROM r.superseded_at"
        )
    else:
        op.execute(
            "UPDATE restrictions SET superseded_at = (SELECT k.superseded_at FROM "
            "restrictions_0014 k WHERE k.id = restrictions.id) WHERE superseded_at IS NOT NULL"
        )
    op.execute("DROP TABLE restrictions_0014")
    op.add_column("restrictions", sa.Column("subject_kind", sa.String(length=16), nullable=True))
    kind = (
        "CASE WHEN role IS NOT NULL THEN 'individual' ELSE COALESCE((SELECT s.kind FROM subjects "
        "s WHERE s.id = restrictions.subject_id), '') END"
    )
    op.execute(f"UPDATE restrictions SET subject_kind = {kind}")
    with op.batch_alter_table("restrictions") as batch:
        batch.drop_constraint("ck_restrictions_effect", type_="check")
        batch.drop_column("action")
        batch.drop_column("measure_id")
        batch.drop_column("effect")
        batch.alter_column("subject_kind", existing_type=sa.String(length=16), nullable=False)
    op.create_index("ix_restrictions_subject_id", "restrictions", ["subject_id"])
    op.create_index(
        "ix_restrictions_current_list", "restrictions", ["list_id", "subject_id"], **CURRENT
    )


def _expansion() -> str:
    """The shipped catalog's (list, way, action, measure, effect, order) as a subquery: which
    measures a fact carries, as ``xinyong.measures.reach`` said it when this revision was
    written (a migration keeps its own copy of the rule: it must not change with the code)."""
    from xinyong.catalog import default_catalog

    catalog = default_catalog()
    place = {measure_id: n for n, measure_id in enumerate(catalog.measures)}
    rows = []
    for list_id in catalog.lists:
        for m in catalog.measures_for(list_id):
            ways: list[tuple[str, str]] = [("kind", kind) for kind in m.applies_to]
            if m.role_linked and "individual" in m.applies_to:
                ways += [("role", role) for role in m.role_linked]
            rows += [
                (list_id, way, value, action, m.id, m.effect, place[m.id])
                for way, value in ways
                for action in m.actions
            ]

    def lit(value: object) -> str:
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"

    body = ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)
    return (
        "(SELECT column1 AS list_id, column2 AS way, column3 AS way_value, column4 AS action, "
        f"column5 AS measure_id, column6 AS effect, column7 AS place FROM (VALUES {body}) AS v)"
    )


def downgrade() -> None:
    op.drop_index("ix_restrictions_subject_id", table_name="restrictions")
    op.drop_index("ix_restrictions_current_list", table_name="restrictions")
    for name, length in (("action", 64), ("measure_id", 64), ("effect", 8)):
        op.add_column("restrictions", sa.Column(name, sa.String(length=length), nullable=True))
    columns = f"{FACT}, superseded_at"
    ours = ", ".join(f"r.{c.strip()}" for c in columns.split(","))
    op.execute(
        f"INSERT INTO restrictions ({columns}, subject_kind, action, measure_id, effect) "
        f"SELECT {ours}, r.subject_kind, m.action, m.measure_id, m.effect "
        f"FROM restrictions r JOIN {_expansion()} m ON m.list_id = r.list_id "
        "AND m.way = CASE WHEN r.role IS NULL THEN 'kind' ELSE 'role' END "
        "AND m.way_value = COALESCE(r.role, r.subject_kind) "
        "WHERE r.action IS NULL ORDER BY r.id, m.place, m.action"
    )
    op.execute("DELETE FROM restrictions WHERE action IS NULL")
    with op.batch_alter_table("restrictions") as batch:
        batch.drop_column("subject_kind")
        for name, length in (("action", 64), ("measure_id", 64), ("effect", 8)):
            batch.alter_column(name, existing_type=sa.String(length=length), nullable=False)
        batch.create_check_constraint(
            "ck_restrictions_effect", "effect IN ('deny', 'review', 'prefer')"
        )
    op.create_index("ix_restrictions_subject_id_action", "restrictions", ["subject_id", "action"])
    op.create_index(
        "ix_restrictions_current_action", "restrictions", ["action", "subject_id"], **CURRENT
    )
