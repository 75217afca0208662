"""A follower told to stop stops at once and loses nothing (against the real JetStream server).

``federation sync --follow`` and ``replica sync --follow`` pull from JetStream; they used to
stall for the whole 30 s NATS drain timeout when stopped, because draining the connection waited
for a pull subscription's queue that a timed-out fetch left non-empty. The bound below is 5 s: far
above a prompt stop (well under a second here), far below the 30 s stall, so a loaded machine
does not fail the test and the bug cannot come back unseen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from xinyong.feed import emit, publisher, set_platform_id
from xinyong.feed import federation as fed
from xinyong.feed.replica import Replica
from xinyong.feed.replica import sync as replica_sync
from xinyong.feed.stream import FeedStream

#: Far below the 30 s drain stall, far above a prompt stop; see the module's docstring.
STOPS_WITHIN = 5.0
PERSON = "110101199003074514"
COMPANY = "911101015366008218"
FLIGHT = {
    "action": "buy_flight_ticket",
    "measure_id": "consumption_restriction_flight",
    "effect": "deny",
    "legal_basis": ["法释〔2015〕17号"],
}


def _publish_restrictions(province: Engine, feed: FeedStream, codes: list[str]) -> None:
    with province.begin() as conn:
        for code in codes:
            emit(conn, "restriction.added", code, FLIGHT)
    asyncio.run(publisher.run(province, feed, once=True))


async def _follow_then_stop(
    follower: Callable[[asyncio.Event], Awaitable[Any]], caught_up: Callable[[], bool]
) -> tuple[Any, float]:
    """Start ``follower``, wait until ``caught_up()``, then stop it: (its result, seconds)."""
    stop = asyncio.Event()
    task = asyncio.create_task(follower(stop))
    for _ in range(600):  # a deadline against hanging, not a timing assertion
        if caught_up() or task.done():
            break
        await asyncio.sleep(0.05)
    assert not task.done(), task.result()
    assert caught_up(), "the follower never applied the published events"
    started = time.monotonic()
    stop.set()
    result = await asyncio.wait_for(task, timeout=60)
    return result, time.monotonic() - started


def test_a_stopped_federation_follower_stops_promptly_and_loses_nothing(
    engine: Engine, second_engine: Engine, feed: FeedStream
) -> None:
    province, national = engine, second_engine
    with province.begin() as conn:
        set_platform_id(conn, "hebei")
    with national.begin() as conn:
        set_platform_id(conn, "national")
    with province.begin() as conn:
        for i in range(5):
            emit(conn, "record.added", PERSON, {"record_type": "admin_penalty", "n": i})
    asyncio.run(publisher.run(province, feed, once=True))
    applied: list[str] = []

    async def follower(stop: asyncio.Event) -> fed.FederationResult:
        return await fed.sync(
            national,
            feed,
            accept=["record"],
            follow=True,
            stop=stop,
            on_applied=lambda events: applied.extend(e.event_id for e in events),
        )

    result, took = asyncio.run(_follow_then_stop(follower, lambda: len(applied) == 5))
    assert took < STOPS_WITHIN, f"stopping took {took:.1f} s"
    assert result.applied == 5 and len(set(applied)) == 5

    # Stopped with every event acknowledged: a later run gets only what came after the stop.
    with province.begin() as conn:
        emit(conn, "record.added", PERSON, {"record_type": "admin_penalty", "n": 5})
    asyncio.run(publisher.run(province, feed, once=True))
    later = asyncio.run(fed.sync(national, feed, accept=["record"]))
    assert (later.received, later.applied, later.already_held) == (1, 1, 0)


def test_a_stopped_replica_follower_stops_promptly_and_loses_nothing(
    tmp_path: Path, sqlite_engine: Engine, feed: FeedStream
) -> None:
    path = tmp_path / "caac.db"
    _publish_restrictions(sqlite_engine, feed, [PERSON])
    seen: list[int] = []

    async def follower(stop: asyncio.Event) -> Any:
        return await replica_sync(
            path,
            feed,
            follow=True,
            stop=stop,
            on_applied=lambda got: seen.extend(s for s, _ in got),
        )

    result, took = asyncio.run(_follow_then_stop(follower, lambda: len(seen) == 1))
    assert took < STOPS_WITHIN, f"stopping took {took:.1f} s"
    assert (result.received, result.last_seq) == (1, 1)

    _publish_restrictions(sqlite_engine, feed, [COMPANY])
    later = asyncio.run(replica_sync(path, feed))
    assert (later.received, later.last_seq) == (1, 2), "resumes after the last event it held"
    with Replica(path) as rep:
        assert rep.check(PERSON, "buy_flight_ticket").decision == "deny"
        assert rep.check(COMPANY, "buy_flight_ticket").decision == "deny"
