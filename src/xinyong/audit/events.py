"""Writing and reading audit events.

``record`` appends one event inside the caller's transaction: the event commits with the read or
decision it describes, or not at all. Appends line up on the one ``audit_head`` row (a row lock
on PostgreSQL, the database write lock on SQLite), held until the caller's transaction ends, so
record late in a transaction and keep audited transactions short.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Row, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from xinyong.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    canonical_time,
    event_hash,
    hash_of_values,
    quote_text,
)
from xinyong.audit.tables import audit_events, audit_head
from xinyong.errors import Conflict

HEAD_ID = 1


@dataclass(frozen=True)
class AuditEvent:
    """One link of the chain: who did what to whose file, why, when, with what result."""

    id: int
    at: datetime
    actor: str
    role: str
    purpose: str
    subject: str | None
    action: str
    resource: str | None
    outcome: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": canonical_time(self.at),
            "actor": self.actor,
            "role": self.role,
            "purpose": self.purpose,
            "subject": self.subject,
            "action": self.action,
            "resource": self.resource,
            "outcome": self.outcome,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_row(cls, row: Row[Any]) -> AuditEvent:
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            role=row.role,
            purpose=row.purpose,
            subject=row.subject,
            action=row.action,
            resource=row.resource,
            outcome=row.outcome,
            detail=None if row.detail is None else json.loads(row.detail),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


def record(
    conn: Connection,
    *,
    actor: str,
    role: str,
    purpose: str,
    subject: str | None,
    action: str,
    resource: str | None = None,
    outcome: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain in ``conn``'s transaction and return it.

    ``actor``, ``role``, ``purpose`` and ``action`` are required and non-empty: an access
    without a stated purpose is not recorded, it is refused (``ValueError``). ``detail`` is any
    JSON object; ``at`` (timezone-aware) defaults to now.
    """
    values = prepare_event(
        actor=actor,
        role=role,
        purpose=purpose,
        subject=subject,
        action=action,
        resource=resource,
        outcome=outcome,
        detail=detail,
        at=at,
    )
    return _append(conn, [values])[0]


def record_many(conn: Connection, events: Sequence[Mapping[str, Any]]) -> list[AuditEvent]:
    """Append several events, in the order given, in ``conn``'s transaction.

    Each mapping holds ``record``'s keyword arguments and is checked the same way (one bad
    event refuses the whole lot). The head is taken once for all of them, so a batch costs one
    lock and one statement per table instead of three statements per event; the chain is the
    same as ``record`` called once per event.
    """
    prepared = [prepare_event(**event) for event in events]
    return _append(conn, prepared) if prepared else []


@dataclass(frozen=True, slots=True)
class Head:
    """Where the chain ends: the last event's position and hash (``audit_head``'s row)."""

    seq: int
    hash: str


def append_prepared(conn: Connection, prepared: Sequence[dict[str, Any]]) -> Head:
    """Append events already checked by ``prepare_event`` (at least one), in order, in ``conn``'s
    transaction; the chain's head after them. One head lock and one ``COPY`` for the lot."""
    rows = _write_chained(conn, list(prepared))
    return Head(rows[-1]["id"], rows[-1]["hash"])


def append_after(
    conn: Connection,
    head: Head,
    prepared: Sequence[dict[str, Any]],
    also: Mapping[Table, Sequence[Mapping[str, Any]]] | None = None,
) -> Head | None:
    """PostgreSQL: append ``prepared`` (at least one) after ``head`` and insert the ``also`` rows
    (table → rows, all with the same keys) in ONE statement that commits by itself — one round
    trip for the whole group. ``conn`` must not be in a transaction.

    ``head`` is where the caller's own last append left the chain. The events are hashed after
    it before the statement is sent; the statement moves the head only if it is still exactly
    there (same ``seq`` and ``hash``, under the head's row lock, rechecked after waiting for it)
    and no event holds a position past it; every insert writes only if the head moved. So
    either everything is written and committed, chained after ``head`` (the new head is
    returned), or nothing is written (None: another process appended meanwhile, or the head is
    missing or behind the events) and the caller appends the ordinary way
    (``append_prepared`` in a transaction), which sees why.
    """
    driver: Any = conn.connection.driver_connection
    driver.autocommit = True  # the one statement is its own transaction
    try:
        return _append_one(driver, head, prepared, also)
    finally:
        driver.autocommit = False


def append_locked(
    conn: Connection,
    prepared: Sequence[dict[str, Any]],
    also: Mapping[Table, Sequence[Mapping[str, Any]]] | None = None,
) -> Head | None:
    """PostgreSQL: ``append_after`` in ``conn``'s transaction, after taking the head's row lock
    and reading it there: another process's append is waited for, never missed. Three round
    trips (the lock, the statement, the commit) where ``append_prepared``'s way takes seven.
    None, with nothing written, when there is no head row or an event already lies past the head
    (the caller appends the ordinary way, which creates the one and refuses the other)."""
    found = conn.execute(_LOCK_HEAD).first()
    if found is None:
        return None
    head = Head(found.seq, found.hash)
    return _append_one(conn.connection.driver_connection, head, prepared, also)


def _append_one(
    driver: Any,
    head: Head,
    prepared: Sequence[dict[str, Any]],
    also: Mapping[Table, Sequence[Mapping[str, Any]]] | None,
) -> Head | None:
    """``append_after``'s statement on the driver's connection as it is (in a transaction or
    not): the new head, or None when nothing was written."""
    events, last = _chain_json(prepared, head.seq + 1, head.hash)
    tables = {table: listed for table, listed in (also or {}).items() if listed}
    params: dict[str, Any] = {
        "seq": head.seq,
        "hash": head.hash,
        "count": len(prepared),
        "last": last,
        "rows_0": events,
    }
    for n, table_rows in enumerate(tables.values(), start=1):
        params[f"rows_{n}"] = json.dumps(list(table_rows), default=_json_time, ensure_ascii=False)
    key = tuple((table.name, tuple(table_rows[0])) for table, table_rows in tables.items())
    statement = _FAST.get(key) or _fast_statement(key)
    moved = driver.execute(statement, params).fetchone()[0]
    return Head(head.seq + len(prepared), last) if moved else None


class SqliteAppend:
    """SQLite: a group appended on the driver's own connection (``sqlite3``), with SQL text
    built once and each column's value converted by its SQLAlchemy type's bind processing built
    once — the rows written are the ones ``append_prepared`` and an ``insert()`` write, without
    compiling, caching and executing four statements through SQLAlchemy per group.

    ``also``: the other tables a group inserts into (rows with all their columns but the
    autoincremented ones), by name. ``dialect``: the engine's (the bind processing of its types).
    """

    def __init__(self, dialect: Dialect, also: Sequence[Table] = ()) -> None:
        self._inserts = {
            table.name: _SqliteInsert(table, dialect) for table in (audit_events, *also)
        }

    def append(
        self,
        driver: sqlite3.Connection,
        prepared: Sequence[dict[str, Any]],
        also: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> Head | None:
        """Append ``prepared`` (at least one) after the head and insert the ``also`` rows, in
        ``driver``'s transaction, which the caller began with ``BEGIN IMMEDIATE`` (the write
        lock: no other appender is between the head's read and its update) and commits. The
        head is read here, every time, and checked as ``append_prepared`` checks it (no event
        at or past the first position taken: ``Conflict``). None, with nothing written, if the
        chain has no head row yet (``append_prepared`` creates it, or refuses to)."""
        found = driver.execute(_SQLITE_HEAD).fetchone()
        if found is None:
            return None
        seq, prev_hash = int(found[0]), str(found[1])
        if driver.execute(_SQLITE_TAKEN, (seq + 1,)).fetchone() is not None:
            raise _fork(seq)
        rows = _chain(list(prepared), seq + 1, prev_hash)
        try:
            self._inserts["audit_events"].write(driver, rows)
        except sqlite3.IntegrityError as error:
            raise _fork(seq) from error
        for name, table_rows in (also or {}).items():
            self.insert(driver, name, table_rows)
        head = Head(seq + len(rows), rows[-1]["hash"])
        driver.execute(_SQLITE_SET_HEAD, (head.seq, head.hash))
        return head

    def insert(
        self, driver: sqlite3.Connection, table: str, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert ``rows`` into ``table`` (one of ``also``) in ``driver``'s transaction."""
        if rows:
            self._inserts[table].write(driver, rows)


class _SqliteInsert:
    """One table's ``INSERT`` on the ``sqlite3`` driver: the columns a row gives (all but an
    autoincremented key), each with its type's bind processing for ``dialect``."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        columns = [column for column in table.columns if column is not table.autoincrement_column]
        self.names = tuple(column.name for column in columns)
        self.processors = tuple(
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
        )
        self.pairs = tuple(zip(self.names, self.processors, strict=True))
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(self.names)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )

    def write(self, driver: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        pairs = self.pairs
        driver.executemany(
            self.sql,
            [
                [row[name] if process is None else process(row[name]) for name, process in pairs]
                for row in rows
            ],
        )


_SQLITE_HEAD = f"SELECT seq, hash FROM audit_head WHERE id = {HEAD_ID}"
_SQLITE_TAKEN = "SELECT id FROM audit_events WHERE id >= ? LIMIT 1"
_SQLITE_SET_HEAD = f"UPDATE audit_head SET seq = ?, hash = ? WHERE id = {HEAD_ID}"


#: The one-statement appends by the other tables they also write (name and columns).
_FAST: dict[tuple[tuple[str, tuple[str, ...]], ...], str] = {}


def _fast_statement(key: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    def insert_from_json(table: str, columns: Sequence[str], n: int) -> str:
        names = ", ".join(columns)
        return (
            f"w_{n} AS (INSERT INTO {table} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{table}, CAST(%(rows_{n})s AS json)) "
            "WHERE EXISTS (SELECT FROM head))"
        )

    parts = [
        "head AS (UPDATE audit_head SET seq = seq + %(count)s, hash = %(last)s "
        f"WHERE id = {HEAD_ID} AND seq = %(seq)s AND hash = %(hash)s "
        # the newest position from the id index's end (an EXISTS may be planned as a scan)
        "AND (SELECT coalesce(max(id), 0) FROM audit_events) <= %(seq)s RETURNING seq)",
        insert_from_json("audit_events", _COLUMNS, 0),
        *(insert_from_json(table, columns, n) for n, (table, columns) in enumerate(key, 1)),
    ]
    statement = f"WITH {', '.join(parts)} SELECT count(*) FROM head"
    _FAST[key] = statement
    return statement


def _json_time(value: object) -> str:
    """Dates and aware times as ISO text for ``json_populate_recordset`` (as the column types'
    bind processing would give them; a naive time is refused as ``UTCDateTime`` refuses it)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def prepare_event(
    *,
    actor: str,
    role: str,
    purpose: str,
    subject: str | None,
    action: str,
    resource: str | None = None,
    outcome: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One event's checked column values (without its place in the chain)."""
    if not _plain_texts(actor, role, purpose, action, subject, resource, outcome):
        fields = {"actor": actor, "role": role, "purpose": purpose, "action": action}
        for name, value in fields.items():
            _check_text(name, value, required=True)
        for name, optional in (("subject", subject), ("resource", resource), ("outcome", outcome)):
            _check_text(name, optional, required=False)
    detail_text = _detail_text(detail)
    when = datetime.now(UTC) if at is None else at
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError("at must be a timezone-aware datetime")
    return {
        "at": when.astimezone(UTC),
        "actor": actor,
        "role": role,
        "purpose": purpose,
        "subject": subject,
        "action": action,
        "resource": resource,
        "outcome": outcome,
        "detail": detail_text,
    }


def _append(conn: Connection, prepared: list[dict[str, Any]]) -> list[AuditEvent]:
    """Chain ``prepared`` events after the head, write them, move the head; in order."""
    events = []
    for row in _write_chained(conn, prepared):
        detail = row["detail"]
        events.append(
            AuditEvent(**{**row, "detail": None if detail is None else json.loads(detail)})
        )
    return events


def _write_chained(conn: Connection, prepared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows written: ``prepared`` chained after the head, the head moved past them."""
    last, prev_hash = _advance_head(conn, len(prepared))
    first = last - len(prepared) + 1
    # Under the head's lock no other appender is writing: an event already at or after the
    # first position taken means the head is behind the events. This check is what refuses a
    # fork: on PostgreSQL, where ``audit_events`` is partitioned by time, even the primary key
    # contains ``at`` (the IntegrityError below is SQLite's primary key).
    if conn.execute(_TAKEN, {"first": first}).first() is not None:
        raise _fork(first - 1)
    rows = _chain(prepared, first, prev_hash)
    try:
        _insert(conn, rows)
    except IntegrityError as error:
        raise _fork(first - 1) from error
    conn.execute(_SET_HASH, {"new_hash": rows[-1]["hash"]})
    return rows


def _chain_json(
    prepared: Sequence[Mapping[str, Any]], first: int, prev_hash: str
) -> tuple[str, str]:
    """``_chain``'s rows as one JSON array (``at``, aware by ``prepare_event``, as ISO text
    as ``_json_time`` writes it: the JSON ``json.dumps`` would write), and the last hash. Each
    text field is quoted once, for its hash and its row (``chain.hash_of_values``): no row
    dicts, no encoder pass, no ``default`` call per row."""
    quote = quote_text  # the required fields are text (prepare_event)
    parts = []
    seq = first
    for values in prepared:
        at: datetime = values["at"]
        actor = quote(values["actor"])
        role = quote(values["role"])
        purpose = quote(values["purpose"])
        subject = "null" if (text := values["subject"]) is None else quote(text)
        action = quote(values["action"])
        resource = "null" if (text := values["resource"]) is None else quote(text)
        outcome = "null" if (text := values["outcome"]) is None else quote(text)
        detail = "null" if (text := values["detail"]) is None else quote(text)
        prev = quote(prev_hash)
        digest = hash_of_values(
            action=action, actor=actor, at=f'"{canonical_time(at)}"', detail=detail,
            outcome=outcome, prev=prev, purpose=purpose, resource=resource, role=role,
            subject=subject,
        )  # fmt: skip
        parts.append(
            f'{{"id":{seq},"at":"{at.isoformat()}","actor":{actor},"role":{role},'
            f'"purpose":{purpose},"subject":{subject},"action":{action},'
            f'"resource":{resource},"outcome":{outcome},"detail":{detail},'
            f'"prev_hash":{prev},"hash":"{digest}"}}'
        )
        prev_hash = digest
        seq += 1
    return f"[{','.join(parts)}]", prev_hash


def _chain(prepared: list[dict[str, Any]], first: int, prev_hash: str) -> list[dict[str, Any]]:
    """``prepared`` as rows at positions ``first``…, each hashed after the one before."""
    rows: list[dict[str, Any]] = []
    for seq, values in enumerate(prepared, start=first):
        digest = event_hash(**values, prev_hash=prev_hash)
        rows.append({"id": seq, "hash": digest, "prev_hash": prev_hash, **values})
        prev_hash = digest
    return rows


# The append's statements, built once (building and cache-keying them per group cost more CPU
# than running them).
_BUMP = (
    update(audit_head)
    .where(audit_head.c.id == HEAD_ID)
    .values(seq=audit_head.c.seq + bindparam("count"))
    .returning(audit_head.c.seq, audit_head.c.hash)
)
_LOCK_HEAD = (
    select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID).with_for_update()
)
_TAKEN = select(audit_events.c.id).where(audit_events.c.id >= bindparam("first")).limit(1)
_SET_HASH = update(audit_head).where(audit_head.c.id == HEAD_ID).values(hash=bindparam("new_hash"))
_INSERT = insert(audit_events)
_COLUMNS = tuple(column.name for column in audit_events.columns)
_COPY = f"COPY audit_events ({', '.join(_COLUMNS)}) FROM STDIN"


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One statement for all ``rows``: ``COPY`` on PostgreSQL (a group of thousands in one
    stream instead of one INSERT each), a multi-row INSERT elsewhere."""
    if conn.dialect.name != "postgresql" or len(rows) < 8:
        conn.execute(_INSERT, rows)
        return
    driver: Any = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row([row[name] for name in _COLUMNS])
    except driver.IntegrityError as error:  # the same refusal as the INSERT's
        raise IntegrityError(_COPY, None, error) from error


def events_for_subject(conn: Connection, subject: str) -> list[AuditEvent]:
    """Every event about ``subject``, oldest first: who looked at this file, and why."""
    return list_events(conn, subject=subject)


def list_events(
    conn: Connection, *, subject: str | None = None, limit: int | None = None
) -> list[AuditEvent]:
    """Events in chain order, all or one subject's; with ``limit``, the last ``limit`` of them."""
    query = select(audit_events)
    if subject is not None:
        query = query.where(audit_events.c.subject == subject)
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        newest = query.order_by(audit_events.c.id.desc()).limit(limit).subquery()
        rows = conn.execute(select(newest).order_by(newest.c.id)).all()
    else:
        rows = conn.execute(query.order_by(audit_events.c.id)).all()
    return [AuditEvent.from_row(row) for row in rows]


def _fork(head: int) -> Conflict:
    return Conflict(
        f"审计链头与事件不符，拒绝分叉 / the audit head (event {head}) does not match the "
        "events; refusing to fork the chain (run `xinyong audit verify`)"
    )


def _advance_head(conn: Connection, count: int = 1) -> tuple[int, str]:
    """Take the next ``count`` positions in the chain: lock the head row, count it up; (last
    seq taken, hash of the event before the first).

    The UPDATE is the serialising step: a concurrent appender waits on it until this
    transaction ends, then sees the new head.
    """
    row = conn.execute(_BUMP, {"count": count}).one_or_none()
    if row is None:
        _create_head(conn)
        row = conn.execute(_BUMP, {"count": count}).one()
    return int(row.seq), str(row.hash)


def _create_head(conn: Connection) -> None:
    """The head row of an empty chain; refuses to start over a chain whose head is gone."""
    values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH}
    dialect = conn.dialect.name
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(audit_head).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(audit_head).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the store supports these two only
        raise NotImplementedError(dialect)
    # RETURNING, not rowcount: the drivers do not all report a row count for this statement.
    created = conn.execute(statement.returning(audit_head.c.id)).first() is not None
    if created and conn.execute(select(func.count()).select_from(audit_events)).scalar_one():
        raise Conflict(
            "审计链头记录缺失而已有事件，拒绝重新开始 / the audit chain's head row is missing "
            "but events exist; refusing to start a new chain (run `xinyong audit verify`)"
        )


def _plain_texts(
    actor: Any, role: Any, purpose: Any, action: Any, subject: Any, resource: Any, outcome: Any
) -> bool:
    """Whether every field passes ``_check_text`` (the first four non-blank text, the others
    text or None), checked at once: one join, one search for NUL and one encoding instead of
    seven calls. False sends the fields through ``_check_text`` one by one, which says what
    is wrong."""
    try:  # TypeError: a value is not text; UnicodeEncodeError: a lone surrogate
        texts = "".join(
            (
                actor, role, purpose, action,
                "" if subject is None else subject,
                "" if resource is None else resource,
                "" if outcome is None else outcome,
            )
        )  # fmt: skip
        texts.encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return False
    return "\x00" not in texts and bool(
        actor.strip() and role.strip() and purpose.strip() and action.strip()
    )


def _check_text(name: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{name} is required")
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{name} is not valid Unicode text") from error


def _detail_text(detail: Mapping[str, Any] | None) -> str | None:
    if detail is None:
        return None
    if type(detail) is not dict:
        if not isinstance(detail, Mapping):
            raise ValueError("detail must be a mapping (a JSON object)")
        detail = dict(detail)
    try:
        text = canonical_json(detail)
        text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as error:
        raise ValueError(f"detail is not plain JSON: {error}") from error
    # With text keys only, reading the text back and writing it again gives the same text (the
    # round trip can change only keys that are not text: 1 → "1", sorted otherwise); so the
    # round trip is taken only for those, which it refuses when they sort differently.
    if not _text_keys_only(detail) and canonical_json(json.loads(text)) != text:
        raise ValueError("detail does not survive a JSON round trip (non-string keys?)")
    return text


def _text_keys_only(value: object) -> bool:
    """Whether every mapping in ``value`` (JSON-serialisable) has text keys only (looking into
    containers only: one call per dict, list or tuple, none per scalar)."""
    if isinstance(value, dict):
        if set(map(type, value)) - _TEXT:
            return False
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return True
    for item in items:  # noqa: SIM110 — all() of a generator costs a frame and a call per item
        if isinstance(item, _CONTAINERS) and not _text_keys_only(item):
            return False
    return True


_TEXT = {str}
_CONTAINERS = (dict, list, tuple)
