"""The restriction index as one SQL text: the rows list entries cause, for DuckDB and Spark.

:func:`restrictions_sql` compiles :func:`xinyong.measures.index.rows_for` from the catalog into
one statement in DuckDB's dialect (transpiled for Spark by :mod:`xinyong.batch.dialects`): one
row per fact, as the store keeps it. Which lists reach which kinds and roles
(``xinyong.measures.reach``) is written into it as ``VALUES`` tables, so nothing but the data is
read at run time; :func:`expanded_sql` joins the facts to their measures and actions the same
way. No UDFs.

Input relations:

- ``xy_entries``: the listed entries (``lists.batch.entries_sql``'s columns);
- ``subjects(subject_id, kind)``;
- ``relations(from_subject_id, to_subject_id, role, valid_from, valid_to, record_id)``:
  ``subject_relations`` as stored (every row; only the roles a measure names are read).

Who a row reaches, as in :mod:`xinyong.measures.index`: the listed subject when the measure
``applies_to`` its kind; and, for a role-linked measure that applies to individuals, every
individual related to a listed subject that is not an individual by one of the measure's roles,
for the overlap of the entry's and the relation's periods (none when they do not meet). An entry
whose effective date is unknown (``valid_from`` NULL) restricts nobody.

An entry is identified by ``(list_id, record_key)`` rather than the store's ``entry_id``: the
batch derives entries from records alone, and entry ids are numbers the store hands out when it
writes an entry. Among current listed entries the pair is unique (one current version per
record key, one entry per list), so :func:`xinyong.batch.jobs.store_restrictions` maps the
store's rows to it for comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from xinyong.catalog.model import Catalog
from xinyong.measures.reach import reach_of

#: Output columns of :func:`restrictions_sql` (``index.Row`` with ``record_key`` for
#: ``entry_id``), in order.
RESTRICTION_COLUMNS = (
    "subject_id", "subject_kind", "list_id", "record_key", "source_subject_id", "record_id",
    "via_subject_id", "role", "relation_record_id", "valid_from", "valid_to",
)  # fmt: skip
#: Output columns of :func:`expanded_sql`: a fact once per measure and action it carries.
EXPANDED_COLUMNS = (
    "subject_id", "action", "measure_id", "effect", *RESTRICTION_COLUMNS[2:],
)  # fmt: skip

#: ``subjects`` as the index reads it.
SUBJECTS_SCHEMA = pa.schema([("subject_id", pa.int64()), ("kind", pa.string())])
#: ``relations``: ``subject_relations`` as stored.
RELATIONS_SCHEMA = pa.schema(
    [
        ("from_subject_id", pa.int64()),
        ("to_subject_id", pa.int64()),
        ("role", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("record_id", pa.int64()),
    ]
)


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _values(rows: Sequence[tuple[str, ...]], names: tuple[str, ...]) -> str:
    """A constant table; with no rows, an empty one of the same columns."""
    if not rows:
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {n}" for n in names)
        return f"(SELECT {nulls} WHERE false)"
    body = ", ".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) AS v({', '.join(names)}))"


def restrictions_sql(catalog: Catalog, entries: str = "xy_entries") -> str:
    """The index rows (:data:`RESTRICTION_COLUMNS`, one per fact) the entries in ``entries``
    cause: where some measure of the list reaches the subject (``xinyong.measures.reach``)."""
    reach = reach_of(catalog)
    direct = sorted(
        (list_id, way[1])
        for list_id, ways in reach.by_list.items()
        for way in ways
        if way[0] == "kind"
    )
    linked = sorted(
        (list_id, way[1])
        for list_id, ways in reach.by_list.items()
        for way in ways
        if way[0] == "role"
    )
    direct_values = _values(direct, ("list_id", "kind"))
    linked_values = _values(linked, ("list_id", "role"))
    start = "GREATEST(e.valid_from, COALESCE(r.valid_from, e.valid_from))"
    end = (
        "CASE WHEN e.valid_to IS NULL AND r.valid_to IS NULL THEN NULL "
        "ELSE LEAST(COALESCE(e.valid_to, r.valid_to), COALESCE(r.valid_to, e.valid_to)) END"
    )
    return f"""
SELECT e.subject_id, s.kind AS subject_kind, e.list_id, e.record_key,
       e.subject_id AS source_subject_id, e.record_id, CAST(NULL AS BIGINT) AS via_subject_id,
       CAST(NULL AS VARCHAR) AS role, CAST(NULL AS BIGINT) AS relation_record_id,
       e.valid_from, e.valid_to
FROM {entries} e
JOIN subjects s ON s.subject_id = e.subject_id
JOIN {direct_values} m ON m.list_id = e.list_id AND m.kind = s.kind
WHERE e.valid_from IS NOT NULL
UNION ALL
SELECT r.to_subject_id AS subject_id, 'individual' AS subject_kind, e.list_id, e.record_key,
       e.subject_id AS source_subject_id, e.record_id, e.subject_id AS via_subject_id, r.role,
       r.record_id AS relation_record_id, {start} AS valid_from, {end} AS valid_to
FROM {entries} e
LEFT JOIN subjects s ON s.subject_id = e.subject_id
JOIN {linked_values} m ON m.list_id = e.list_id
JOIN relations r ON r.from_subject_id = e.subject_id AND r.role = m.role
JOIN subjects p ON p.subject_id = r.to_subject_id AND p.kind = 'individual'
WHERE e.valid_from IS NOT NULL AND COALESCE(s.kind, '') <> 'individual'
  AND COALESCE({end} >= {start}, true)
"""


def expanded_sql(catalog: Catalog, facts: str) -> str:
    """The rows of ``facts`` (:data:`RESTRICTION_COLUMNS`) once per measure and action they
    carry (:data:`EXPANDED_COLUMNS`), the measures written in as a ``VALUES`` table from
    ``reach``: for comparisons by measure (``xinyong.batch.impact``)."""
    reach = reach_of(catalog)
    rows = sorted(
        (list_id, way[0], way[1], action, m.id, m.effect)
        for list_id, ways in reach.by_list.items()
        for way, found in ways.items()
        for m in found
        for action in m.actions
    )
    values = _values(rows, ("list_id", "way", "way_value", "action", "measure_id", "effect"))
    rest = ", ".join(f"f.{c}" for c in RESTRICTION_COLUMNS[2:])
    return f"""
SELECT f.subject_id, m.action, m.measure_id, m.effect, {rest}
FROM {facts} f
JOIN {values} m ON m.list_id = f.list_id
  AND m.way = CASE WHEN f.role IS NULL THEN 'kind' ELSE 'role' END
  AND m.way_value = COALESCE(f.role, f.subject_kind)
"""
