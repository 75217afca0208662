"""An agency's replica of the restriction index: an embedded SQLite file fed from JetStream.

An implementing agency (a railway, an airline) keeps its own copy so it can decide at the ticket
counter without asking the platform each time, and keeps deciding when the link is down. Every
decision says how stale the copy is: the last stream sequence and event time applied, when the
copy last caught up with the stream, and how many seconds ago that was.

A row is (subject, action, measure) from one fact of the platform's index — the ``entry`` key,
made of the event's origin, ``list_id``, ``entry_id`` and, for a person reached through an
enterprise, ``via_subject``, ``role`` and ``relation_record_id`` — so two judgments or two
tax-rating years behind the same measure are two rows, and lifting one leaves the other. The
platform sends one event per fact, with the measures it carries and each measure's actions
(feed contract 2, docs/feed.md); the replica expands it into these rows, replacing the fact's
rows as a whole. Events of contract 1 (one per action and measure) still apply row by row.
The subject's identifiers travel with each event (``identifiers``), so the replica finds a
subject by any code the platform's check accepts (a USCC, the organisation code inside it, a
citizen number in either form). A decision combines the rows in force on the day as the
platform's check does (``xinyong.measures.decisions.combine``: the strongest effect, ``until``
the latest end among its rows).

Applying is idempotent and order-tolerant: each row keeps the origin sequence of the event that
set it, and an older or repeated event changes nothing. The stream position is saved in the same
transaction as the rows it produced, so a sync killed at any point resumes where it left off.

A court's single lifting (单次解除) arrives as ``restriction.lifted_once`` (a version of the
lifting record: action, window, the lists it lifts, the decision and its legal basis) or
``restriction.lifting_withdrawn``; the replica keeps one row per lifting record (origin,
``record_key``), the latest version winning, and applies it as ``check`` does
(``xinyong.measures.decisions.apply_liftings``): a row from a list the lifting lifts, for its
action, on a day in its window, becomes a ``permit`` naming the lifting (``lifted_by``). A file
of version 2 gains the ``liftings`` table when opened.

Events that name no entry (written before events carried it) keep the old shape: one row per
(subject, action, measure) with an empty ``entry``, which the next event for that measure
replaces. A file made by that older version is upgraded when opened (its rows become such rows);
``sync(…, rebuild=True)`` (``xinyong replica sync --rebuild``) replays the whole stream into it,
in one transaction, so it answers from entries wherever the stream's events name them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from xinyong.codes.identifiers import identify
from xinyong.errors import InvalidCode, UnusableInput
from xinyong.feed.events import Event
from xinyong.feed.stream import FeedStream, connected, ensure_stream, pull_subscription
from xinyong.measures.decisions import combine
from xinyong.measures.tables import EFFECTS

#: The replica file's layout; ``meta.schema`` holds it (absent in files of version 1, whose
#: ``restrictions`` had one row per (subject, action, measure) and no ``identifiers``; files of
#: version 2 have no ``liftings``).
SCHEMA_VERSION = 3

#: The events of a court's single lifting (单次解除), and the state each leaves its row in.
LIFTING_EVENTS = {"restriction.lifted_once": "active", "restriction.lifting_withdrawn": "withdrawn"}

_RESTRICTIONS = """
CREATE TABLE IF NOT EXISTS restrictions (
    subject_code TEXT NOT NULL,
    action TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    state TEXT NOT NULL,
    effect TEXT,
    valid_from TEXT,
    valid_to TEXT,
    implementing_agency TEXT,
    legal_basis TEXT NOT NULL,
    origin TEXT NOT NULL,
    origin_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    list_id TEXT,
    entry_id INTEGER,
    via_subject TEXT,
    role TEXT,
    PRIMARY KEY (subject_code, action, measure_id, entry)
)"""
_LIFTINGS = """
CREATE TABLE IF NOT EXISTS liftings (
    origin TEXT NOT NULL,
    record_key TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    state TEXT NOT NULL,
    action TEXT,
    valid_from TEXT,
    valid_to TEXT,
    lists TEXT NOT NULL,
    record_id INTEGER,
    record_type TEXT,
    document_no TEXT,
    authority TEXT,
    legal_basis TEXT NOT NULL,
    origin_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (origin, record_key)
)"""
_SCHEMA = (
    _RESTRICTIONS,
    _LIFTINGS,
    "CREATE INDEX IF NOT EXISTS liftings_subject ON liftings (subject_code, action)",
    "CREATE TABLE IF NOT EXISTS identifiers (scheme TEXT NOT NULL, value TEXT NOT NULL, "
    "subject_code TEXT NOT NULL, PRIMARY KEY (scheme, value, subject_code))",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
#: Version 1's columns, all kept by version 2.
_V1_COLUMNS = (
    "subject_code, action, measure_id, state, effect, valid_from, valid_to, "
    "implementing_agency, legal_basis, origin, origin_seq, event_id"
)


@dataclass(frozen=True)
class Staleness:
    """How current a replica is."""

    last_seq: int
    last_event_at: datetime | None
    synced_at: datetime | None
    age_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "last_seq": self.last_seq,
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else None,
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 3),
        }


@dataclass(frozen=True)
class ReplicaDecision:
    subject: str
    action: str
    at: date
    decision: str
    until: date | None
    measures: list[dict[str, Any]]
    staleness: Staleness

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "action": self.action,
            "at": self.at.isoformat(),
            "decision": self.decision,
            "until": self.until.isoformat() if self.until else None,
            "measures": self.measures,
            "staleness": self.staleness.as_json(),
            "source": "replica",
        }


class _InForce(NamedTuple):
    """A row in force, as ``combine`` reads it."""

    effect: str
    until: date | None


@dataclass(frozen=True)
class _Lifting:
    """A court's single lifting in force on the day, as the replica holds it."""

    valid_from: date
    valid_to: date
    lists: frozenset[str]
    record_id: int | None
    record_type: str | None
    document_no: str | None
    authority: str | None
    legal_basis: tuple[str, ...]
    record_key: str

    def as_json(self) -> dict[str, Any]:
        """What a lifted measure names: the decision, its window and its legal basis."""
        return {
            "record_type": self.record_type,
            "document_no": self.document_no,
            "record_key": self.record_key,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "legal_basis": list(self.legal_basis),
        }


def entry_key(event: Event) -> str:
    """The fact a restriction event's row comes from, as the replica keys it: origin, list and
    entry, and (a person reached through an enterprise) the enterprise, role and relation
    record. Empty for an event that names no entry."""
    p = event.payload
    if p.get("entry_id") is None:
        return ""
    key = f"{event.origin}/{p.get('list_id')}/{p['entry_id']}"
    via = (p.get("via_subject"), p.get("role"), p.get("relation_record_id"))
    if any(part is not None for part in via):
        key += "/" + "/".join("" if part is None else str(part) for part in via)
    return key


class Replica:
    """One replica file. Use as a context manager, or call ``close``."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        path = Path(path)
        if not create and not path.exists():
            raise UnusableInput(
                f"副本文件不存在 / no replica at {path}; 先运行 xinyong replica sync / "
                "run `xinyong replica sync` first"
            )
        self._depth = 0
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            if not self._current():  # reading needs no lock: a sync may be writing meanwhile
                with self._transaction():
                    self._prepare()
        except sqlite3.DatabaseError as exc:
            raise UnusableInput(f"不是副本文件 / not a replica file: {path} ({exc})") from exc

    def _current(self) -> bool:
        """Whether the file has this version's layout already."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        return {"restrictions", "liftings", "identifiers", "meta"} <= tables and self._meta(
            "schema"
        ) == str(SCHEMA_VERSION)

    def _prepare(self) -> None:
        """Create the tables, or upgrade a file of an older layout (in the open transaction)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(restrictions)")}
        if columns and "entry" not in columns:  # version 1: one row per measure, no identifiers
            self.db.execute("ALTER TABLE restrictions RENAME TO restrictions_v1")
        for statement in _SCHEMA:
            self.db.execute(statement)
        if columns and "entry" not in columns:
            self.db.execute(
                f"INSERT INTO restrictions ({_V1_COLUMNS}, entry) "
                f"SELECT {_V1_COLUMNS}, '' FROM restrictions_v1"
            )
            self.db.execute("DROP TABLE restrictions_v1")
            codes = self.db.execute("SELECT DISTINCT subject_code FROM restrictions").fetchall()
            self._learn(pair for (code,) in codes for pair in _own_identifiers(code))
        if self._meta("schema") != str(SCHEMA_VERSION):
            self._set("schema", str(SCHEMA_VERSION))

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def last_seq(self) -> int:
        return int(self._meta("last_seq") or 0)

    def apply(self, batch: Sequence[tuple[int, Event]]) -> int:
        """Apply (stream sequence, event) pairs in one transaction; returns rows changed."""
        changed = 0
        known_as: set[tuple[str, str, str]] = set()
        with self._transaction():
            for _seq, event in batch:
                changed += self._apply_one(event, known_as)
            self._learn(known_as)
            if batch:
                last_seq, last = batch[-1]
                self._set("last_seq", str(max(last_seq, self.last_seq)))
                self._set("last_event_at", last.occurred_at.isoformat())
        return changed

    def _apply_one(self, event: Event, known_as: set[tuple[str, str, str]]) -> int:
        if not event.event_type.startswith("restriction.") or event.subject_code is None:
            return 0
        if event.event_type in LIFTING_EVENTS:
            return self._apply_lifting(event, known_as)
        p = event.payload
        code = event.subject_code
        known_as.update(_identifiers(code, p.get("identifiers")))
        if isinstance(p.get("measures"), list):
            return self._apply_fact(event, code)
        entry = entry_key(event)
        key = (code, str(p.get("action")), str(p.get("measure_id")), entry)
        row = self.db.execute(
            "SELECT origin, origin_seq FROM restrictions "
            "WHERE subject_code = ? AND action = ? AND measure_id = ? AND entry = ?",
            key,
        ).fetchone()
        if row is not None and row[0] == event.origin and row[1] >= event.seq:
            return 0
        if entry:  # a row from an event that named no entry: a later event replaces it, as before
            self.db.execute(
                "DELETE FROM restrictions WHERE subject_code = ? AND action = ? "
                "AND measure_id = ? AND entry = '' AND NOT (origin = ? AND origin_seq >= ?)",
                (*key[:3], event.origin, event.seq),
            )
        state = "active" if event.event_type == "restriction.added" else "lifted"
        self.db.execute(
            "INSERT OR REPLACE INTO restrictions (subject_code, action, measure_id, entry, state, "
            "effect, valid_from, valid_to, implementing_agency, legal_basis, origin, origin_seq, "
            "event_id, list_id, entry_id, via_subject, role) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                state,
                p.get("effect"),
                p.get("valid_from"),
                p.get("valid_to"),
                p.get("implementing_agency"),
                json.dumps(p.get("legal_basis") or [], ensure_ascii=False),
                event.origin,
                event.seq,
                event.event_id,
                p.get("list_id"),
                p.get("entry_id"),
                p.get("via_subject"),
                p.get("role"),
            ),
        )
        return 1

    def _apply_fact(self, event: Event, code: str) -> int:
        """An event of one fact (the platform's index row) with the measures it carries: its
        rows, one per measure and action, replace every row of that fact (and the rows of an
        event that named no entry for the same measures and actions), unless a later event set
        them."""
        p = event.payload
        entry = entry_key(event)
        newest = self.db.execute(
            "SELECT max(origin_seq) FROM restrictions WHERE subject_code = ? AND entry = ? "
            "AND origin = ?",
            (code, entry, event.origin),
        ).fetchone()[0]
        if newest is not None and newest >= event.seq:
            return 0
        self.db.execute(
            "DELETE FROM restrictions WHERE subject_code = ? AND entry = ?", (code, entry)
        )
        state = "active" if event.event_type == "restriction.added" else "lifted"
        rows = []
        for m in p["measures"]:
            if not isinstance(m, dict) or not isinstance(m.get("actions"), list):
                continue
            basis = json.dumps(m.get("legal_basis") or [], ensure_ascii=False)
            for action in m["actions"]:
                rows.append(
                    (
                        code, str(action), str(m.get("measure_id")), entry, state, m.get("effect"),
                        p.get("valid_from"), p.get("valid_to"), m.get("implementing_agency"),
                        basis, event.origin, event.seq, event.event_id, p.get("list_id"),
                        p.get("entry_id"), p.get("via_subject"), p.get("role"),
                    )
                )  # fmt: skip
        self.db.executemany(
            "DELETE FROM restrictions WHERE subject_code = ? AND action = ? AND measure_id = ? "
            "AND entry = '' AND NOT (origin = ? AND origin_seq >= ?)",
            [(code, row[1], row[2], event.origin, event.seq) for row in rows],
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO restrictions (subject_code, action, measure_id, entry, state, "
            "effect, valid_from, valid_to, implementing_agency, legal_basis, origin, origin_seq, "
            f"event_id, list_id, entry_id, via_subject, role) VALUES ({', '.join('?' * 17)})",
            rows,
        )
        return 1

    def _apply_lifting(self, event: Event, known_as: set[tuple[str, str, str]]) -> int:
        """A single lifting's version: the row of its record (origin, ``record_key``), replaced
        by a later event only; a withdrawn version keeps its row, marked so."""
        p = event.payload
        code = event.subject_code
        if code is None or not p.get("record_key"):
            return 0
        known_as.update(_identifiers(code, p.get("identifiers")))
        key = (event.origin, str(p["record_key"]))
        row = self.db.execute(
            "SELECT origin_seq FROM liftings WHERE origin = ? AND record_key = ?", key
        ).fetchone()
        if row is not None and row[0] >= event.seq:
            return 0
        lists = p.get("lists")
        self.db.execute(
            "INSERT OR REPLACE INTO liftings (origin, record_key, subject_code, state, action, "
            "valid_from, valid_to, lists, record_id, record_type, document_no, authority, "
            "legal_basis, origin_seq, event_id) "
            f"VALUES ({', '.join('?' * 15)})",
            (
                *key,
                code,
                LIFTING_EVENTS[event.event_type],
                p.get("action"),
                p.get("valid_from"),
                p.get("valid_to"),
                json.dumps([str(n) for n in lists] if isinstance(lists, list) else []),
                p.get("record_id"),
                p.get("record_type"),
                p.get("document_no"),
                p.get("authority"),
                json.dumps(p.get("legal_basis") or [], ensure_ascii=False),
                event.seq,
                event.event_id,
            ),
        )
        return 1

    def _learn(self, known_as: Iterable[tuple[str, str, str]]) -> None:
        """Remember (scheme, value) → subject code pairs."""
        self.db.executemany("INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?)", sorted(known_as))

    def mark_synced(self, now: datetime | None = None) -> None:
        """Record that the replica has just caught up with the stream."""
        with self._transaction():
            self._set("synced_at", (now or datetime.now(UTC)).isoformat())

    def _set(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction; inside a rebuild's, part of it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        finally:
            self._depth = 0
        self.db.commit()

    def begin_rebuild(self) -> None:
        """Empty the replica in a transaction left open: what is applied next lands together at
        ``end_rebuild(commit=True)``; until then readers see the old rows, and
        ``end_rebuild(commit=False)`` (or a crash) leaves the replica as it was."""
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self.db.execute("DELETE FROM restrictions")
        self.db.execute("DELETE FROM liftings")
        self.db.execute("DELETE FROM identifiers")
        self.db.execute("DELETE FROM meta WHERE key IN ('last_seq', 'last_event_at')")

    def end_rebuild(self, *, commit: bool) -> None:
        if not self._depth:
            return
        self._depth = 0
        if commit:
            self.db.commit()
        else:
            self.db.rollback()

    def staleness(self, now: datetime | None = None) -> Staleness:
        now = now or datetime.now(UTC)
        last_event = self._meta("last_event_at")
        synced = self._meta("synced_at")
        synced_at = datetime.fromisoformat(synced) if synced else None
        return Staleness(
            last_seq=self.last_seq,
            last_event_at=datetime.fromisoformat(last_event) if last_event else None,
            synced_at=synced_at,
            age_seconds=(now - synced_at).total_seconds() if synced_at else None,
        )

    def subject_codes(self, subject: str) -> list[str]:
        """The subject codes the replica's rows may use for ``subject``, found as the platform
        finds a subject (``xinyong.store.queries.subject_id_for``): by ``lookup_keys``, the
        code's identifier, then a USCC's organisation code."""
        try:
            ident = identify(subject)
        except InvalidCode as exc:
            raise UnusableInput(f"{subject!r}: {exc.bilingual()}") from exc
        for scheme, value in ident.lookup_keys:
            codes = [
                str(code)
                for (code,) in self.db.execute(
                    "SELECT subject_code FROM identifiers WHERE scheme = ? AND value = ? "
                    "ORDER BY subject_code",
                    (scheme, value),
                )
            ]
            if codes:
                return codes
        return []

    def check(self, subject: str, action: str, *, at: date | None = None) -> ReplicaDecision:
        """A decision from the local copy, with its staleness. ``subject`` is a code."""
        try:
            code = identify(subject).value
        except InvalidCode as exc:
            raise UnusableInput(f"{subject!r}: {exc.bilingual()}") from exc
        if not action or not action.replace("_", "").isalnum():
            raise UnusableInput(f"行为标识无效 / bad action id {action!r}")
        day = at or date.today()
        codes = self.subject_codes(subject)
        liftings = self._liftings(codes, action, day)
        found: list[dict[str, Any]] = []
        in_force: list[_InForce] = []
        for row in self._active(codes, action):
            measure_id, effect, vfrom, vto, agency, basis, list_id, entry_id, via, role = row
            if vfrom and date.fromisoformat(vfrom) > day:
                continue
            if vto and date.fromisoformat(vto) < day:
                continue
            # An effect this replica does not know is taken as the strongest (fail closed).
            effect = effect if effect in EFFECTS else "deny"
            until = date.fromisoformat(vto) if vto else None
            measure: dict[str, Any] = {
                "measure_id": measure_id,
                "effect": effect,
                "valid_from": vfrom,
                "valid_to": vto,
                "implementing_agency": agency,
                "legal_basis": json.loads(basis),
                "list_id": list_id,
                "entry_id": entry_id,
                "via": {"subject": via, "role": role} if via else None,
            }
            # As ``check`` (``decisions.lifting_of``): a single lifting of this action in force
            # on the day, of the row's list, makes it a permit for the lifting's window.
            lifting = None if effect == "prefer" else next(
                (f for f in liftings if list_id is not None and list_id in f.lists), None
            )  # fmt: skip
            if lifting is not None:
                effect, until = "permit", lifting.valid_to
                measure |= {
                    "effect": "permit",
                    "valid_from": lifting.valid_from.isoformat(),
                    "valid_to": lifting.valid_to.isoformat(),
                    "lifted_by": lifting.as_json(),
                }
            in_force.append(_InForce(effect, until))
            found.append(measure)
        outcome, until = combine(in_force)
        return ReplicaDecision(code, action, day, outcome, until, found, self.staleness())

    def _liftings(self, codes: list[str], action: str, day: date) -> list[_Lifting]:
        """The single liftings of these subject codes for ``action`` whose window holds ``day``
        (both ends inclusive; a lifting without both ends never holds), not withdrawn, in the
        platform's record order (``decisions.liftings_for``)."""
        if not codes:
            return []
        marks = ", ".join("?" * len(codes))
        rows = self.db.execute(
            "SELECT valid_from, valid_to, lists, record_id, record_type, document_no, authority, "
            f"legal_basis, record_key FROM liftings WHERE subject_code IN ({marks}) "
            "AND action = ? AND state = 'active' AND valid_from IS NOT NULL "
            "AND valid_to IS NOT NULL AND valid_from <= ? AND valid_to >= ? "
            "ORDER BY origin, record_id, record_key",
            (*codes, action, day.isoformat(), day.isoformat()),
        ).fetchall()
        return [
            _Lifting(
                valid_from=date.fromisoformat(vfrom),
                valid_to=date.fromisoformat(vto),
                lists=frozenset(json.loads(lists)),
                record_id=record_id,
                record_type=record_type,
                document_no=document_no,
                authority=authority,
                legal_basis=tuple(json.loads(basis)),
                record_key=record_key,
            )
            for vfrom, vto, lists, record_id, record_type, document_no, authority, basis,
            record_key in rows
        ]  # fmt: skip

    def _active(self, codes: list[str], action: str) -> list[tuple[Any, ...]]:
        """The active rows of these subject codes for ``action``."""
        if not codes:
            return []
        marks = ", ".join("?" * len(codes))
        return self.db.execute(
            "SELECT measure_id, effect, valid_from, valid_to, implementing_agency, legal_basis, "
            "list_id, entry_id, via_subject, role FROM restrictions "
            f"WHERE subject_code IN ({marks}) "
            "AND action = ? AND state = 'active' ORDER BY measure_id, subject_code, entry",
            (*codes, action),
        ).fetchall()


def _own_identifiers(code: str, *, implied: bool = True) -> set[tuple[str, str, str]]:
    """A subject code as (scheme, value, code); with ``implied``, a USCC's organisation code
    too (what a subject first known by its USCC is given): for rows whose events list no
    identifiers."""
    try:
        ident = identify(code)
    except InvalidCode:
        return set()
    out = {(ident.scheme, ident.value, code)}
    if implied and ident.scheme == "uscc" and ident.orgcode:
        out.add(("orgcode", ident.orgcode, code))
    return out


def _identifiers(code: str, listed: Any) -> set[tuple[str, str, str]]:
    """(scheme, value, code) for the subject code and the identifiers a restriction event lists,
    or (an event that lists none) those its subject code implies."""
    if not isinstance(listed, list):
        return _own_identifiers(code)
    out = _own_identifiers(code, implied=False)
    for item in listed:
        if isinstance(item, dict) and item.get("scheme") and item.get("value"):
            out.add((str(item["scheme"]), str(item["value"]), code))
    return out


@dataclass
class SyncResult:
    applied: int = 0
    received: int = 0
    last_seq: int = 0

    def as_json(self) -> dict[str, int]:
        return {"received": self.received, "applied": self.applied, "last_seq": self.last_seq}


async def sync(
    path: Path | str,
    feed: FeedStream,
    *,
    follow: bool = False,
    stop: asyncio.Event | None = None,
    batch: int = 1000,
    on_applied: Callable[[Sequence[tuple[int, Event]]], None] | None = None,
    rebuild: bool = False,
) -> SyncResult:
    """Bring the replica up to date from the stream; with ``follow``, keep it so until ``stop``.

    ``rebuild``: replay the stream from its start into an emptied replica, in one transaction
    committed once it has caught up (until then, and if it fails, the old rows answer)."""
    stop = stop or asyncio.Event()
    result = SyncResult()
    with Replica(path) as replica:
        try:
            if rebuild:
                replica.begin_rebuild()
            await _pull(replica, feed, follow, stop, batch, on_applied, result)
        finally:
            replica.end_rebuild(commit=False)  # stopped or failed before it caught up
        result.last_seq = replica.last_seq
    return result


async def _pull(
    replica: Replica,
    feed: FeedStream,
    follow: bool,
    stop: asyncio.Event,
    batch: int,
    on_applied: Callable[[Sequence[tuple[int, Event]]], None] | None,
    result: SyncResult,
) -> None:
    """``sync``'s loop: fetch restriction events from the replica's position and apply them."""
    start = replica.last_seq + 1
    async with connected(feed) as (_nc, js):
        await ensure_stream(js, feed)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60,
        )
        subject = feed.family("restriction")
        async with pull_subscription(js, feed, subject, config) as sub:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(batch, timeout=0.2 if follow else 1.0)
                except TimeoutError:
                    msgs = []
                got: list[tuple[int, Event]] = []
                for msg in msgs:
                    try:
                        event = Event.from_json(json.loads(msg.data))
                    except (UnusableInput, ValueError):
                        continue
                    got.append((msg.metadata.sequence.stream, event))
                if got:
                    result.applied += replica.apply(got)
                    result.received += len(got)
                    if on_applied is not None:
                        on_applied(got)
                if len(msgs) < batch:
                    replica.mark_synced()
                    replica.end_rebuild(commit=True)  # a rebuild has caught up
                    if not follow:
                        break
