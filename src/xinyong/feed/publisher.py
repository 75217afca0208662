"""The publisher: moves outbox events to JetStream, then routes and delivers webhooks.

Exactly once, across crashes: a batch is read from the outbox, published with each event's id as
``Nats-Msg-Id``, and marked published only after JetStream acknowledged every message. A crash
before the mark sends the batch again on restart; JetStream drops the copies it already holds
(duplicate window), so a consumer sees each event once. Nothing is marked that was not stored, so
nothing is lost.

``run(once=True)`` publishes what is pending and returns; otherwise it polls until ``stop`` is
set, and always finishes the batch in flight first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from sqlalchemy import Engine, select, update

from xinyong.errors import UnusableInput
from xinyong.feed.events import event_from_row
from xinyong.feed.stream import FeedStream, connected, ensure_stream
from xinyong.feed.subscriptions import route_pending
from xinyong.feed.tables import feed_events
from xinyong.feed.webhooks import RetryPolicy, Round, deliver_due
from xinyong.store.engine import utcnow

MSG_ID = "Nats-Msg-Id"


@dataclass
class RunResult:
    published: int = 0
    duplicates: int = 0
    routed: int = 0
    webhooks: Round = field(default_factory=Round)

    def as_json(self) -> dict[str, object]:
        return {
            "published": self.published,
            "duplicates": self.duplicates,
            "routed": self.routed,
            "webhooks": self.webhooks.as_json(),
        }


async def publish_batch(
    engine: Engine, js: JetStreamContext, feed: FeedStream, *, size: int
) -> tuple[int, int]:
    """Publish up to ``size`` pending events; returns (published, how many JetStream had)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(feed_events)
                .where(feed_events.c.published_at.is_(None))
                .order_by(feed_events.c.id)
                .limit(size)
            )
            .mappings()
            .all()
        )
    if not rows:
        return 0, 0
    futures = []
    for row in rows:
        event = event_from_row(row)
        body = json.dumps(event.as_json(), ensure_ascii=False).encode()
        futures.append(
            await js.publish_async(
                event.subject(feed.prefix), body, headers={MSG_ID: event.event_id}
            )
        )
    try:
        acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
    except Exception as exc:
        raise UnusableInput(
            f"JetStream 未确认发布 / JetStream did not acknowledge the batch: {type(exc).__name__}"
        ) from exc
    duplicates = sum(1 for ack in acks if ack.duplicate)
    with engine.begin() as conn:
        conn.execute(
            update(feed_events)
            .where(feed_events.c.id.in_([r["id"] for r in rows]))
            .values(published_at=utcnow())
        )
    return len(rows), duplicates


async def run(
    engine: Engine,
    feed: FeedStream | None,
    *,
    once: bool,
    batch: int = 1000,
    poll: float = 0.1,
    stop: asyncio.Event | None = None,
    policy: RetryPolicy = RetryPolicy(),
) -> RunResult:
    """Publish (unless ``feed`` is None: webhooks only), route and deliver until done or stopped."""
    stop = stop or asyncio.Event()
    result = RunResult()
    if feed is None:
        await _route_and_deliver(engine, result, policy)
        return result
    async with connected(feed) as (_nc, js):
        await ensure_stream(js, feed)
        while not stop.is_set():
            published, duplicates = await publish_batch(engine, js, feed, size=batch)
            result.published += published
            result.duplicates += duplicates
            if published < batch:
                await _route_and_deliver(engine, result, policy)
                if once:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll)
    return result


async def _route_and_deliver(engine: Engine, result: RunResult, policy: RetryPolicy) -> None:
    while True:
        with engine.begin() as conn:
            routed = route_pending(conn)
        result.routed += routed
        if routed == 0:
            break
    got = await asyncio.to_thread(deliver_due, engine, policy=policy)
    result.webhooks = Round(
        result.webhooks.delivered + got.delivered,
        result.webhooks.failed + got.failed,
        result.webhooks.dead + got.dead,
    )
