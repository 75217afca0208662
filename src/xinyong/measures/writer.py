"""The decision log's writer: decisions and their audit events, committed in groups; each
caller answers only once its group is committed.

A busy check endpoint must log every decision and audit every API check, and must never answer
a decision whose log is not written (docs/security.md: fail closed). Committing each request in
its own transaction makes every request queue on the one audit head (and on SQLite on the one
write lock). So a request hands its decision (and the audit event that goes with it) to
``DecisionWriter.submit`` and gets its outcome (``Committed``, a slim future); ONE background
thread per engine takes everything queued, sequences and hashes the audit events
(``xinyong.audit.append_prepared``: one head lock per group, the chain exactly what one
``record`` per event would have made) and commits the group in one transaction, then resolves
every outcome of the group under one lock. Submissions that arrive
while a group is being written form the next group (group commit: no timer, the group is as big
as the load makes it). On PostgreSQL a group is ONE statement and one round trip
(``xinyong.audit.events.append_after``: head moved, events and decisions inserted, committed by
itself) whenever the chain still ends where this writer's last group left it; after another
process's append, the same statement after the head's row lock in a transaction
(``append_locked``); a big group, the ordinary transaction (``append_prepared``). On a SQLite
file a group is
written on the ``sqlite3`` driver of a connection the writer keeps, with fixed SQL
(``xinyong.audit.events.SqliteAppend``: ``BEGIN IMMEDIATE``, the head read and checked under the
write lock every time, the rows inserted, the head moved, ``COMMIT``) — the same rows as
SQLAlchemy's statements, for about half the CPU — and that connection leaves the WAL's
checkpoints (and their fsync) to a thread of its own (``_Checkpointer``).

``Checker.check`` waits for its outcome (``wait``; the API awaits it without blocking its event
loop: ``wait_async``); only then is the decision answered. If the group cannot be written (the
database is down, the log table is gone, privileges revoked, …) every caller of that group gets
``LogUnavailable`` — the API answers 503 problem details, the CLI exits 2 — and no decision of
that group is answered. A crash therefore loses no answered decision: at most decisions whose
callers were still waiting (and got no answer).

On a SQLite file, every process's writer takes an exclusive ``flock`` on ``<database>.writer-lock``
for the length of its group's transaction. Two API worker processes would otherwise meet on
SQLite's write lock, where the one that finds it taken polls in SQLite's busy handler (sleeps of
1, 2, 5 … up to 100 ms, whatever the other is doing): the file lock wakes the waiting writer the
moment the other's commit is done.

``sync=True`` (or ``XINYONG_DECISION_LOG=sync``) writes each submission in the caller's thread,
in its own transaction, before ``submit`` returns: for tests and single-user tools.

::

    writer = writer_for(engine)            # one per engine and process
    done = writer.submit(decision, actor="api:caac-agency", audit={...record() arguments...})
    wait(done)                             # committed, or LogUnavailable
    writer.append_event({...record() arguments...})   # an audit event alone, same group
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import fcntl
import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event, insert

from xinyong.audit.events import (
    Head,
    SqliteAppend,
    append_after,
    append_locked,
    append_prepared,
    prepare_event,
)
from xinyong.errors import LogUnavailable
from xinyong.measures.tables import decisions
from xinyong.metrics import set_audit_queue
from xinyong.settings import load as load_settings

if TYPE_CHECKING:
    from xinyong.measures.decisions import Decision

log = logging.getLogger(__name__)

#: Most decisions (and audit events) in one transaction.
MAX_BATCH = 5000
#: PostgreSQL: groups of fewer events are written in one statement when they can
#: (``append_after``); bigger ones by ``COPY`` in a transaction, which costs PostgreSQL and the
#: client less per event once the round trips are paid (groups of 5,000 measured: 30,000–38,000
#: events/s against 19,000–21,000; crossing between 512 and 1,500, docs/performance.md).
ONE_STATEMENT_MAX = 1000
#: SQLite: the writer's own connection does not checkpoint the WAL after its commits (the
#: checkpoint's fsync, run by whichever commit crosses 1,000 WAL pages, was the check's p99);
#: ``_Checkpointer``'s thread does, on its own connection, after this many logged entries …
CHECKPOINT_EVERY = 500
#: … or after this many seconds without one, when anything was written since its last;
CHECKPOINT_IDLE = 1.0
#: and when the WAL holds more than this many bytes of frames (written to all along, a passive
#: checkpoint never lets it start over), it checkpoints between two groups so that the next
#: group writes the WAL from its start again. The pause costs the same at any size (what the
#: passive checkpoint left), so a large limit makes it rare: at 32 MiB the HTTP bench's load
#: paused the writers three times a second, p99 12.0–12.5 ms (medians); at 128 MiB 8.2–9.6 ms,
#: the floor's 9.2–10.2 (docs/performance.md). The file keeps this length while the writer lives.
WAL_LIMIT = 128 * 1024 * 1024
#: SQLite file: the writers' turns are taken on ``<database>`` + this (``flock``).
WRITER_LOCK = ".writer-lock"
#: Seconds a caller waits for its group's commit before giving up (``LogUnavailable``).
TIMEOUT = 10.0
#: ``XINYONG_DECISION_LOG=sync`` makes new writers synchronous.
MODE_ENV = "XINYONG_DECISION_LOG"

_INSERT_DECISIONS = insert(decisions)


class Committed:
    """One submission's outcome: its group committed (``exception()`` is None) or not
    (``LogUnavailable``). Set once by the writer, for a whole group under one lock
    (``_resolve``), then waited for by ``wait`` (a thread) or ``wait_async`` (a loop). The part
    of ``concurrent.futures.Future`` the writer's callers use (``done``, ``result``,
    ``exception``, ``add_done_callback``), without a condition variable made, taken and
    notified per caller: a thread that must wait blocks on a lock of its own, which the
    resolution releases."""

    __slots__ = ("_callbacks", "_done", "_error", "_gates")

    def __init__(self) -> None:
        self._done = False
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Committed], object]] | None = None
        self._gates: list[threading.Lock] | None = None  # one held lock per waiting thread

    def done(self) -> bool:
        return self._done

    def result(self, timeout: float | None = None) -> None:
        """None once committed; raises the failure if not (``TimeoutError`` past ``timeout``)."""
        self._wait(timeout)
        if self._error is not None:
            raise self._error

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The failure (None: committed), once resolved (``TimeoutError`` past ``timeout``)."""
        self._wait(timeout)
        return self._error

    def add_done_callback(self, fn: Callable[[Committed], object]) -> None:
        """``fn(self)`` once resolved: in the resolving thread, or here and now if it is."""
        with _resolving:
            if not self._done:
                if self._callbacks is None:
                    self._callbacks = [fn]
                else:
                    self._callbacks.append(fn)
                return
        fn(self)

    def _wait(self, timeout: float | None) -> None:
        if self._done:
            return
        gate = threading.Lock()
        gate.acquire()
        with _resolving:
            if self._done:
                return
            if self._gates is None:
                self._gates = [gate]
            else:
                self._gates.append(gate)
        if not gate.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            raise concurrent.futures.TimeoutError


#: Taken to resolve a group's outcomes and to add a callback or a waiting thread to one.
_resolving = threading.Lock()


def _resolve(outcomes: Iterable[Committed], error: BaseException | None) -> None:
    """Resolve ``outcomes`` (each once; a resolved one keeps its outcome) with ``error`` (None:
    committed) under one lock; then wake the threads waiting for them and run their callbacks."""
    woken = []
    with _resolving:
        for done in outcomes:
            if done._done:
                continue
            done._error = error
            done._done = True
            if done._callbacks is not None or done._gates is not None:
                woken.append(done)
    for done in woken:
        for gate in done._gates or ():
            gate.release()
        for callback in done._callbacks or ():
            try:
                callback(done)
            except Exception:  # one caller's callback does not keep the others unanswered
                log.exception("decision log: a commit callback failed")


@dataclass(frozen=True, slots=True)
class _Entry:
    row: dict[str, Any] | None
    audit: dict[str, Any] | None
    done: Committed


def wait(done: Committed, timeout: float = TIMEOUT) -> None:
    """Return once ``done``'s group is committed; ``LogUnavailable`` if it was not."""
    try:
        done.result(timeout)
    except concurrent.futures.TimeoutError as error:
        raise LogUnavailable(
            "决定日志写入超时 / the decision log did not commit in time"
        ) from error


async def wait_async(
    done: Committed | concurrent.futures.Future[None], timeout: float = TIMEOUT
) -> None:
    """``wait`` for an event loop: the loop keeps serving while the group commits.

    The group's futures are handed to the loop together: the first one resolved wakes the loop
    once (``call_soon_threadsafe``) and the loop then answers every caller resolved by then —
    not one wake-up and one ``wait_for`` task per request. The timeouts are the loop's
    ``_LoopWaker``'s too: one timer for all of them, not one scheduled and cancelled per call."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    waker = _LoopWaker.of(loop)
    waker.watch(waiter, timeout)
    done.add_done_callback(functools.partial(waker.resolved, waiter))
    await waiter


#: What ``wait_async`` waits for: the writer's outcomes (or any future of None).
_Outcome = Committed | concurrent.futures.Future[None]


class _LoopWaker:
    """Hands resolved commits to one event loop in batches (one per loop, made on first use),
    and times out the loop's waiters that are not answered in time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._ready: list[tuple[asyncio.Future[None], _Outcome]] = []
        # (In the loop.) Each unanswered waiter's deadline (the loop's clock), and the one timer
        # that expires them: set for the earliest deadline it knows of.
        self._deadlines: dict[asyncio.Future[None], float] = {}
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _LoopWaker:
        found = _wakers.get(loop)
        if found is None:
            with _wakers_lock:
                found = _wakers.setdefault(loop, cls(loop))
        return found

    def watch(self, waiter: asyncio.Future[None], timeout: float) -> None:
        """(In the loop.) ``LogUnavailable`` for ``waiter`` if it is not answered in ``timeout``
        seconds."""
        deadline = self.loop.time() + timeout
        self._deadlines[waiter] = deadline
        timer = self._timer
        if timer is None or deadline < timer.when():
            if timer is not None:
                timer.cancel()
            self._timer = self.loop.call_at(deadline, self._expire)

    def resolved(self, waiter: asyncio.Future[None], done: _Outcome) -> None:
        """(In the thread that resolved ``done``.) Queue it; wake the loop if it was idle."""
        with self._lock:
            wake = not self._ready
            self._ready.append((waiter, done))
        if wake:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        """(In the loop.) Answer every waiter whose commit is resolved."""
        with self._lock:
            ready, self._ready = self._ready, []
        deadlines = self._deadlines
        for waiter, done in ready:
            deadlines.pop(waiter, None)
            if waiter.done():  # timed out or cancelled meanwhile
                continue
            failure = done.exception()
            if failure is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(failure)

    def _expire(self) -> None:
        """(In the loop, at the earliest deadline known.) Time out the waiters past theirs;
        forget the ones answered or cancelled; set the timer for the next deadline."""
        self._timer = None
        now = self.loop.time() + _TIMER_SLACK  # the loop runs a timer this early
        deadlines = self._deadlines
        gone = [
            waiter for waiter, deadline in deadlines.items() if waiter.done() or deadline <= now
        ]
        for waiter in gone:
            del deadlines[waiter]
            if not waiter.done():
                waiter.set_exception(
                    LogUnavailable("决定日志写入超时 / the decision log did not commit in time")
                )
        if deadlines:
            self._timer = self.loop.call_at(min(deadlines.values()), self._expire)


#: Seconds: a waiter whose deadline is this close is timed out with the timer that runs early
#: (the loop runs a timer up to its clock's resolution before it is due).
_TIMER_SLACK = 0.001

_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWaker] = (
    weakref.WeakKeyDictionary()
)
_wakers_lock = threading.Lock()


class DecisionWriter:
    """Appends decisions and their audit events for one engine, one group at a time, in order."""

    def __init__(
        self,
        engine: Engine,
        *,
        sync: bool | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.engine = engine
        self.sync = load_settings().decision_log == "sync" if sync is None else sync
        self.max_batch = max_batch
        self.written = 0
        self.groups = 0
        self._mutex = threading.Lock()
        self._cv = threading.Condition(self._mutex)
        self._sleeping = False  # the thread waits for something to write
        self._pending: list[_Entry] = []
        self._writing = False  # a group is being written (by the thread or a leading caller)
        self._waiters = 0  # callers of ``commit`` waiting for the group being written
        self._stopping = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        database = engine.url.database
        self._lock_path = (
            f"{database}{WRITER_LOCK}"
            if engine.dialect.name == "sqlite" and database and database != ":memory:"
            else None
        )
        self._lock_fd: int | None = None  # opened on first use; -1: it cannot be
        # PostgreSQL, batched: the connection the groups are written on (kept between groups,
        # not in a transaction) and where this writer's last group left the chain.
        self._conn: Connection | None = None
        self._head: Head | None = None
        # SQLite file, batched: groups written on the kept connection's ``sqlite3`` driver, one
        # group at a time (``_group``, also taken by the checkpointer to restart the WAL).
        self._sqlite = (
            SqliteAppend(engine.dialect, (decisions,)) if self._lock_path is not None else None
        )
        self._group = threading.Lock()
        self._checkpointer: _Checkpointer | None = None

    def submit(
        self,
        decision: Decision,
        *,
        actor: str | None = None,
        audit: Mapping[str, Any] | None = None,
    ) -> Committed:
        """Log ``decision`` (and ``audit``: ``xinyong.audit.record``'s keyword arguments) from
        the background thread; the outcome of its group's commit (for an event loop:
        ``wait_async``). A bad audit event (no purpose, …) is refused here, with ``ValueError``.
        """
        return self._put(self._entry(decision, actor, audit), wake=True)

    def commit(
        self,
        decision: Decision,
        *,
        actor: str | None = None,
        audit: Mapping[str, Any] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        """Log ``decision`` and return once it is committed; ``LogUnavailable`` if it is not.

        For a caller on its own thread: if no group is being written, this thread writes the
        group itself (everything queued, its own entry included: no hop to another thread);
        otherwise it waits, and leads the next group if its entry is still queued then."""
        entry = self._put(self._entry(decision, actor, audit), wake=False)
        deadline = time.monotonic() + timeout
        while not entry.done():
            with self._cv:
                while self._writing and not entry.done():
                    self._waiters += 1
                    try:
                        woken = self._cv.wait(deadline - time.monotonic())
                    finally:
                        self._waiters -= 1
                    if not woken:
                        break
                if entry.done() or self._writing:
                    break
                group = self._take()
            self._write_group(group)
        wait(entry, max(0.0, deadline - time.monotonic()))

    def append_event(self, audit: Mapping[str, Any]) -> Committed:
        """An audit event alone (``record``'s keyword arguments), in the same groups."""
        return self._put(_Entry(None, self._prepare(audit), Committed()), wake=True)

    def _entry(
        self, decision: Decision, actor: str | None, audit: Mapping[str, Any] | None
    ) -> _Entry:
        from xinyong.measures.decisions import decision_row

        prepared = None if audit is None else self._prepare(audit)
        return _Entry(decision_row(decision, actor=actor), prepared, Committed())

    @staticmethod
    def _prepare(audit: Mapping[str, Any]) -> dict[str, Any]:
        if "at" in audit:
            return prepare_event(**audit)
        return prepare_event(**audit, at=datetime.now(UTC))

    def _put(self, entry: _Entry, *, wake: bool) -> Committed:
        if self.sync:
            self._commit([entry])
            return entry.done
        if self._closed:
            raise RuntimeError("the decision writer is closed")
        self._ensure_thread()
        with self._mutex:  # ``_cv``'s lock, without the Python-level wrapper
            self._pending.append(entry)
            if wake and self._sleeping:  # else the thread takes it with the next group
                self._cv.notify_all()
        return entry.done

    def _take(self) -> list[_Entry]:
        """The next group (called holding ``_cv``, when nobody is writing)."""
        group = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        self._writing = True
        return group

    def _write_group(self, group: list[_Entry]) -> None:
        try:
            self._commit(group)
        finally:
            with self._cv:
                self._writing = False
                depth = len(self._pending)
                # Only if someone waits for this: a caller in ``commit``, or the thread for
                # what was queued meanwhile. Waking the idle thread after every group made it
                # take the GIL from the next check each time, for nothing.
                if depth or self._waiters:
                    self._cv.notify_all()
            set_audit_queue(depth)

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait until everything submitted before this call is committed (re-raises a failure)."""
        if self.sync or self._thread is None:
            return
        done = self._put(_Entry(None, None, Committed()), wake=True)
        try:
            done.result(timeout)
        except concurrent.futures.TimeoutError as error:
            raise TimeoutError("decision log not flushed in time") from error

    def close(self) -> None:
        """Commit what is queued and stop the background thread; later submissions are refused."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if thread is not None:
            thread.join()
        with self._lock:
            if self._lock_fd is not None and self._lock_fd >= 0:
                os.close(self._lock_fd)
            self._lock_fd = None
        self._drop_connection()
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="xinyong-decision-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending or self._writing:
                    if self._stopping and not self._pending:
                        return
                    self._sleeping = True
                    try:
                        self._cv.wait()
                    finally:
                        self._sleeping = False
                group = self._take()
            self._write_group(group)

    @contextlib.contextmanager
    def _between_processes(self) -> Iterator[None]:
        """On a SQLite file: this process's turn to write, in order with the other processes'
        writers (a blocking ``flock``; the holder's group commits, then the next wakes)."""
        if self._lock_path is None:
            yield
            return
        with self._lock:
            if self._lock_fd is None:
                found = _open_lock(self._lock_path)
                self._lock_fd = -1 if found is None else found
            fd = self._lock_fd
        with _turn(fd):
            yield

    def _commit(self, entries: list[_Entry]) -> None:
        """Write one group in one transaction; resolve every entry's outcome with it.

        No retry: the callers are waiting, and an answer late by a retry's back-off is worse
        than a 503 the agency can retry itself. Nothing of a failed group is answered.
        """
        rows = [e.row for e in entries if e.row is not None]
        events = [e.audit for e in entries if e.audit is not None]
        error: BaseException | None = None
        try:
            if events and not self.sync and self.engine.dialect.name == "postgresql":
                self._append_postgresql(rows, events)
            elif (rows or events) and not self.sync and self._sqlite is not None:
                self._append_sqlite(rows, events)
            elif rows or events:
                with self._between_processes(), self.engine.begin() as conn:
                    if rows:
                        conn.execute(_INSERT_DECISIONS, rows)
                    if events:
                        append_prepared(conn, events)
        except Exception as failure:  # reported to every waiting caller, who answers 503
            log.error("decision log: a group of %d could not be written: %s", len(entries), failure)
            error = LogUnavailable(
                f"决定日志无法写入，未作答复 / the decision log cannot be written, no answer "
                f"given ({type(failure).__name__})"
            )
            error.__cause__ = failure
        else:
            self.written += len(rows)
            self.groups += 1
        _resolve([entry.done for entry in entries], error)

    def _append_postgresql(self, rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """One group on PostgreSQL smaller than ``ONE_STATEMENT_MAX``: one statement, one round
        trip (``append_after``) when the chain still ends where this writer's last group left
        it; else (first group, another API process appended meanwhile) the same statement after
        the head's row lock, in a transaction (``append_locked``, three round trips: two
        processes appending by turns sent 42–44% of their groups the ordinary way before,
        docs/performance.md). A big group, or one neither way wrote (no head row, an event past
        the head), goes the ordinary way: the transaction with its ``COPY``, which creates the
        head or refuses the fork. On a connection kept between groups (no pool check-out and
        ping per group); dropped on any failure."""
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
            conn = self._conn
            head = None
            if len(events) < ONE_STATEMENT_MAX:
                also = {decisions: rows} if rows else None
                if self._head is not None:
                    head = append_after(conn, self._head, events, also)
                if head is None:
                    with conn.begin():
                        head = append_locked(conn, events, also)
            if head is None:
                with conn.begin():
                    if rows:
                        conn.execute(_INSERT_DECISIONS, rows)
                    head = append_prepared(conn, events)
            self._head = head
        except BaseException:
            self._head = None
            self._drop_connection()
            raise

    def _append_sqlite(self, rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """One group on a SQLite file: on the kept connection's driver, ``BEGIN IMMEDIATE`` (the
        write lock), the head read and checked, the events and decisions inserted, the head
        moved, ``COMMIT`` (``SqliteAppend``: the rows the SQLAlchemy statements would write, in
        six driver calls). The ordinary transaction when the chain has no head row yet.
        Dropped connection on any failure."""
        assert self._sqlite is not None
        with self._between_processes(), self._group:
            try:
                driver = self._driver()
                driver.execute("BEGIN IMMEDIATE")
                try:
                    head: Head | None = None
                    if events:
                        head = self._sqlite.append(driver, events, {"decisions": rows})
                    else:
                        self._sqlite.insert(driver, "decisions", rows)
                    if events and head is None:
                        driver.rollback()
                        with self.engine.begin() as conn:
                            if rows:
                                conn.execute(_INSERT_DECISIONS, rows)
                            append_prepared(conn, events)
                    else:
                        driver.commit()
                except BaseException:
                    if driver.in_transaction:
                        driver.rollback()
                    raise
            except BaseException:
                self._drop_connection()
                raise
            self._checkpoint_after(len(rows) + len(events))

    def _driver(self) -> Any:
        """The kept connection's ``sqlite3`` connection (connected on first use: its WAL
        checkpoints left to ``_Checkpointer``, or its own if that thread has failed)."""
        if self._conn is None:
            conn = self.engine.connect()
            try:
                driver: Any = conn.connection.driver_connection
                if self._checkpointer is None or not self._checkpointer.failed:
                    driver.execute("PRAGMA wal_autocheckpoint=0")
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
        return self._conn.connection.driver_connection

    def _checkpoint_after(self, written: int) -> None:
        """(Holding ``_group``.) Count what was written for the checkpointer; if it has failed,
        the kept connection checkpoints after its own commits again."""
        checkpointer = self._checkpointer
        assert self._lock_path is not None
        wal = self._lock_path.removesuffix(WRITER_LOCK) + "-wal"
        if checkpointer is None:
            checkpointer = self._checkpointer = _Checkpointer(
                self.engine, self._group, wal, self._lock_path
            )
        if checkpointer.failed:
            if self._conn is not None:
                self._driver().execute("PRAGMA wal_autocheckpoint=1000")
            return
        checkpointer.written(written)
        if _size(wal) > 2 * WAL_LIMIT:  # the thread lags behind (no CPU for it): a hard bound
            with checkpointer.running:  # after its checkpoint, which would make this one busy
                _checkpoint_wal(self._driver(), "TRUNCATE")

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # it is being given up either way
                conn.invalidate()
                conn.close()


@contextlib.contextmanager
def _turn(fd: int) -> Iterator[None]:
    """Hold the turn to write among the file's writers: a blocking ``flock`` on the lock file's
    descriptor ``fd`` (none when it could not be opened: -1). A scheduling aid only: SQLite's
    own lock still guards the data. The lock belongs to the open file description: threads
    sharing ``fd`` share the turn (in sync mode a process's threads do), a descriptor opened
    apart (the checkpointer's) waits for it like another process."""
    if fd < 0:  # the lock file cannot be opened: SQLite's busy handler alone, as before
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _open_lock(path: str) -> int | None:
    """The lock file's descriptor (``flock`` needs only read access: another user's file works
    too); None, said once in the log, if it cannot be opened at all."""
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags, 0o666)
        except OSError as error:
            failure = error
    log.warning("decision log: no writer lock file %s (%s); SQLite's own lock only", path, failure)
    return None


_writers: weakref.WeakKeyDictionary[Engine, DecisionWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> DecisionWriter:
    """The engine's writer in this process (made on first use; closed when the engine is
    disposed or the process exits)."""
    found = _writers.get(engine)
    if found is not None and not found._closed:
        return found
    with _writers_lock:
        found = _writers.get(engine)
        if found is None or found._closed:
            found = DecisionWriter(engine)
            _writers[engine] = found
            if not event.contains(engine, "engine_disposed", _on_dispose):
                event.listen(engine, "engine_disposed", _on_dispose)
        return found


def _on_dispose(engine: Engine) -> None:
    writer = _writers.pop(engine, None)
    if writer is not None:
        writer.close()
        engine.pool.dispose()  # the connections the last batch used


@atexit.register
def _close_all() -> None:
    for writer in list(_writers.values()):
        try:
            writer.close()
        except Exception as error:  # at exit: say so, do not hide it
            log.error("decision log not flushed at exit: %s", error)


class _Checkpointer:
    """SQLite: checkpoints the WAL off the answer path, in its own thread on its own connection.

    The writer's connection has ``wal_autocheckpoint=0``: the fsync of the database file (with
    ``synchronous=NORMAL`` the only one) is no longer paid by the commit a caller waits for.
    This thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` (no lock taken; the writer goes on
    appending) every ``CHECKPOINT_EVERY`` entries, and after ``CHECKPOINT_IDLE`` seconds when
    anything was written since.

    SQLite starts the WAL over only when a commit finds it wholly checkpointed, which a writer
    busy all along never does. So when the WAL holds more than ``WAL_LIMIT`` bytes of frames
    the thread pauses every writer of the file (the turn between processes, on a descriptor of
    its own, then this process's group lock) and checkpoints with ``RESTART``: only the frames
    written since the passive checkpoint are left to copy, and a following group writes the
    WAL from its start, over blocks the file already has. It is not truncated: ``TRUNCATE``
    freed the file's blocks and the next groups allocated them again, 23–63 ms with the writers
    waiting on this disk (docs/performance.md); ``RESTART`` pauses them 2–18 ms. The file
    therefore stays about ``WAL_LIMIT`` long while the writer lives. Past twice that (the
    thread got no CPU in time) the writer truncates it itself.

    Other connections (ingest, the CLI, other processes' readers) keep SQLite's own automatic
    checkpoints. A failure stops the thread (``failed``, said in the log) and the
    writer's connection checkpoints after its commits again: the WAL never grows unchecked.
    """

    def __init__(
        self, engine: Engine, group: threading.Lock, wal_path: str, lock_path: str
    ) -> None:
        self.engine = engine
        self.failed = False
        self._group = group
        self._lock_path = lock_path
        #: Held while this thread checkpoints (taken after ``group`` when both are).
        self.running = threading.Lock()
        self._wal_path = wal_path
        self._written = 0  # by the writer, holding ``group``
        self._nudged = 0
        self._done = 0  # the ``_written`` the last checkpoint started at
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="xinyong-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def written(self, count: int) -> None:
        self._written += count
        if self._written - self._nudged >= CHECKPOINT_EVERY:
            self._nudged = self._written
            self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        conn: Connection | None = None
        fd = _open_lock(self._lock_path)
        try:
            conn = self.engine.connect()
            driver: Any = conn.connection.driver_connection
            page = int(driver.execute("PRAGMA page_size").fetchone()[0])
            while True:
                self._wake.wait(CHECKPOINT_IDLE)
                self._wake.clear()
                written = self._written
                if written != self._done:
                    self._done = written
                    with self.running:
                        _, frames, _ = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames * page > WAL_LIMIT:
                        with _turn(-1 if fd is None else fd), self._group, self.running:
                            _checkpoint_wal(driver, "RESTART")
                if self._stopping:
                    return
        except Exception as error:
            self.failed = True
            log.error("decision log: WAL checkpoints back on the writer's commits: %s", error)
        finally:
            if fd is not None:
                os.close(fd)
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.invalidate()
                    conn.close()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size  # noqa: PTH116 — per group: pathlib's parsing cost 12 µs
    except FileNotFoundError:
        return 0


def _checkpoint_wal(driver: Any, mode: str) -> None:
    """Checkpoint everything, then start the WAL over (``RESTART``) or also truncate it
    (``TRUNCATE``), waiting for nobody: a writer or reader of another connection in the way
    makes it a passive checkpoint (tried again later)."""
    waits = driver.execute("PRAGMA busy_timeout").fetchone()[0]
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(waits)}")
