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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, text


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
        return sorted(conn.execute(query, {"table": table.name, "n": count}).scalars())
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
