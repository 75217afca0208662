"""Writing many rows at once, inside the caller's transaction, at the driver's own speed.

Ingest and linking write thousands of rows per chunk; SQLAlchemy's per-row parameter handling
(and, on SQLite, one statement per row for ``INSERT … RETURNING``) cost more than the database
itself. Here the rows go straight to the DBAPI cursor of the same connection (so the same
transaction): ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL.

Ids are reserved before the insert, so the caller knows them without ``RETURNING``:
on PostgreSQL from the table's sequence (one query for all of them); on SQLite as
``max(id) + 1 …`` — safe because SQLite has one writer at a time, and a transaction that read
before another wrote cannot write afterwards (``SQLITE_BUSY``), so two writers never share ids.

Values must be ready for the driver: ``str``, ``int``, ``float``, ``None``, ISO dates as text,
JSON as text; ``db_value`` converts a value of any column type once (for constants such as the
recorded time of a chunk).

``among(conn, column, values)`` is ``column IN (values)`` with ONE bound parameter however many
values there are (``= ANY(array)`` on PostgreSQL, the array of a text column sent as one JSON
text; ``IN (SELECT value FROM json_each(?))`` on SQLite): an expanded ``IN (?, ?, …)`` of
thousands of values costs more to compile, and on PostgreSQL to parse, than the query takes to
run. ``current_by_key`` reads the current rows of ``records`` by key, one index probe per key.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Integer,
    Row,
    ScalarSelect,
    Select,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON


def backend(conn: Connection) -> str:
    return conn.dialect.name


#: ``n`` values of a table's id sequence. The sequence is named once (a materialised CTE):
#: ``nextval(pg_get_serial_sequence(…))`` looks it up again for every value, ten times the cost
#: (12 ms against 1.2 ms for 5,000 ids, measured).
_NEXTVALS = text(
    "WITH s AS MATERIALIZED (SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq)"
    " SELECT nextval(s.seq) FROM s, generate_series(1, :n)"
)


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary-key values for ``table``, in ascending order."""
    if count <= 0:
        return []
    if backend(conn) == "postgresql":
        return sorted(conn.execute(_NEXTVALS, {"table": table.name, "n": count}).scalars().all())
    top = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def db_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """``value`` as the driver wants it for ``column`` (PostgreSQL's COPY takes Python values)."""
    if value is None or backend(conn) == "postgresql":
        return value
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    if not rows:
        return
    names = ", ".join(columns)
    cursor = conn.connection.cursor()
    try:
        if backend(conn) == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def json_elements(items: Sequence[str]) -> ScalarSelect[Any]:
    """PostgreSQL: the strings ``items`` as a one-column subquery, sent as ONE JSON text.

    psycopg writes a list parameter as an array literal in Python, quoting each element
    (13 ms for 5,000 record keys, measured); ``json.dumps`` writes the same in C (under 1 ms) and
    the server splits it, with no quoting rule of our own to get wrong.
    """
    sent = cast(bindparam(None, json.dumps(list(items), ensure_ascii=False)), JSON)
    return select(func.json_array_elements_text(sent)).scalar_subquery()


def among(conn: Connection, column: Column[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` as one bound parameter (see the module docstring)."""
    items = list(values)
    if backend(conn) == "postgresql":
        if isinstance(column.type, String):
            return column == any_(cast(func.array(json_elements(items)), ARRAY(column.type)))
        integer = isinstance(column.type, Integer | BigInteger)
        kind = BigInteger() if integer else column.type
        return column == any_(bindparam(None, items, type_=ARRAY(kind)))
    rows: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(items, ensure_ascii=False)))
    )
    return column.in_(rows.scalar_subquery())


def current_by_key(
    conn: Connection, table: Table, columns: Sequence[Column[Any]], keys: Collection[str]
) -> list[Row[Any]]:
    """The current rows (``superseded_at IS NULL``) of ``table`` whose ``record_key`` is among
    ``keys``: ``columns`` of each, one row per key at most.

    ``table`` must hold one current row per key at most (a unique index on ``record_key`` where
    ``superseded_at IS NULL``, as ``records`` has). On PostgreSQL each key is looked up on its
    own (a lateral sub-select), so in the one partition of ``records`` its hash names:
    ``record_key = ANY(keys)`` probes every partition for every key (measured: 824 ms against
    25 ms for 5,000 keys among 2,000,000 records). Elsewhere, ``among``.
    """
    if not keys:
        return []
    if backend(conn) != "postgresql":
        query = select(*columns).where(
            among(conn, table.c.record_key, list(keys)), table.c.superseded_at.is_(None)
        )
        return list(conn.execute(query).all())
    wanted = cast(func.array(json_elements(list(keys))), ARRAY(table.c.record_key.type))
    key = select(func.unnest(wanted).label("key")).subquery("k")
    # Every version of the key, by the key alone: whatever the statistics (none, on a store
    # just loaded), the planner can only reach them through the ``record_key`` index, where a
    # condition on any other column in here (``superseded_at IS NULL``) would let it scan a
    # partial index of current rows instead. ``OFFSET 0`` keeps the sub-select a look-up per
    # key (not flattened into a join).
    versions = (
        select(*columns, table.c.superseded_at)
        .where(table.c.record_key == key.c.key)
        .offset(0)
        .lateral("r")
    )
    query = (
        select(*(versions.c[c.name] for c in columns))
        .select_from(key.join(versions, true()))
        .where(versions.c.superseded_at.is_(None))
    )
    return list(conn.execute(query).all())


def by_id(
    conn: Connection,
    table: Table,
    columns: Sequence[Column[Any]],
    ids: Collection[int],
    keys: Mapping[int, str],
) -> list[Row[Any]]:
    """The rows of ``table`` with these ``ids``: ``columns`` of each, then its ``id`` if
    ``columns`` has none, in no order.

    ``keys`` (id → ``record_key``, the partition key of ``records``) is what a caller already
    knows of the rows, such as ingest of the rows it has just written: on PostgreSQL each id
    whose key is given is then looked up, with its key, in the one partition the key names;
    by the id alone, every partition is probed for every id (measured: 350 ms per 5,000 ids
    among 2,000,000 records). Ids without a key, and any a wrong key did not find, are read by
    id alone, so the result is the same whatever ``keys`` holds.
    """
    wanted = list(ids)
    if not wanted:
        return []
    names = [c.name for c in columns]
    names += [] if "id" in names else ["id"]
    found: list[Row[Any]] = []
    if backend(conn) == "postgresql":
        known = {i: keys[i] for i in wanted if i in keys}
        if known:
            found = _by_id_and_key(conn, table, names, known)
            got = {row.id for row in found}
            wanted = [i for i in wanted if i not in got]
        if not wanted:
            return found
    query = select(*(table.c[n] for n in names)).where(among(conn, table.c.id, wanted))
    return found + list(conn.execute(query).all())


def _by_id_and_key(
    conn: Connection, table: Table, names: Sequence[str], keys: Mapping[int, str]
) -> list[Row[Any]]:
    """PostgreSQL: the columns ``names`` of the rows with these (id, key) pairs, one
    primary-key probe each, in the key's partition (a lateral sub-select, as in
    ``current_by_key``)."""
    sent = cast(bindparam(None, json.dumps(keys, ensure_ascii=False)), JSON)
    pairs = func.json_each_text(sent).table_valued("key", "value").render_derived("k")
    pair_id = cast(pairs.c.key, BigInteger)
    pair_key = cast(pairs.c.value, table.c.record_key.type)
    one = (
        select(*(table.c[name] for name in names))
        .where(table.c.id == pair_id, table.c.record_key == pair_key)
        .offset(0)
        .lateral("r")
    )
    return list(
        conn.execute(select(*(one.c[n] for n in names)).select_from(pairs.join(one, true()))).all()
    )
