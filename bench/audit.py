"""The audit chain's cost: ``record`` and ``verify`` against a plain log, same rows, same run.

    python bench/audit.py [--db URL] [--n 5000] [--callers 64]

Appends ``n`` realistic events (agency checks on a population of subjects, each with a small JSON
detail), one transaction per event, twice: with ``record`` (hash chain, head row lock) and as
plain INSERTs into a log table without a chain (the baseline). Then the same events through the
decision writer's group commit (``DecisionWriter.append_event``), from ``--callers`` threads
that each wait for their event's commit before sending the next (as API requests do): events/s,
the ratio to the plain INSERT baseline, groups written, and the chain verified. Then reads
the chain back with ``verify`` (recomputing every hash) against a plain ``SELECT … ORDER BY id``
of the same rows. Prints events/s for each and the ratios. ``--db`` defaults to a temporary
SQLite file; give a PostgreSQL URL of a scratch database to measure there (the bench creates and
drops its own tables).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, insert, select

from xinyong.audit import record, verify
from xinyong.audit.tables import audit_events, audit_head
from xinyong.measures.writer import DecisionWriter, wait
from xinyong.store.engine import connect
from xinyong.store.metadata import metadata

plain = MetaData()
plain_events = Table(
    "bench_plain_events",
    plain,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    *(Column(name, Text) for name in ("actor", "role", "purpose", "subject", "action")),
    *(Column(name, Text) for name in ("resource", "outcome", "detail")),
)


def events(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    t0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
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
            "at": t0 + timedelta(seconds=i * 3),
        }
        for i in range(n)
    ]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} events/s ({seconds:.2f} s)"


def group_commit(engine: Any, rows: list[dict[str, Any]], callers: int) -> tuple[float, int]:
    """Seconds to append ``rows`` through one ``DecisionWriter`` from ``callers`` threads, each
    waiting for its event's group to commit before the next; and the groups written."""
    writer = DecisionWriter(engine, sync=False)
    shares = [rows[i::callers] for i in range(callers)]

    def caller(share: list[dict[str, Any]]) -> None:
        for row in share:
            wait(writer.append_event(row))

    threads = [threading.Thread(target=caller, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed, writer.groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--callers", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = connect(url)
        chain_tables = [audit_events, audit_head]
        metadata.drop_all(engine, tables=chain_tables)
        plain.drop_all(engine)
        metadata.create_all(engine, tables=chain_tables)
        plain.create_all(engine)
        rows = events(args.n, args.seed)
        print(f"{args.n:,} events on {engine.dialect.name}")

        start = time.perf_counter()
        for row in rows:
            with engine.begin() as conn:
                conn.execute(insert(plain_events).values({**row, "detail": str(row["detail"])}))
        baseline_append = time.perf_counter() - start

        start = time.perf_counter()
        for row in rows:
            with engine.begin() as conn:
                record(conn, **row)
        chain_append = time.perf_counter() - start

        grouped_append, groups = group_commit(engine, rows, args.callers)

        with engine.connect() as conn:
            start = time.perf_counter()
            scanned = len(conn.execute(select(audit_events).order_by(audit_events.c.id)).all())
            baseline_read = time.perf_counter() - start
            start = time.perf_counter()
            result = verify(conn)
            chain_verify = time.perf_counter() - start
        assert result.ok and result.count == scanned == 2 * args.n, result

        print(f"append  plain INSERT (baseline)  {rate(args.n, baseline_append)}")
        print(f"append  audit.record             {rate(args.n, chain_append)}")
        print(f"        ratio record / baseline  {chain_append / baseline_append:.2f}×")
        print(f"append  group commit, {args.callers} waiting callers "
              f"{rate(args.n, grouped_append)} in {groups:,} groups")  # fmt: skip
        print(f"        ratio baseline / grouped {baseline_append / grouped_append:.2f}× "
              f"(speed-up of the grouped chain over one INSERT per transaction)")  # fmt: skip
        print(f"        chain verified: {result.count:,} events, ok={result.ok}")
        print(f"read    SELECT … ORDER BY id     {rate(args.n, baseline_read)}")
        print(f"read    audit.verify             {rate(args.n, chain_verify)}")
        print(f"        ratio verify / baseline  {chain_verify / baseline_read:.2f}×")
        metadata.drop_all(engine, tables=chain_tables)
        plain.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
