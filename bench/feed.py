"""The feed end to end, against a bare nats-py loop on the same payloads, same run, same server.

    python bench/feed.py [--events 10000] [--changes 300] [--db URL] [--nats URL]

1. Throughput. ``--events`` restriction events (realistic subjects: generated citizen numbers and
   USCCs across provinces, measure ids and legal bases from the shipped catalog) are written to
   the outbox, then the publisher (outbox → JetStream with ``Nats-Msg-Id``, marked published)
   runs while a consumer reads the stream: events/s from the first publish to the last message
   consumed. Baseline: the same message bodies published with nats-py's ``publish_async`` (same
   headers, same stream settings) while a consumer reads them. Prints both and the ratio
   (goal: at least 0.5).
2. Latency. With platform A's publisher, platform B (``federation sync --follow``, accepting
   records, its own SQLite file) and a replica (``replica sync --follow``) running, ``--changes``
   changes (a record and the restriction it makes, one transaction) are committed on A one by
   one (20 ms apart); for each, the time from the commit on A to B's commit of the record, and
   to the replica having applied the restriction (a ``replica check`` would see it). Prints p50,
   p99 and max of both.

Setup (writing the outbox) is not timed. Streams are the bench's own and deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import nats
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy import func, select

from xinyong.catalog import default_catalog
from xinyong.codes import ric, uscc
from xinyong.codes.regions import sample
from xinyong.feed import emit, federation, platform_id, set_platform_id
from xinyong.feed import publisher as pub
from xinyong.feed.events import Event, event_from_row
from xinyong.feed.replica import Replica
from xinyong.feed.replica import sync as replica_sync
from xinyong.feed.stream import FeedStream, connected, ensure_stream, pull_subscription
from xinyong.feed.tables import feed_events
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade


def subjects(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        region = sample(rng).code
        if rng.random() < 0.6:
            out.append(ric.generate(rng, region=region))
        else:
            out.append(uscc.generate(rng, region=region))
    return out


def payloads(rng: random.Random, n: int) -> list[tuple[str, dict[str, object]]]:
    catalog = default_catalog()
    measures = [m for m in catalog.measures.values() if m.polarity == "punishment"]
    codes = subjects(rng, max(1, n // 3))
    out: list[tuple[str, dict[str, object]]] = []
    for _ in range(n):
        m = rng.choice(measures)
        out.append(
            (
                rng.choice(codes),
                {
                    "action": rng.choice(m.actions),
                    "measure_id": m.id,
                    "effect": m.effect,
                    "implementing_agency": m.implementing_agency,
                    "legal_basis": [catalog.cite(ref) for ref in m.legal_basis],
                    "valid_from": "2026-01-01",
                    "valid_to": None,
                },
            )
        )
    return out


async def consume(feed: FeedStream, n: int) -> float:
    """Read ``n`` messages from the stream; returns the time the last one arrived."""
    async with connected(feed) as (_nc, js):
        await ensure_stream(js, feed)
        config = ConsumerConfig(ack_policy=AckPolicy.NONE, inactive_threshold=600)
        async with pull_subscription(js, feed, f"{feed.prefix}.>", config) as sub:
            got = idle = 0
            while got < n:
                try:
                    got += len(await sub.fetch(1000, timeout=2))
                    idle = 0
                except TimeoutError:
                    idle += 1
                    if idle > 60:
                        raise RuntimeError(f"consumer stalled at {got} of {n} messages") from None
            return time.perf_counter()


async def ours(engine_url: str, feed: FeedStream, n: int) -> float:
    engine = connect(engine_url)
    consumer = asyncio.create_task(consume(feed, n))
    start = time.perf_counter()
    result = await pub.run(engine, feed, once=True, batch=1000)
    end = await consumer
    assert result.published == n, result
    engine.dispose()
    return n / (end - start)


async def bare(feed: FeedStream, bodies: Sequence[tuple[str, bytes, str]]) -> float:
    consumer = asyncio.create_task(consume(feed, len(bodies)))
    async with connected(feed) as (_nc, js):
        await ensure_stream(js, feed)
        start = time.perf_counter()
        for i in range(0, len(bodies), 1000):
            futures = [
                await js.publish_async(subject, body, headers={"Nats-Msg-Id": msg_id})
                for subject, body, msg_id in bodies[i : i + 1000]
            ]
            await asyncio.gather(*futures)
    end = await consumer
    return len(bodies) / (end - start)


async def latency(
    engine_url: str, national_url: str, feed: FeedStream, changes: int, replica: Path
) -> tuple[list[float], list[float]]:
    """Commit ``changes`` changes on platform A, one by one; for each, the seconds until platform
    B (``federation sync --follow``) has committed it and until the replica has applied it."""
    engine = connect(engine_url)
    national = connect(national_url)
    upgrade(national)
    with engine.begin() as conn:
        origin = platform_id(conn)
    with national.begin() as conn:
        set_platform_id(conn, "bench_b")
    rng = random.Random(7)
    items = payloads(rng, changes)
    committed: dict[str, float] = {}
    at_b: dict[str, float] = {}
    at_replica: dict[str, float] = {}
    record_of: dict[str, str] = {}
    stop = asyncio.Event()

    def seen(batch: Sequence[tuple[int, Event]]) -> None:
        now = time.perf_counter()
        for _seq, event in batch:
            at_replica.setdefault(event.event_id, now)

    def federated(events: Sequence[Event]) -> None:
        now = time.perf_counter()
        for event in events:
            at_b.setdefault(event.event_id, now)

    publisher = asyncio.create_task(pub.run(engine, feed, once=False, poll=0.02, stop=stop))
    follower = asyncio.create_task(
        replica_sync(replica, feed, follow=True, stop=stop, on_applied=seen)
    )
    peer = asyncio.create_task(
        federation.sync(
            national, feed, accept=["record"], follow=True, stop=stop, on_applied=federated
        )
    )
    await asyncio.sleep(0.5)
    for n, (code, payload) in enumerate(items):
        with engine.begin() as conn:  # a record and the restriction it makes, one transaction
            record_id = emit(
                conn, "record.added", code, {"record_type": "bench", "record_key": f"k{n}"}
            )
            event_id = emit(conn, "restriction.added", code, payload)
        committed[event_id] = time.perf_counter()
        record_of[event_id] = record_id
        await asyncio.sleep(0.02)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and (
        len(at_replica.keys() & committed.keys()) < changes
        or len(at_b.keys() & set(record_of.values())) < changes
    ):
        await asyncio.sleep(0.05)
    stop.set()
    await publisher
    await follower
    await peer
    engine.dispose()
    with national.connect() as conn:
        held = conn.execute(select(func.count()).where(feed_events.c.origin == origin)).scalar_one()
    national.dispose()
    assert held == changes, f"B holds {held} of {changes} records"
    with Replica(replica) as rep:
        code, payload = items[-1]
        decision = rep.check(code, str(payload["action"]))
        assert decision.decision != "permit", decision
    to_replica = [at_replica[e] - committed[e] for e in committed if e in at_replica]
    to_b = [at_b[record_of[e]] - committed[e] for e in committed if record_of[e] in at_b]
    return to_b, to_replica


async def drop(feed: FeedStream) -> None:
    nc = await nats.connect(feed.url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await nc.jetstream().delete_stream(feed.stream)
    await nc.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--db", default=None, help="database URL (default: temporary SQLite)")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = connect(url)
        upgrade(engine)
        rng = random.Random(1)
        items = payloads(rng, args.events)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            for code, payload in items:
                emit(conn, "restriction.added", code, payload)
        print(f"outbox: {args.events} events written in {time.perf_counter() - t0:.1f}s (setup)")
        with engine.connect() as conn:
            rows = conn.execute(select(feed_events).order_by(feed_events.c.id)).mappings().all()
            prefix_b = f"bb{tag}.events"
            bodies = [
                (
                    event_from_row(r).subject(prefix_b),
                    json.dumps(event_from_row(r).as_json(), ensure_ascii=False).encode(),
                    uuid.uuid4().hex,
                )
                for r in rows
            ]
        engine.dispose()

        feed_a = FeedStream(url=args.nats, stream=f"BA{tag}", prefix=f"ba{tag}.events")
        feed_b = FeedStream(url=args.nats, stream=f"BB{tag}", prefix=prefix_b)
        feed_c = FeedStream(url=args.nats, stream=f"BC{tag}", prefix=f"bc{tag}.events")
        try:
            rate_bare = asyncio.run(bare(feed_b, bodies))
            rate_ours = asyncio.run(ours(url, feed_a, args.events))
            to_b, lat = asyncio.run(
                latency(
                    url,
                    f"sqlite:///{Path(tmp) / 'national.db'}",
                    feed_c,
                    args.changes,
                    Path(tmp) / "replica.db",
                )
            )
        finally:
            for f in (feed_a, feed_b, feed_c):
                asyncio.run(drop(f))
    print(f"bare nats-py JetStream publish+consume: {rate_bare:,.0f} events/s")
    print(f"xinyong outbox → JetStream → consumer:  {rate_ours:,.0f} events/s")
    print(f"ratio (goal ≥ 0.5): {rate_ours / rate_bare:.2f}")
    for label, times in (
        ("change on A → committed on platform B", to_b),
        ("change on A → replica decision changed", lat),
    ):
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{label} over {len(times)} changes: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
