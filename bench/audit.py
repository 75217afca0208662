"""The audit chain's cost: appending and verifying, against a plain log, same rows, same run.

    python bench/audit.py [--db URL] [--n 20000] [--callers 64,256,1024] [--serial-n 2000]
                          [--waiters threads|asyncio|both]

On the store's own schema (``upgrade``: what ``xinyong init`` makes; on PostgreSQL
``audit_events`` partitioned by month, the events dated now so they land in this month's
partition as live ones do). Realistic events: agency checks on a population of subjects, each
with a small JSON detail.

1. One transaction per event, ``--serial-n`` events: plain INSERTs into a log table without a
   chain (the baseline) and ``record`` (hash chain, head row lock).
2. ``--n`` events through the decision writer's group commit (``DecisionWriter.append_event``)
   from each ``--callers`` number of callers, each waiting for its event's commit before
   sending the next: as threads (``wait``, a caller on its own thread) and as coroutines on one
   event loop (``wait_async``, as the API's check endpoint waits); ``--waiters`` picks one or
   both. Events/s, groups and their mean size, the ratio to the plain INSERT baseline, and the
   chain verified (``verify``, every hash recomputed) after each.
3. The writer's capacity: the ``--n`` events queued at once from one thread, then waited for.
4. On PostgreSQL, the database's own floor for each group size the waiting callers made: the
   very rows the writer committed (read back with ``COPY … TO STDOUT``), appended again by one
   client on the plain driver in groups of that size, ``BEGIN; UPDATE audit_head; COPY;
   COMMIT`` each — no hashing, no encoding, no Python between the groups but the loop. What
   any client that commits one group after another pays at that group size; ours / floor.
5. Reading the last chain back with ``verify`` against a plain ``SELECT … ORDER BY id``.

Prints events/s for each, the ratios, and the load average before and after. ``--db`` defaults
to a temporary SQLite file; give a PostgreSQL URL of a scratch database to measure there (the
bench migrates it, empties the audit tables before each part and at the end, and drops its
plain table).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
)

from xinyong.audit import GENESIS_HASH, record, verify
from xinyong.audit.tables import audit_events, audit_head
from xinyong.measures.writer import DecisionWriter, wait, wait_async
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade

plain = MetaData()
plain_events = Table(
    "bench_plain_events",
    plain,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    *(Column(name, Text) for name in ("actor", "role", "purpose", "subject", "action")),
    *(Column(name, Text) for name in ("resource", "outcome", "detail")),
)


def events(n: int, seed: int, t0: datetime | None = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    t0 = datetime.now(UTC) if t0 is None else t0
    actions = ["buy_flight_ticket", "buy_train_ticket", "public_procurement", "bank_loan"]
    return [
        {
            "actor": f"agency-{rng.randrange(40)}-user-{rng.randrange(500)}",
            "role": "agency",
            "purpose": "联合惩戒核查 / joint measures check",
            "subject": f"9111{rng.randrange(10**13):013d}X",
            "action": "check",
            "resource": rng.choice(actions),
            "outcome": rng.choice(["permit", "permit", "permit", "deny"]),
            "detail": {"decision_id": f"d-{i:08d}", "catalog": "2025.1", "records": [i, i + 1]},
            "at": t0 + timedelta(milliseconds=i),
        }
        for i in range(n)
    ]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} events/s ({seconds:.2f} s)"


def group_commit(engine: Engine, rows: list[dict[str, Any]], callers: int) -> tuple[float, int]:
    """Seconds to append ``rows`` through one ``DecisionWriter`` from ``callers`` threads, each
    waiting for its event's group to commit before the next; and the groups written. The
    threads are started first and let go together: their start is not timed."""
    writer = DecisionWriter(engine, sync=False)
    shares = [rows[i::callers] for i in range(callers)]
    go = threading.Event()

    def caller(share: list[dict[str, Any]]) -> None:
        go.wait()
        for row in share:
            wait(writer.append_event(row))

    threads = [threading.Thread(target=caller, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed, writer.groups


def group_commit_async(
    engine: Engine, rows: list[dict[str, Any]], callers: int
) -> tuple[float, int]:
    """The same with ``callers`` coroutines on one event loop, each awaiting its commit with
    ``wait_async`` as the API's check endpoint does (one loop thread, no thread per request)."""
    writer = DecisionWriter(engine, sync=False)
    shares = [rows[i::callers] for i in range(callers)]

    async def caller(share: list[dict[str, Any]]) -> None:
        for row in share:
            await wait_async(writer.append_event(row))

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(caller(share) for share in shares))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    writer.close()
    return elapsed, writer.groups


def queued_at_once(engine: Engine, rows: list[dict[str, Any]]) -> tuple[float, int]:
    """Seconds to append ``rows`` queued all at once from one thread (the writer's capacity:
    groups as big as ``MAX_BATCH``); and the groups written."""
    writer = DecisionWriter(engine, sync=False)
    start = time.perf_counter()
    done = [writer.append_event(row) for row in rows]
    for future in done:
        wait(future, timeout=600)
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed, writer.groups


def floor(engine: Engine, group: int) -> tuple[float, int]:
    """Seconds for PostgreSQL alone to append the chain now in the store again, in groups of
    ``group`` from one client, and the events appended. The rows are read back as ``COPY``
    text first (not timed), then the chain is emptied and each group is one transaction on the
    plain driver: the head's row lock and update, the group's ``COPY``, the commit."""
    with engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor:
            with cursor.copy("COPY (SELECT * FROM audit_events ORDER BY id) TO STDOUT") as copy:
                lines = b"".join(bytes(block) for block in copy).splitlines(keepends=True)
            cursor.execute("SELECT id, seq, hash FROM audit_head")
            ((head_id, _, _),) = cursor.fetchall()
        driver.commit()
    empty_chain(engine)
    columns = ", ".join(column.name for column in audit_events.columns)
    # Each group with the head after it: its last event's position and hash (the last column).
    groups = [
        (lines[i : i + group], min(i + group, len(lines)), lines[min(i + group, len(lines)) - 1])
        for i in range(0, len(lines), group)
    ]
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        driver.autocommit = True
        driver.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (%s, 0, %s)", (head_id, GENESIS_HASH)
        )
        driver.autocommit = False
        start = time.perf_counter()
        for rows, seq, last in groups:
            last_hash = last.rstrip(b"\n").rsplit(b"\t", 1)[1].decode()
            with driver.cursor() as cursor:
                cursor.execute(
                    "UPDATE audit_head SET seq = %s, hash = %s WHERE id = %s",
                    (seq, last_hash, head_id),
                )
                with cursor.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
                    copy.write(b"".join(rows))
            driver.commit()
        elapsed = time.perf_counter() - start
    return elapsed, len(lines)


def empty_chain(engine: Engine) -> None:
    """No events, no head. ``TRUNCATE`` on PostgreSQL: deleted rows would stay in the indexes
    as dead entries above the new chain's ids until vacuumed, and every look at the newest id
    would walk them (a live log never deletes)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE audit_events, audit_head"))
        else:
            conn.execute(delete(audit_events))
            conn.execute(delete(audit_head))


def verified(engine: Engine, expected: int) -> str:
    with engine.connect() as conn:
        result = verify(conn)
    assert result.ok and result.count == expected, result
    return f"chain verified: {result.count:,} events, ok={result.ok}"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--serial-n", type=int, default=2000)
    parser.add_argument("--callers", default="64,256,1024")
    parser.add_argument("--waiters", choices=("threads", "asyncio", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    callers = [int(c) for c in args.callers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = connect(url)
        upgrade(engine)
        plain.drop_all(engine)
        plain.create_all(engine)
        empty_chain(engine)
        serial = events(args.serial_n, args.seed)
        print(f"{engine.dialect.name}: {args.serial_n:,} events one per transaction, "
              f"{args.n:,} grouped; {load()}")  # fmt: skip

        start = time.perf_counter()
        for row in serial:
            with engine.begin() as conn:
                conn.execute(insert(plain_events).values({**row, "detail": str(row["detail"])}))
        baseline = args.serial_n / (time.perf_counter() - start)
        start = time.perf_counter()
        for row in serial:
            with engine.begin() as conn:
                record(conn, **row)
        chained = args.serial_n / (time.perf_counter() - start)
        verified(engine, args.serial_n)
        print(f"append  plain INSERT per transaction (baseline)  {baseline:>9,.0f} events/s")
        print(f"append  audit.record per transaction             {chained:>9,.0f} events/s "
              f"({chained / baseline:.2f}× the baseline)")  # fmt: skip

        postgresql = engine.dialect.name == "postgresql"
        for count in callers:
            for kind, append in (("threads", group_commit), ("asyncio", group_commit_async)):
                if args.waiters not in (kind, "both"):
                    continue
                empty_chain(engine)
                seconds, groups = append(engine, events(args.n, args.seed), count)
                rate = args.n / seconds
                size = args.n / groups
                print(f"append  group commit, {count:>5} waiting {kind} {rate:>9,.0f} events/s "
                      f"({seconds:.2f} s; {groups:,} groups of {size:,.1f}; "
                      f"{rate / baseline:.1f}× the baseline); {verified(engine, args.n)}; "
                      f"{load()}")  # fmt: skip
                if postgresql:
                    seconds, appended = floor(engine, max(1, round(size)))
                    assert appended == args.n, appended
                    print(f"floor   PostgreSQL alone, groups of {round(size):>5}     "
                          f"{args.n / seconds:>9,.0f} events/s ({seconds:.2f} s); ours / floor "
                          f"{rate * seconds / args.n:.2f}; {verified(engine, args.n)}")  # fmt: skip

        empty_chain(engine)
        seconds, groups = queued_at_once(engine, events(args.n, args.seed))
        capacity = args.n / seconds
        print(f"append  queued at once (the writer's capacity)   {capacity:>9,.0f} events/s "
              f"({seconds:.2f} s; {groups:,} groups); {verified(engine, args.n)}")  # fmt: skip

        with engine.connect() as conn:
            start = time.perf_counter()
            scanned = len(conn.execute(select(audit_events).order_by(audit_events.c.id)).all())
            baseline_read = time.perf_counter() - start
            start = time.perf_counter()
            result = verify(conn)
            chain_verify = time.perf_counter() - start
        assert result.ok and result.count == scanned == args.n, result
        scan = args.n / baseline_read
        print(f"read    SELECT … ORDER BY id (baseline)          {scan:>9,.0f} events/s")
        print(f"read    audit.verify                             {args.n / chain_verify:>9,.0f} "
              f"events/s ({chain_verify / baseline_read:.2f}× the baseline's time)")  # fmt: skip
        print(load())
        empty_chain(engine)
        plain.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
