"""An agency's replica of the restriction index: an embedded SQLite file fed from JetStream.

An implementing agency (a railway, an airline) keeps its own copy so it can decide at the ticket
counter without asking the platform each time, and keeps deciding when the link is down. Every
decision says how stale the copy is: the last stream sequence and event time applied, when the
copy last caught up with the stream, and how many seconds ago that was.

Applying is idempotent and order-tolerant: each (subject, action, measure) keeps the origin
sequence of the event that set it, and an older or repeated event changes nothing. The stream
position is saved in the same transaction as the rows it produced, so a sync killed at any point
resumes where it left off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from xinyong.codes.identifiers import identify
from xinyong.errors import InvalidCode, UnusableInput
from xinyong.feed.events import Event
from xinyong.feed.stream import FeedStream, connected, ensure_stream

_SCHEMA = """
CREATE TABLE IF NOT EXISTS restrictions (
    subject_code TEXT NOT NULL,
    action TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    state TEXT NOT NULL,
    effect TEXT,
    valid_from TEXT,
    valid_to TEXT,
    implementing_agency TEXT,
    legal_basis TEXT NOT NULL,
    origin TEXT NOT NULL,
    origin_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (subject_code, action, measure_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: How a replica decides when several restrictions apply: the strongest effect wins.
_STRENGTH = {"deny": 3, "review": 2, "prefer": 1}


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
    measures: list[dict[str, Any]]
    staleness: Staleness

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "action": self.action,
            "at": self.at.isoformat(),
            "decision": self.decision,
            "measures": self.measures,
            "staleness": self.staleness.as_json(),
            "source": "replica",
        }


class Replica:
    """One replica file. Use as a context manager, or call ``close``."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        path = Path(path)
        if not create and not path.exists():
            raise UnusableInput(
                f"副本文件不存在 / no replica at {path}; 先运行 xinyong replica sync / "
                "run `xinyong replica sync` first"
            )
        try:
            self.db = sqlite3.connect(path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise UnusableInput(f"不是副本文件 / not a replica file: {path} ({exc})") from exc

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
        with self._transaction():
            for _seq, event in batch:
                changed += self._apply_one(event)
            if batch:
                last_seq, last = batch[-1]
                self._set("last_seq", str(max(last_seq, self.last_seq)))
                self._set("last_event_at", last.occurred_at.isoformat())
        return changed

    def _apply_one(self, event: Event) -> int:
        if not event.event_type.startswith("restriction.") or event.subject_code is None:
            return 0
        p = event.payload
        key = (event.subject_code, str(p.get("action")), str(p.get("measure_id")))
        row = self.db.execute(
            "SELECT origin, origin_seq FROM restrictions "
            "WHERE subject_code = ? AND action = ? AND measure_id = ?",
            key,
        ).fetchone()
        if row is not None and row[0] == event.origin and row[1] >= event.seq:
            return 0
        state = "active" if event.event_type == "restriction.added" else "lifted"
        self.db.execute(
            "INSERT OR REPLACE INTO restrictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )
        return 1

    def mark_synced(self, now: datetime | None = None) -> None:
        """Record that the replica has just caught up with the stream."""
        with self._transaction():
            self._set("synced_at", (now or datetime.now(UTC)).isoformat())

    def _set(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

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

    def check(self, subject: str, action: str, *, at: date | None = None) -> ReplicaDecision:
        """A decision from the local copy, with its staleness. ``subject`` is a code."""
        try:
            code = identify(subject).value
        except InvalidCode as exc:
            raise UnusableInput(f"{subject!r}: {exc.bilingual()}") from exc
        if not action or not action.replace("_", "").isalnum():
            raise UnusableInput(f"行为标识无效 / bad action id {action!r}")
        day = at or date.today()
        found: list[dict[str, Any]] = []
        for measure_id, effect, vfrom, vto, agency, basis in self.db.execute(
            "SELECT measure_id, effect, valid_from, valid_to, implementing_agency, legal_basis "
            "FROM restrictions WHERE subject_code = ? AND action = ? AND state = 'active' "
            "ORDER BY measure_id",
            (code, action),
        ):
            if vfrom and date.fromisoformat(vfrom) > day:
                continue
            if vto and date.fromisoformat(vto) < day:
                continue
            found.append(
                {
                    "measure_id": measure_id,
                    "effect": effect,
                    "valid_from": vfrom,
                    "valid_to": vto,
                    "implementing_agency": agency,
                    "legal_basis": json.loads(basis),
                }
            )
        strongest = max(
            (m["effect"] for m in found), key=lambda e: _STRENGTH.get(e, 3), default=None
        )
        decision = "permit" if strongest is None else str(strongest)
        return ReplicaDecision(code, action, day, decision, found, self.staleness())


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
) -> SyncResult:
    """Bring the replica up to date from the stream; with ``follow``, keep it so until ``stop``."""
    stop = stop or asyncio.Event()
    result = SyncResult()
    with Replica(path) as replica:
        start = replica.last_seq + 1
        async with connected(feed) as (_nc, js):
            await ensure_stream(js, feed)
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60,
            )
            sub = await js.pull_subscribe(
                feed.family("restriction"), stream=feed.stream, config=config
            )
            try:
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
                        if not follow:
                            break
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        result.last_seq = replica.last_seq
    return result
