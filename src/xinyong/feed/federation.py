"""Federation: a local platform and the national one exchange events over the same feed.

Each platform publishes its own events (``xinyong feed run``) and pulls its peers' with a durable
JetStream consumer per event family (``record``, ``list``, ``restriction``, ``objection``,
``repair``): a provincial platform accepts ``list`` from the national one; the national platform
accepts ``record`` from the provinces. A received event is kept in the outbox table under its
origin (so local subscribers get it; it is never published again) and folds into
``feed_peer_state``: the newest state of each record, list entry, restriction, objection or
repair a peer sent.

Idempotent: an event already held (same ``event_id``) is skipped, and peer state only moves to a
higher origin sequence, so two platforms that exchange the same events twice, in any order, end
in the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Connection, Engine, func, insert, select, update

from xinyong.errors import UnusableInput
from xinyong.feed.events import Event, platform_id
from xinyong.feed.stream import FeedStream, connected, ensure_stream, pull_subscription
from xinyong.feed.tables import feed_events, feed_peer_state
from xinyong.store.engine import utcnow

FAMILIES = ("record", "list", "restriction", "objection", "repair")


@dataclass
class FederationResult:
    received: int = 0
    applied: int = 0
    already_held: int = 0
    own: int = 0
    by_family: dict[str, int] = field(default_factory=dict)
    #: The events this call newly applied (for ``on_applied``; not in the JSON).
    new_events: list[Event] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "already_held": self.already_held,
            "own": self.own,
            "by_family": self.by_family,
        }


def entity_of(event: Event) -> tuple[str, str]:
    """What a peer's event is about: (entity, key) in ``feed_peer_state``."""
    family = event.event_type.split(".", 1)[0]
    p = event.payload
    if family == "record":
        return "record", str(p.get("record_key") or event.event_id)
    if family == "list":
        return "list_entry", f"{p.get('list_id')}:{event.subject_code}"
    if event.event_type in ("restriction.lifted_once", "restriction.lifting_withdrawn"):
        return "lifting", str(p.get("record_key") or event.event_id)
    if family == "restriction" and p.get("entry_id") is not None and "measure_id" not in p:
        # one event per fact (contract 2): the fact is the entity
        fact = (p.get("entry_id"), p.get("via_subject"), p.get("role"), p.get("relation_record_id"))
        return "restriction", f"{event.subject_code}:" + ":".join(map(str, fact))
    if family == "restriction":
        return "restriction", f"{event.subject_code}:{p.get('action')}:{p.get('measure_id')}"
    return family, str(p.get(f"{family}_id") or event.event_id)  # a case: objection_id …


def apply_events(conn: Connection, events: Sequence[Event]) -> FederationResult:
    """Take peers' events into this platform's store, in the caller's transaction."""
    result = FederationResult(received=len(events))
    me = platform_id(conn)
    theirs = [e for e in events if e.origin != me]
    result.own = len(events) - len(theirs)
    ids = [e.event_id for e in theirs]
    held: set[str] = set()
    for start in range(0, len(ids), 500):
        held |= set(
            conn.execute(
                select(feed_events.c.event_id).where(
                    feed_events.c.event_id.in_(ids[start : start + 500])
                )
            ).scalars()
        )
    now = utcnow()
    for event in theirs:
        if event.event_id in held:
            result.already_held += 1
            continue
        held.add(event.event_id)
        conn.execute(
            insert(feed_events).values(
                event_id=event.event_id,
                event_type=event.event_type,
                origin=event.origin,
                origin_seq=event.seq,
                subject_code=event.subject_code,
                subject_kind=event.subject_kind,
                region=event.region,
                payload=event.payload,
                occurred_at=event.occurred_at,
                published_at=now,
            )
        )
        _fold(conn, event)
        result.applied += 1
        result.new_events.append(event)
        family = event.event_type.split(".", 1)[0]
        result.by_family[family] = result.by_family.get(family, 0) + 1
    return result


def _fold(conn: Connection, event: Event) -> None:
    entity, key = entity_of(event)
    state = {"type": event.event_type, "subject_code": event.subject_code, **event.payload}
    where = (
        (feed_peer_state.c.origin == event.origin)
        & (feed_peer_state.c.entity == entity)
        & (feed_peer_state.c.entity_key == key)
    )
    seq = conn.execute(select(feed_peer_state.c.origin_seq).where(where)).scalar()
    values = {
        "origin_seq": event.seq,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "state": state,
    }
    if seq is None:
        conn.execute(
            insert(feed_peer_state).values(
                origin=event.origin, entity=entity, entity_key=key, **values
            )
        )
    elif seq < event.seq:
        conn.execute(update(feed_peer_state).where(where).values(**values))


async def sync(
    engine: Engine,
    feed: FeedStream,
    *,
    accept: Sequence[str] = FAMILIES,
    follow: bool = False,
    stop: asyncio.Event | None = None,
    batch: int = 500,
    on_applied: Callable[[Sequence[Event]], None] | None = None,
) -> FederationResult:
    """Pull peers' events of the accepted families and apply them; durable, acked after commit.

    Each family is pulled by its own loop, so an event waits for no other family's empty poll:
    with ``follow`` a peer's change is applied as soon as JetStream delivers it. ``on_applied``
    is called after each commit with the events newly applied (not those already held).
    """
    unknown = [f for f in accept if f not in FAMILIES]
    if unknown or not accept:
        raise UnusableInput(
            f"事件类别须为 {', '.join(FAMILIES)} / families are {', '.join(FAMILIES)}: "
            f"{', '.join(unknown) or '(none)'}"
        )
    stop = stop or asyncio.Event()
    with engine.begin() as conn:
        me = platform_id(conn)
    total = FederationResult()
    async with connected(feed) as (_nc, js), contextlib.AsyncExitStack() as subscribed:
        await ensure_stream(js, feed)
        subs = []
        for family in dict.fromkeys(accept):
            durable = f"fed_{me}_{family}".replace(".", "_")
            config = ConsumerConfig(
                durable_name=durable,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=60,
                max_ack_pending=20000,
            )
            subs.append(
                await subscribed.enter_async_context(
                    pull_subscription(js, feed, feed.family(family), config, durable=durable)
                )
            )

        async def pull(sub: JetStreamContext.PullSubscription) -> None:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(batch, timeout=0.2 if follow else 1.0)
                except TimeoutError:
                    if follow:
                        continue
                    return
                events = []
                for msg in msgs:
                    try:
                        events.append(Event.from_json(json.loads(msg.data)))
                    except (UnusableInput, ValueError):
                        continue
                with engine.begin() as conn:
                    got = apply_events(conn, events)
                for msg in msgs:
                    await msg.ack()
                _add(total, got)
                if on_applied is not None and got.applied:
                    on_applied(got.new_events)
                if len(msgs) < batch and not follow:
                    return

        await asyncio.gather(*(pull(sub) for sub in subs))
    return total


def _add(total: FederationResult, got: FederationResult) -> None:
    total.received += got.received
    total.applied += got.applied
    total.already_held += got.already_held
    total.own += got.own
    for family, n in got.by_family.items():
        total.by_family[family] = total.by_family.get(family, 0) + n


def peer_summary(conn: Connection) -> list[dict[str, Any]]:
    """How much each peer has sent, by entity: for ``xinyong federation status``."""
    rows = conn.execute(
        select(feed_peer_state.c.origin, feed_peer_state.c.entity, func.count())
        .group_by(feed_peer_state.c.origin, feed_peer_state.c.entity)
        .order_by(feed_peer_state.c.origin, feed_peer_state.c.entity)
    )
    return [{"origin": o, "entity": e, "count": int(n)} for o, e, n in rows]
