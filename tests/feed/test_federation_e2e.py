"""Issue 10's "done when", end to end against the real JetStream server: a defaulter loaded on one
platform (the real ingest, so the lists and measures steps make the events) reaches a second
platform and an agency's replica, each event applied exactly once — also across a publisher
killed with SIGKILL mid-stream and restarted — and a second delivery changes nothing.

No timings are asserted here (bench/feed.py measures them); the deadlines below only stop a
broken follower from hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xinyong.catalog import Catalog
from xinyong.cli import app
from xinyong.codes import ric
from xinyong.feed import federation as fed
from xinyong.feed import publisher, set_platform_id
from xinyong.feed.events import Event
from xinyong.feed.replica import Replica
from xinyong.feed.replica import sync as replica_sync
from xinyong.feed.stream import FeedStream
from xinyong.feed.tables import feed_events, feed_peer_state
from xinyong.ingest import ingest_file

PROVINCE, NATIONAL = "hebei", "national"
DEFAULTER = "130203199105010601"
#: What the national platform accepts from a province over the feed.
ACCEPT = ("record", "list", "restriction")
runner = CliRunner()


def _rows(codes: Sequence[str], decided: date) -> list[dict[str, str]]:
    return [
        {
            "被执行人姓名/名称": f"被执行人{i}",
            "身份证号码/组织机构代码": code,
            "执行法院": "唐山市路北区人民法院",
            "案号": f"（{decided.year}）冀0203执{1000 + i}号",
            "失信被执行人行为具体情形": "违反财产报告制度的",
            "决定日期": decided.isoformat(),
        }
        for i, code in enumerate(codes)
    ]


def _ingest(engine: Engine, catalog: Catalog, folder: Path, codes: Sequence[str]) -> int:
    """Load defaulters on the province through the real ingest; returns the rows accepted."""
    path = folder / f"judgment_defaulter_{len(codes)}.csv"
    rows = _rows(codes, date.today() - timedelta(days=30))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = ingest_file(engine, path, "judgment_defaulter", "court", catalog=catalog)
    assert result.rejected == 0
    return result.accepted


def _events(engine: Engine, *, origin: str | None = None) -> dict[str, str]:
    """event_id → event_type of the events a platform holds (of one origin)."""
    query = select(feed_events.c.event_id, feed_events.c.event_type)
    if origin is not None:
        query = query.where(feed_events.c.origin == origin)
    with engine.connect() as conn:
        return {str(i): str(t) for i, t in conn.execute(query)}


def _family(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def _peer_state(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    feed_peer_state.c.origin,
                    feed_peer_state.c.entity,
                    feed_peer_state.c.entity_key,
                    feed_peer_state.c.origin_seq,
                    feed_peer_state.c.event_id,
                ).order_by(feed_peer_state.c.entity, feed_peer_state.c.entity_key)
            )
        ]


def _replica_rows(path: Path) -> list[tuple[Any, ...]]:
    with Replica(path) as rep:
        return rep.db.execute(
            "SELECT subject_code, action, measure_id, state, origin_seq, event_id "
            "FROM restrictions ORDER BY 1, 2, 3"
        ).fetchall()


class Followers:
    """The national platform (``federation sync --follow``) and a replica (``replica sync
    --follow``) following the stream in this process, counting every event each applies."""

    def __init__(self, national: Engine, feed: FeedStream, replica: Path) -> None:
        self.national, self.feed, self.replica = national, feed, replica
        self.at_national: Counter[str] = Counter()
        self.at_replica: Counter[str] = Counter()
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []

    def start(self) -> None:
        def national_applied(events: Sequence[Event]) -> None:
            self.at_national.update(e.event_id for e in events)

        def replica_applied(batch: Sequence[tuple[int, Event]]) -> None:
            self.at_replica.update(e.event_id for _seq, e in batch)

        self.tasks = [
            asyncio.create_task(
                fed.sync(
                    self.national,
                    self.feed,
                    accept=ACCEPT,
                    follow=True,
                    stop=self.stop,
                    on_applied=national_applied,
                )
            ),
            asyncio.create_task(
                replica_sync(
                    self.replica,
                    self.feed,
                    follow=True,
                    stop=self.stop,
                    on_applied=replica_applied,
                )
            ),
        ]

    async def until(self, done: Callable[[], bool], what: str) -> None:
        """Wait until ``done()``; a deadline against hanging, not a timing assertion."""
        for _ in range(1200):
            if done():
                return
            for task in self.tasks:
                if task.done():
                    task.result()  # a follower that died says why
            await asyncio.sleep(0.05)
        raise AssertionError(f"followers never caught up: {what}")

    async def finish(self) -> list[Any]:
        self.stop.set()
        return list(await asyncio.gather(*self.tasks))


async def _stored(feed: FeedStream) -> int:
    nc = await nats.connect(feed.url)
    try:
        return int((await nc.jetstream().stream_info(feed.stream)).state.messages)
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await nc.drain()


async def _forget_consumers(feed: FeedStream) -> None:
    """Drop every consumer, so the next sync reads the whole stream again."""
    nc = await nats.connect(feed.url)
    js = nc.jetstream()
    for info in await js.consumers_info(feed.stream):
        await js.delete_consumer(feed.stream, info.name)
    await nc.drain()


def _name(province: Engine, national: Engine) -> None:
    with province.begin() as conn:
        set_platform_id(conn, PROVINCE)
    with national.begin() as conn:
        set_platform_id(conn, NATIONAL)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_defaulter_reaches_the_national_platform_and_a_replica_exactly_once(
    engine: Engine,
    second_engine: Engine,
    feed: FeedStream,
    catalog: Catalog,
    tmp_path: Path,
) -> None:
    province, national = engine, second_engine
    _name(province, national)
    replica = tmp_path / "caac.db"
    assert _ingest(province, catalog, tmp_path, [DEFAULTER]) == 1
    sent = _events(province)
    wanted = {i for i, t in sent.items() if _family(t) in ACCEPT}
    restrictions = {i for i, t in sent.items() if _family(t) == "restriction"}
    assert {_family(t) for t in sent.values()} == {"record", "list", "restriction"}

    async def first_delivery() -> tuple[Followers, list[Any]]:
        followers = Followers(national, feed, replica)
        followers.start()
        published = await publisher.run(province, feed, once=True)
        assert published.published == len(sent)
        await followers.until(
            lambda: (
                set(followers.at_national) == wanted and set(followers.at_replica) == restrictions
            ),
            "the defaulter's events",
        )
        return followers, await followers.finish()

    followers, (at_national, at_replica) = asyncio.run(first_delivery())
    assert max(followers.at_national.values()) == 1 and at_national.applied == len(wanted)
    assert at_national.already_held == 0
    assert max(followers.at_replica.values()) == 1 and at_replica.received == len(restrictions)
    assert set(_events(national, origin=PROVINCE)) == wanted, "held once, under its origin"

    # The national platform shows the province's list entry; the replica denies the flight.
    status = runner.invoke(app, ["federation", "status", "--json", "--db", _url(national)])
    by_entity = {(r["origin"], r["entity"]): r["count"] for r in json.loads(status.stdout)}
    assert by_entity[(PROVINCE, "record")] == 1
    assert by_entity[(PROVINCE, "list_entry")] >= 1
    with national.connect() as conn:
        entry = conn.execute(
            select(feed_peer_state.c.state).where(
                feed_peer_state.c.entity_key == f"judgment_defaulters:{DEFAULTER}"
            )
        ).scalar_one()
    assert entry["type"] == "list.published" and entry["subject_code"] == DEFAULTER
    check = ["replica", "check", DEFAULTER, "buy_flight_ticket", "--replica", str(replica)]
    decided = json.loads(runner.invoke(app, [*check, "--json"]).stdout)
    assert decided["decision"] == "deny"
    assert {m["measure_id"] for m in decided["measures"]} >= {"consumption_restriction_flight"}
    other = runner.invoke(app, [*check[:2], "110101199003074514", *check[3:], "--json"])
    assert json.loads(other.stdout)["decision"] == "permit", "only the defaulter is restricted"

    # A second delivery of the same events: republished (JetStream drops them as duplicates),
    # the national consumers replayed from the start, the replica rebuilt from sequence 0.
    before = _peer_state(national), _events(national), _replica_rows(replica)
    with province.begin() as conn:
        conn.execute(feed_events.update().values(published_at=None))
    again = asyncio.run(publisher.run(province, feed, once=True))
    assert again.duplicates == len(sent)
    asyncio.run(_forget_consumers(feed))
    with Replica(replica) as rep:
        rep.db.execute("UPDATE meta SET value = '0' WHERE key = 'last_seq'")
        rep.db.commit()
    replayed = asyncio.run(fed.sync(national, feed, accept=ACCEPT))
    assert (replayed.applied, replayed.already_held) == (0, len(wanted))
    rebuilt = asyncio.run(replica_sync(replica, feed))
    assert (rebuilt.received, rebuilt.applied) == (len(restrictions), 0)
    assert (_peer_state(national), _events(national), _replica_rows(replica)) == before


@pytest.mark.slow
def test_sigkilled_publisher_mid_burst_still_delivers_each_event_once(
    engine: Engine,
    second_engine: Engine,
    feed: FeedStream,
    catalog: Catalog,
    tmp_path: Path,
) -> None:
    province, national = engine, second_engine
    _name(province, national)
    rng = random.Random(19)
    # About 5 events a row (one per fact since revision 0014; it was 20): 640 rows for the burst.
    codes = sorted({ric.generate(rng, region="130203") for _ in range(640)})
    assert _ingest(province, catalog, tmp_path, codes) == len(codes)
    sent = _events(province)
    wanted = {i for i, t in sent.items() if _family(t) in ACCEPT}
    restrictions = {i for i, t in sent.items() if _family(t) == "restriction"}
    assert len(sent) > 3000, "a burst large enough to be killed in the middle of"
    feed_args = ["--nats", feed.url, "--stream", feed.stream, "--prefix", feed.prefix]

    async def burst() -> tuple[Followers, int]:
        followers = Followers(national, feed, tmp_path / "caac.db")
        followers.start()
        proc = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "xinyong", "feed", "run", "--db", _url(province)],
            *["--batch", "20", *feed_args],
            env=os.environ | {"PYTHONWARNINGS": ""},
        )
        # Watched from a thread: the followers' commits hold this loop between awaits.
        await asyncio.to_thread(_kill_after, province, proc.pid, 500)
        assert await proc.wait() == -signal.SIGKILL
        with province.connect() as conn:
            pending = conn.execute(
                select(func.count()).where(feed_events.c.published_at.is_(None))
            ).scalar_one()
        restarted = await publisher.run(province, feed, once=True)
        assert restarted.published >= pending
        await followers.until(
            lambda: (
                set(followers.at_national) >= wanted and set(followers.at_replica) >= restrictions
            ),
            "the burst",
        )
        await followers.finish()
        return followers, int(pending)

    followers, pending = asyncio.run(burst())
    assert 0 < pending < len(sent), "killed mid-stream: some published, some not"
    assert set(followers.at_national) == wanted and max(followers.at_national.values()) == 1
    assert set(followers.at_replica) == restrictions and max(followers.at_replica.values()) == 1
    assert set(_events(national, origin=PROVINCE)) == wanted
    assert await_stored(feed) == len(sent), "the stream holds each event once"
    with Replica(tmp_path / "caac.db") as rep:
        assert all(rep.check(code, "buy_flight_ticket").decision == "deny" for code in codes[:20])


def _kill_after(province: Engine, pid: int, published: int) -> None:
    """SIGKILL the publisher once it has marked ``published`` events (or given up waiting)."""
    query = select(func.count()).where(feed_events.c.published_at.is_not(None))
    for _ in range(6000):
        with province.connect() as conn:
            if conn.execute(query).scalar_one() >= published:
                break
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def await_stored(feed: FeedStream) -> int:
    return asyncio.run(_stored(feed))
