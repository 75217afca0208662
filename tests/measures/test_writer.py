"""The decision writer's groups on both databases: what one statement writes (PostgreSQL, when the
chain still ends where the writer left it) is what a transaction writes; when another writer
appended meanwhile, or the head was tampered with, the writer sees it and keeps one chain.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import itertools
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from tests.measures.conftest import PERSON_D, Load, defaulter

from xinyong import audit
from xinyong.audit.tables import audit_events, audit_head
from xinyong.catalog import default_catalog
from xinyong.errors import LogUnavailable
from xinyong.measures import writer as writer_module
from xinyong.measures.checker import Checker
from xinyong.measures.decisions import Decision
from xinyong.measures.tables import decisions
from xinyong.measures.writer import DecisionWriter, wait, wait_async
from xinyong.store.engine import connect

AUDIT = {"actor": "caac-agency", "role": "agency", "purpose": "boarding", "action": "check:x"}


def _event(n: int) -> dict[str, object]:
    return {**AUDIT, "subject": "S", "detail": {"n": n, "名称": "测试"}}


def _decision(n: int) -> Decision:
    return Decision(
        decision_id=f"d-{n}", catalog_version="v", subject="S", action="buy_flight_ticket",
        at=date(2025, 1, 1), known_at=None, outcome="permit", until=None,
    )  # fmt: skip


def test_a_group_in_one_statement_logs_what_a_transaction_logs(engine: Engine, load: Load) -> None:
    """The same check logged by a synchronous writer (a transaction) and by a grouped writer's
    later group (on PostgreSQL one statement): the same row but for its id and times."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    grouped = DecisionWriter(engine, sync=False)
    by_sync = Checker(engine, default_catalog(), writer=DecisionWriter(engine, sync=True))
    by_group = Checker(engine, default_catalog(), writer=grouped)
    try:
        wait(grouped.append_event(_event(0)))  # the first group learns where the chain ends
        taken = [
            checker.check(PERSON_D, "buy_flight_ticket", date(2025, 1, 1), actor="t", audit=AUDIT)
            for checker in (by_sync, by_group, by_group)
        ]
    finally:
        grouped.close()
    with engine.connect() as conn:
        rows = {
            row.decision_id: row._asdict()
            for row in conn.execute(select(decisions).order_by(decisions.c.id))
        }
        chain = audit.verify(conn)
    assert chain.ok and chain.count == 4
    logged = [rows[d.decision_id] for d in taken]
    for row in logged:
        for varying in ("id", "decision_id", "decided_at"):
            row.pop(varying)
    assert logged[0] == logged[1] == logged[2]
    assert logged[0]["outcome"] == "deny" and logged[0]["reasons"]


def test_writers_taking_turns_keep_one_chain(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers appending alternately (two API processes): each finds the head moved by the
    other since its own last group, appends after it, and the chain is one. On PostgreSQL no
    group goes the ordinary way (seven statements) but the very first, which makes the head
    row: the others wait for the head's lock and append in one statement."""
    ordinary = []
    appended = writer_module.append_prepared

    def counted(*args: Any, **kwargs: Any) -> Any:
        ordinary.append(1)
        return appended(*args, **kwargs)

    monkeypatch.setattr(writer_module, "append_prepared", counted)
    writers = [DecisionWriter(engine, sync=False) for _ in range(2)]
    try:
        for n in range(8):
            wait(writers[n % 2].append_event(_event(n)))
    finally:
        for writer in writers:
            writer.close()
    with engine.connect() as conn:
        chain = audit.verify(conn)
        details = [e.detail for e in audit.list_events(conn)]
    assert chain.ok and chain.count == 8
    assert [d["n"] for d in details if d] == list(range(8))
    if engine.dialect.name == "postgresql":
        assert len(ordinary) <= 1, ordinary


def test_a_head_set_back_behind_the_writer_refuses_the_group(engine: Engine) -> None:
    """The head moved back to an earlier event (tampering): the writer's next group is refused
    (``LogUnavailable``), nothing is forked, and the events written stay as they were."""
    writer = DecisionWriter(engine, sync=False)
    try:
        for n in range(3):
            wait(writer.append_event(_event(n)))
        with engine.connect() as conn:
            second = audit.list_events(conn)[1]
        with engine.begin() as conn:
            conn.execute(update(audit_head).values(seq=2, hash=second.hash))
        with pytest.raises(LogUnavailable):
            wait(writer.append_event(_event(3)))
    finally:
        writer.close()
    with engine.connect() as conn:
        ids = list(conn.execute(select(audit_events.c.id).order_by(audit_events.c.id)).scalars())
    assert ids == [1, 2, 3]


def test_an_event_past_the_head_refuses_the_group(engine: Engine) -> None:
    """An event already holds the next position while the head still names the writer's last
    (a head left behind): the group is refused, not written beside it (on PostgreSQL the
    partitioned table's keys contain ``at`` and would let a second event 4 in)."""
    writer = DecisionWriter(engine, sync=False)
    try:
        for n in range(3):
            wait(writer.append_event(_event(n)))
        with engine.begin() as conn:
            third = conn.execute(select(audit_events).where(audit_events.c.id == 3)).one()
            forged = {
                **third._asdict(), "id": 4, "at": third.at + timedelta(days=1),
                "prev_hash": third.hash, "hash": "f" * 64,
            }  # fmt: skip
            conn.execute(insert(audit_events).values(forged))
        with pytest.raises(LogUnavailable):
            wait(writer.append_event(_event(3)))
    finally:
        writer.close()
    with engine.connect() as conn:
        ids = list(conn.execute(select(audit_events.c.id).order_by(audit_events.c.id)).scalars())
    assert ids == [1, 2, 3, 4]


def test_coroutines_awaiting_their_commits_are_all_answered(engine: Engine) -> None:
    """Callers on one event loop (as the API's): every one is answered once its group is
    committed, the groups handed to the loop together; one chain."""
    writer = DecisionWriter(engine, sync=False)

    async def caller(n: int) -> int:
        for i in range(4):
            await wait_async(writer.append_event(_event(n * 4 + i)))
        return n

    async def run() -> list[int]:
        return await asyncio.gather(*(caller(n) for n in range(50)))

    try:
        answered = asyncio.run(run())
    finally:
        writer.close()
    with engine.connect() as conn:
        chain = audit.verify(conn)
    assert answered == list(range(50))
    assert chain.ok and chain.count == 200
    assert writer.groups < 200


def test_a_failed_group_fails_every_awaiting_coroutine(engine: Engine) -> None:
    writer = DecisionWriter(engine, sync=False)

    async def run() -> list[BaseException | None]:
        waits = [wait_async(writer.append_event(_event(n))) for n in range(5)]
        return await asyncio.gather(*waits, return_exceptions=True)

    try:
        wait(writer.append_event(_event(0)))
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events RENAME TO audit_events_away"))
        try:
            outcomes = asyncio.run(run())
        finally:
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_events_away RENAME TO audit_events"))
        wait(writer.append_event(_event(1)))
    finally:
        writer.close()
    assert all(isinstance(outcome, LogUnavailable) for outcome in outcomes), outcomes
    with engine.connect() as conn:
        assert audit.verify(conn).count == 2


def test_a_commit_that_does_not_come_is_log_unavailable_on_the_loop() -> None:
    never: concurrent.futures.Future[None] = concurrent.futures.Future()
    with pytest.raises(LogUnavailable):
        asyncio.run(wait_async(never, timeout=0.01))


def test_a_short_timeout_expires_before_a_long_one_on_the_same_loop() -> None:
    """The loop's one timer is set for the earliest deadline: a caller with a short timeout
    gets ``LogUnavailable`` on time although a caller with a long one waits too; the long one
    is answered when its commit comes."""
    slow: concurrent.futures.Future[None] = concurrent.futures.Future()
    never: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def run() -> None:
        patient = asyncio.ensure_future(wait_async(slow, timeout=60))
        with pytest.raises(LogUnavailable):
            await asyncio.wait_for(wait_async(never, timeout=0.01), 5)
        assert not patient.done()
        slow.set_result(None)
        await asyncio.wait_for(patient, 5)

    asyncio.run(run())


def test_an_outcome_wakes_its_waiting_threads_and_runs_late_callbacks() -> None:
    """``Committed``: threads waiting for a group's outcomes are woken by its resolution (the
    failure raised in each), a callback added after it runs at once, a second resolution
    changes nothing, and an outcome that does not come is ``LogUnavailable`` for ``wait``."""
    outcomes = [writer_module.Committed() for _ in range(3)]
    failure = LogUnavailable("down")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        waiting = [pool.submit(done.exception, 5) for done in outcomes]
        writer_module._resolve(outcomes, failure)
        assert [w.result(5) for w in waiting] == [failure] * 3
    writer_module._resolve(outcomes, None)
    seen: list[BaseException | None] = []
    outcomes[0].add_done_callback(lambda done: seen.append(done.exception()))
    assert seen == [failure]
    with pytest.raises(LogUnavailable):
        outcomes[1].result()
    with pytest.raises(LogUnavailable):
        wait(writer_module.Committed(), timeout=0.01)


def test_the_sqlite_driver_path_writes_what_sqlalchemy_writes(
    engine: Engine, load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One decision and its event logged by a synchronous writer (SQLAlchemy's statements in a
    transaction) and by a grouped writer (on a SQLite file: fixed SQL on the ``sqlite3`` driver;
    on PostgreSQL one statement): the stored values are the same, as the database holds them
    (read back without type conversion), but for what must differ — the row's id and decision
    id, the event's position and hashes."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    when = datetime.now(UTC).replace(microsecond=123456) + timedelta(hours=1)
    monkeypatch.setattr("xinyong.measures.decisions.utcnow", lambda: when)
    decision = Checker(engine, default_catalog()).decide(
        PERSON_D, "buy_flight_ticket", date(2025, 1, 1), known_at=when
    )
    assert decision.reasons and decision.known_at is not None
    grouped = DecisionWriter(engine, sync=False)
    event = {**_event(7), "at": when}
    try:
        wait(grouped.append_event(_event(0)))  # past the first group (PostgreSQL's transaction)
        for n, writer in enumerate((DecisionWriter(engine, sync=True), grouped)):
            wait(
                writer.submit(
                    replace(decision, decision_id=f"d-{n}"),
                    actor="t",
                    audit={**event, "resource": f"d-{n}"},
                )
            )
    finally:
        grouped.close()
    with engine.connect() as conn:
        stored = [r._asdict() for r in conn.execute(text("SELECT * FROM decisions ORDER BY id"))]
        events = [r._asdict() for r in conn.execute(text("SELECT * FROM audit_events ORDER BY id"))]
        assert audit.verify(conn).ok
    for row in stored:
        del row["id"], row["decision_id"]
    assert stored[0] == stored[1] and stored[0]["reasons"]
    for row in events:
        del row["id"], row["prev_hash"], row["hash"], row["resource"]
    assert events[1] == events[2] != events[0]


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def test_the_wal_stays_bounded_when_only_the_writer_writes(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's connection leaves checkpoints to its own thread; thousands of groups of one
    later the WAL is still about the size where it is truncated, not the megabytes written.
    Other connections keep SQLite's automatic checkpoints."""
    monkeypatch.setattr(writer_module, "WAL_LIMIT", 256 * 1024)
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 20)
    database = sqlite_engine.url.database
    assert database is not None
    wal = Path(f"{database}-wal")
    writer = DecisionWriter(sqlite_engine, sync=False)
    largest = 0
    try:
        for n in range(3000):
            writer.commit(_decision(n), actor="t", audit=_event(n))
            largest = max(largest, _size(wal))
        with sqlite_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        writer.close()
    # 3,000 groups wrote over 60 MiB of WAL frames
    assert largest <= 2 * 256 * 1024 + 64 * 1024, largest
    with sqlite_engine.connect() as conn:
        chain = audit.verify(conn)
        logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
    assert chain.ok and chain.count == 3000 and logged == 3000


def _wal_state(wal: Path) -> tuple[int, int | None]:
    """The WAL file's length and its header's checkpoint sequence number (bytes 12–15,
    big-endian), which SQLite counts up each time the log starts over from its beginning."""
    try:
        with wal.open("rb") as file:
            header = file.read(16)
        size = wal.stat().st_size
    except FileNotFoundError:
        return 0, None
    return size, int.from_bytes(header[12:16], "big") if len(header) == 16 else None


def _starts_and_cuts(states: list[tuple[int, int | None]]) -> tuple[int, int]:
    """How often, between two looks at the WAL, its log started over, and how often the file
    was cut shorter."""
    starts = cuts = 0
    for (size, sequence), (later_size, later_sequence) in itertools.pairwise(states):
        cuts += later_size < size
        starts += None not in (sequence, later_sequence) and later_sequence != sequence
    return starts, cuts


def test_the_wal_starts_over_from_its_beginning_and_is_not_cut(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``WAL_LIMIT`` the checkpointer makes the log start over, writing over the blocks the
    file already has: cutting the file instead stalled every writer 23–63 ms on a disk that
    discards freed blocks. (A rare cut remains allowed: the writer's own bound at twice the
    limit, when the thread got no CPU in time.)"""
    monkeypatch.setattr(writer_module, "WAL_LIMIT", 4 * 1024 * 1024)
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 20)
    database = sqlite_engine.url.database
    assert database is not None
    wal = Path(f"{database}-wal")
    writer = DecisionWriter(sqlite_engine, sync=False)
    states = []
    try:
        for n in range(3000):
            writer.commit(_decision(n), actor="t", audit=_event(n))
            states.append(_wal_state(wal))
    finally:
        writer.close()
    starts, cuts = _starts_and_cuts(states)
    # about 60 MiB of frames: over a dozen starts of a 4 MiB log
    assert starts >= 5 and cuts * 4 <= starts, (starts, cuts)
    assert max(size for size, _ in states) <= 2 * 4 * 1024 * 1024 + 64 * 1024
    with sqlite_engine.connect() as conn:
        assert audit.verify(conn).count == 3000


_TWO_WRITERS = """
import sys
from dataclasses import replace
from pathlib import Path
from tests.measures.test_writer import _decision, _event, _wal_state
from xinyong.measures import writer as writer_module
from xinyong.measures.writer import DecisionWriter
from xinyong.store.engine import connect

writer_module.WAL_LIMIT = 4 * 1024 * 1024
writer_module.CHECKPOINT_EVERY = 20
url, name, count = sys.argv[1:4]
engine = connect(url)
wal = Path(engine.url.database + "-wal")
writer = DecisionWriter(engine, sync=False)
for n in range(int(count)):
    decision = replace(_decision(n), decision_id=f"{name}-{n}")
    writer.commit(decision, actor=name, audit=_event(n))
    size, sequence = _wal_state(wal)
    print(size, -1 if sequence is None else sequence, flush=True)
writer.close()
"""


def test_while_the_log_starts_over_no_process_may_write(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpointer holds the turn between processes (on a descriptor of its own) while the
    log starts over: another API process's writer waits on that turn and wakes when it is
    free, instead of meeting SQLite's write lock and sleeping in its busy handler."""
    monkeypatch.setattr(writer_module, "WAL_LIMIT", 1024 * 1024)
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 20)
    lock = f"{sqlite_engine.url.database}{writer_module.WRITER_LOCK}"
    restart = writer_module._checkpoint_wal
    turn_taken: list[bool] = []

    def watched(driver: object, mode: str) -> None:
        if mode == "RESTART":  # as another process would: its own open of the lock file
            fd = os.open(lock, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                turn_taken.append(False)
            except BlockingIOError:
                turn_taken.append(True)
            finally:
                os.close(fd)
        restart(driver, mode)

    monkeypatch.setattr(writer_module, "_checkpoint_wal", watched)
    writer = DecisionWriter(sqlite_engine, sync=False)
    try:
        for n in range(1500):
            writer.commit(_decision(n), actor="t", audit=_event(n))
    finally:
        writer.close()
    assert turn_taken and all(turn_taken), turn_taken


def test_two_processes_writing_one_file_let_its_wal_start_over(sqlite_store_url: str) -> None:
    """Two API processes, each with its checkpointer, write one file: the log still starts over
    rather than being cut, and the audit chain is one chain of every event."""
    command = [sys.executable, "-c", _TWO_WRITERS, sqlite_store_url]
    children = [
        subprocess.Popen([*command, name, "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in ("a", "b")
    ]
    starts = cuts = 0
    for child in children:
        out, err = (stream.decode() for stream in child.communicate(timeout=120))
        assert child.returncode == 0, err
        states = [
            (int(size), None if int(sequence) < 0 else int(sequence))
            for size, sequence in (line.split() for line in out.splitlines())
        ]
        assert len(states) == 2000
        seen = _starts_and_cuts(states)
        starts, cuts = starts + seen[0], cuts + seen[1]
    assert starts >= 5 and cuts * 4 <= starts, (starts, cuts)
    engine = connect(sqlite_store_url)
    try:
        with engine.connect() as conn:
            chain = audit.verify(conn)
    finally:
        engine.dispose()
    assert chain.ok and chain.count == 4000


_CRASH = """
import os, signal, sys
from datetime import date
from xinyong.measures import writer as writer_module
from xinyong.measures.decisions import Decision
from xinyong.measures.writer import DecisionWriter
from xinyong.store.engine import connect

writer_module.WAL_LIMIT = 128 * 1024
writer_module.CHECKPOINT_EVERY = 10
writer = DecisionWriter(connect(sys.argv[1]), sync=False)
event = {"actor": "a", "role": "agency", "purpose": "boarding", "action": "check:x"}
for n in range(int(sys.argv[2])):
    writer.commit(
        Decision(
            decision_id=f"d-{n}", catalog_version="v", subject="S", action="buy_flight_ticket",
            at=date(2025, 1, 1), known_at=None, outcome="permit", until=None,
        ),
        actor="t", audit={**event, "subject": "S", "detail": {"n": n}},
    )
    print(n, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_loses_no_committed_group(sqlite_store_url: str) -> None:
    """Every group whose commit returned is in the store after the process is killed (WAL
    checkpoints left to the writer's thread, the log started over along the way)."""
    done = subprocess.run(
        [sys.executable, "-c", _CRASH, sqlite_store_url, "600"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    answered = len(done.stdout.split())
    assert answered == 600
    engine = connect(sqlite_store_url)
    try:
        with engine.connect() as conn:
            chain = audit.verify(conn)
            logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
    finally:
        engine.dispose()
    assert chain.ok and chain.count == answered and logged == answered
