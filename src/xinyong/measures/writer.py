"""The decision log's writer: decisions and their audit events, appended in batches off the
request path.

A busy check endpoint must log every decision and audit every API check, but it need not make
each request wait for its own transaction (on SQLite every such transaction queues on the one
write lock). So a request hands its decision (and the audit event that goes with it) to
``DecisionWriter.submit`` and answers at once with the ``decision_id`` already assigned; ONE
background thread per engine drains the queue and appends what it found in one transaction per
batch: the decisions, then the audit events in submission order through
``xinyong.audit.record_many`` (one head lock per batch; the hash chain is exactly what one
``record`` per event would have made).

Durability (docs/decisions.md): a batch is committed within ``INTERVAL`` of its first decision
(in practice within the time one batch takes to write), on ``flush()``, on ``close()``, when the
engine is disposed and when the process exits normally. A crash (power loss, ``SIGKILL``) loses
at most the decisions submitted since the last commit — never part of a batch, never a link of
the chain. ``sync=True`` (or ``XINYONG_DECISION_LOG=sync``) writes each submission in its own
transaction before ``submit`` returns: for tests and for deployments that prefer it.

::

    writer = writer_for(engine)            # one per engine and process
    writer.submit(decision, actor="api:caac-agency", audit={...record() arguments...})
    writer.flush()                         # everything submitted so far is committed
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, insert

from xinyong import audit
from xinyong.audit.events import prepare_event
from xinyong.measures.tables import decisions
from xinyong.metrics import set_audit_queue
from xinyong.settings import load as load_settings

if TYPE_CHECKING:
    from xinyong.measures.decisions import Decision

log = logging.getLogger(__name__)

#: Seconds the writer lets a batch gather after its first decision (bigger batches: fewer
#: commits and index page writes per decision); a flush or close cuts it short.
LINGER = 0.02
#: Seconds between retries of a failed batch (doubling, up to 2 s).
INTERVAL = 0.05
#: Most decisions in one transaction.
MAX_BATCH = 2000
#: ``XINYONG_DECISION_LOG=sync`` makes new writers synchronous.
MODE_ENV = "XINYONG_DECISION_LOG"


@dataclass(frozen=True)
class _Entry:
    row: dict[str, Any]
    audit: Mapping[str, Any] | None


class _Barrier:
    """Put in the queue by ``flush``: set once everything before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


_STOP = object()


class DecisionWriter:
    """Appends decisions and their audit events for one engine, in submission order."""

    def __init__(
        self,
        engine: Engine,
        *,
        sync: bool | None = None,
        interval: float = INTERVAL,
        linger: float = LINGER,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.engine = engine
        self.sync = load_settings().decision_log == "sync" if sync is None else sync
        self.interval = interval
        self.linger = linger
        self._urgent = threading.Event()
        self.max_batch = max_batch
        self.written = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(
        self,
        decision: Decision,
        *,
        actor: str | None = None,
        audit: Mapping[str, Any] | None = None,
    ) -> None:
        """Log ``decision`` (and ``audit``: ``xinyong.audit.record``'s keyword arguments).

        Queued: returns at once. Synchronous: returns once both are committed. A bad audit
        event (no purpose, …) is refused here, with ``ValueError``, never dropped later.
        """
        from xinyong.measures.decisions import decision_row

        if audit is not None:
            audit = dict(audit)
            audit.setdefault("at", datetime.now(UTC))
            prepare_event(**audit)
        entry = _Entry(decision_row(decision, actor=actor), audit)
        if self.sync:
            self._write([entry])
            return
        if self._closed:
            raise RuntimeError("the decision writer is closed")
        self._ensure_thread()
        self._queue.put(entry)

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait until everything submitted before this call is committed (re-raises a failure)."""
        if self.sync or self._thread is None:
            return
        barrier = _Barrier()
        self._queue.put(barrier)
        self._urgent.set()
        if not barrier.done.wait(timeout):
            raise TimeoutError("decision log not flushed in time")
        if barrier.error is not None:
            raise barrier.error

    def close(self) -> None:
        """Flush and stop the background thread; later submissions are refused."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            self._urgent.set()
            thread.join()

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
        stop = False
        while not stop:
            first = self._queue.get()
            items = [first]
            if isinstance(first, _Entry) and self.linger > 0:
                self._urgent.wait(self.linger)  # let the batch gather, unless flushed
            self._urgent.clear()
            while len(items) < self.max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = [i for i in items if isinstance(i, _Entry)]
            barriers = [i for i in items if isinstance(i, _Barrier)]
            stop = any(i is _STOP for i in items)
            error: BaseException | None = None
            if entries:
                error = self._write_retrying(entries)
            for barrier in barriers:
                barrier.error = error
                barrier.done.set()
            set_audit_queue(self._queue.qsize())

    def _write_retrying(self, entries: list[_Entry]) -> BaseException | None:
        """Write a batch; on failure wait and try again (a queued decision is never dropped)."""
        delay = self.interval
        last: BaseException | None = None
        for attempt in range(8):
            try:
                self._write(entries)
                return None
            except Exception as error:  # logged, then retried; reported to flush() at the end
                log.warning("decision log batch failed (attempt %d): %s", attempt + 1, error)
                last = error
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        log.error("decision log: %d decisions could not be written", len(entries))
        return last

    def _write(self, entries: list[_Entry]) -> None:
        events = [e.audit for e in entries if e.audit is not None]
        with self.engine.begin() as conn:
            conn.execute(insert(decisions), [e.row for e in entries])
            if events:
                audit.record_many(conn, events)
        self.written += len(entries)


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
