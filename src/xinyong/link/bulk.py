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
values there are (``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on
SQLite): an expanded ``IN (?, ?, …)`` of thousands of values costs more to compile, and on
PostgreSQL to parse, than the query takes to run.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY


def backend(conn: Connection) -> str:
    return conn.dialect.name


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary-key values for ``table``, in ascending order."""
    if count <= 0:
        return []
    if backend(conn) == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        )
        return sorted(conn.execute(query, {"table": table.name, "n": count}).scalars().all())
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


def among(conn: Connection, column: Column[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` as one bound parameter (see the module docstring)."""
    items = list(values)
    if backend(conn) == "postgresql":
        integer = isinstance(column.type, Integer | BigInteger)
        kind = BigInteger() if integer else column.type
        return column == any_(bindparam(None, items, type_=ARRAY(kind)))
    rows: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(items, ensure_ascii=False)))
    )
    return column.in_(rows.scalar_subquery())
