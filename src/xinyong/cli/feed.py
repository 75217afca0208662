"""``xinyong feed …``, ``xinyong replica …`` and ``xinyong federation …``: the feed's commands."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from xinyong.catalog import catalog_in_force
from xinyong.cli.options import DEFAULT_DB, CatalogOption, DbOption, JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.errors import UnusableInput
from xinyong.feed import federation, publisher, replica, subscriptions, webhooks
from xinyong.feed.events import set_platform_id
from xinyong.feed.stream import DEFAULT_NATS, DEFAULT_PREFIX, DEFAULT_STREAM, FeedStream
from xinyong.store.engine import opened
from xinyong.store.schema import require_current

app = typer.Typer(
    help="变更推送 / the feed: outbox → NATS JetStream, webhooks", no_args_is_help=True
)
replica_app = typer.Typer(
    help="部门本地副本 / an agency's offline replica of the restriction index",
    no_args_is_help=True,
)
federation_app = typer.Typer(
    help="平台互联 / federation between local and national platforms", no_args_is_help=True
)

NatsOption = Annotated[
    str,
    typer.Option("--nats", envvar="XINYONG_NATS", help="NATS 服务器 / NATS server URL"),
]
StreamOption = Annotated[
    str, typer.Option("--stream", help="JetStream 流名称 / JetStream stream name")
]
PrefixOption = Annotated[
    str, typer.Option("--prefix", help="主题前缀 / subject prefix of the events")
]
ReplicaOption = Annotated[
    Path, typer.Option("--replica", help="副本文件（SQLite）/ the replica file (SQLite)")
]
FollowOption = Annotated[
    bool, typer.Option("--follow", help="持续跟随直到中断 / keep following until stopped")
]


def _stoppable(make: Any) -> Any:
    """Run ``make(stop)`` with SIGTERM/SIGINT setting ``stop``: the batch in flight finishes."""

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await make(stop)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


def _echo(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


@app.command("run")
def run_command(
    db: DbOption = DEFAULT_DB,
    nats_url: NatsOption = DEFAULT_NATS,
    once: Annotated[
        bool, typer.Option("--once", help="发布待发事件后退出 / publish what is pending, then exit")
    ] = False,
    no_nats: Annotated[
        bool, typer.Option("--no-nats", help="只投递 webhook / webhooks only, no NATS")
    ] = False,
    stream: StreamOption = DEFAULT_STREAM,
    prefix: PrefixOption = DEFAULT_PREFIX,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="每批事件数 / events per batch")
    ] = 1000,
    as_json: JsonOption = False,
) -> None:
    """发布事件 / publish outbox events to NATS JetStream and deliver webhooks.

    With --once, publishes what is pending and exits, printing {"published": N}; otherwise runs
    until SIGTERM or SIGINT, finishing the batch in flight, and exits 0.

    Example: xinyong feed run --once --nats nats://127.0.0.1:4222 --json
    """
    feed = None if no_nats else FeedStream(url=nats_url, stream=stream, prefix=prefix)
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        result = _stoppable(
            lambda stop: publisher.run(engine, feed, once=once, batch=batch, stop=stop)
        )
    _echo(
        result.as_json(),
        as_json,
        f"已发布 / published {result.published} (重复 / duplicates {result.duplicates}); "
        f"webhook: {result.webhooks.delivered} 送达 / delivered, {result.webhooks.failed} "
        f"待重试 / to retry, {result.webhooks.dead} 死信 / dead",
    )


@app.command("subscribe")
def subscribe_command(
    name: Annotated[str, typer.Argument(help="订阅者名称 / subscriber name")],
    webhook: Annotated[str, typer.Option("--webhook", help="webhook URL")],
    legal_basis: Annotated[
        str,
        typer.Option(
            "--legal-basis",
            metavar="INSTRUMENT[:ARTICLE]",
            help="协议的法律依据（目录中的文件）/ the agreement's legal basis (catalog instrument)",
        ),
    ],
    agreement: Annotated[
        str, typer.Option("--agreement", help="协议编号 / the agreement's reference")
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="用途 / purpose")],
    measure: Annotated[
        list[str] | None,
        typer.Option("--measure", help="所实施的措施，可重复 / a measure it implements"),
    ] = None,
    list_id: Annotated[
        list[str] | None, typer.Option("--list", help="协议涵盖的名单 / a list it covers")
    ] = None,
    record_type: Annotated[
        list[str] | None,
        typer.Option("--record-type", help="协议涵盖的记录类型 / a record type it covers"),
    ] = None,
    covers_individuals: Annotated[
        bool,
        typer.Option(
            "--covers-individuals",
            help="协议涵盖自然人信息 / the agreement covers data about individuals",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """登记订阅者 / register a subscriber bound to its agreement; prints the webhook secret once.

    Example: xinyong feed subscribe airline-a --webhook https://a.example/hook
    --legal-basis ndrc_aviation_2018 --agreement "民航〔2018〕1号" --purpose 售票核验
    --measure consumption_restriction_flight --covers-individuals
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            with engine.begin() as conn:
                sub, secret = subscriptions.subscribe(
                    conn,
                    catalog,
                    name=name,
                    webhook_url=webhook,
                    purpose=purpose,
                    legal_basis=legal_basis,
                    agreement_ref=agreement,
                    measures=measure or [],
                    lists=list_id or [],
                    record_types=record_type or [],
                    covers_individuals=covers_individuals,
                )
    _echo(
        {**sub.as_json(), "secret": secret},
        as_json,
        f"已登记 / registered {sub.name}; 签名密钥（仅显示一次）/ signing secret (shown once): "
        f"{secret}",
    )


@app.command("watch")
def watch_command(
    name: Annotated[str, typer.Argument(help="订阅者名称 / subscriber name")],
    codes: Annotated[list[str], typer.Argument(help="主体代码 / subject codes")],
    interest: Annotated[
        str,
        typer.Option("--interest", help="合法利益 / the lawful interest (e.g. a loan contract)"),
    ],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """关注主体 / add subjects to a subscriber's watch list: any change to them is an alert.

    Example: xinyong feed watch bank-b 91520100MA6DXXXX1X --interest "贷款合同 2024-001"
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.begin() as conn:
            added = subscriptions.watch(conn, name, codes, interest)
    _echo({"added": added}, as_json, f"新增关注 / added to the watch list: {added}")


@app.command("subscriptions")
def subscriptions_command(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """列出订阅者 / list subscribers, their agreements and watch lists.

    Example: xinyong feed subscriptions --json
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.connect() as conn:
            subs = subscriptions.subscribers(conn)
    if as_json:
        typer.echo(json.dumps([s.as_json() for s in subs], ensure_ascii=False))
        return
    for s in subs:
        typer.echo(
            f"{s.name}: {s.legal_instrument} ({s.agreement_ref}) measures={sorted(s.measures)} "
            f"lists={sorted(s.lists)} record_types={sorted(s.record_types)} "
            f"individuals={'yes' if s.covers_individuals else 'no'} watched={len(s.watched)}"
        )


@app.command("webhooks")
def webhooks_command(
    db: DbOption = DEFAULT_DB,
    dead: Annotated[bool, typer.Option("--dead", help="只列死信 / dead letters only")] = False,
    subscriber: Annotated[
        str | None, typer.Option("--subscriber", help="只列一个订阅者 / one subscriber")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: JsonOption = False,
) -> None:
    """列出 webhook 投递 / list webhook deliveries, newest first (attempts, errors, dead letters).

    Example: xinyong feed webhooks --dead --json
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.connect() as conn:
            found = webhooks.deliveries(
                conn, state="dead" if dead else None, subscriber=subscriber, limit=limit
            )
    if as_json:
        typer.echo(json.dumps([d.as_json() for d in found], ensure_ascii=False))
        return
    for d in found:
        typer.echo(
            f"#{d.id} {d.subscriber} {d.event_type} {d.event_id} {d.state} "
            f"attempts={d.attempts} {d.last_error or ''}".rstrip()
        )


@replica_app.command("sync")
def replica_sync_command(
    replica_file: ReplicaOption,
    nats_url: NatsOption = DEFAULT_NATS,
    follow: FollowOption = False,
    stream: StreamOption = DEFAULT_STREAM,
    prefix: PrefixOption = DEFAULT_PREFIX,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="从流的开头重建副本（一个事务）/ replay the whole stream into an emptied replica "
            "(one transaction: the old rows answer until it has caught up)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """同步副本 / bring a replica up to date from the feed (with --follow, keep it so).

    Example: xinyong replica sync --replica railway.db --nats nats://127.0.0.1:4222 --follow
    """
    feed = FeedStream(url=nats_url, stream=stream, prefix=prefix)
    with one_line_errors():
        result = _stoppable(
            lambda stop: replica.sync(replica_file, feed, follow=follow, stop=stop, rebuild=rebuild)
        )
    _echo(
        result.as_json(),
        as_json,
        f"收到 / received {result.received}, 应用 / applied {result.applied}, "
        f"流序号 / stream seq {result.last_seq}",
    )


@replica_app.command("check")
def replica_check_command(
    subject: Annotated[str, typer.Argument(help="主体代码 / subject code")],
    action: Annotated[str, typer.Argument(help="行为 / action, e.g. buy_flight_ticket")],
    replica_file: ReplicaOption,
    at: Annotated[
        str | None, typer.Option("--at", help="日期 / date (YYYY-MM-DD), default today")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """离线核查 / decide from the local replica, saying how stale it is.

    Example: xinyong replica check 110101199003074514 buy_flight_ticket --replica caac.db
    """
    with one_line_errors():
        day = _date(at)
        with replica.Replica(replica_file, create=False) as rep:
            decision = rep.check(subject, action, at=day)
    stale = decision.staleness
    age = "从未同步 / never synced" if stale.age_seconds is None else f"{stale.age_seconds:.1f}s"
    until = f" 至 / until {decision.until}" if decision.until else ""
    measures = sorted({m["measure_id"] for m in decision.measures})
    _echo(
        decision.as_json(),
        as_json,
        f"{decision.decision}{until} — {decision.subject} {decision.action} @ {decision.at}; "
        f"措施 / measures: {', '.join(measures) or '-'}; "
        f"副本 / replica seq {stale.last_seq}, 最后事件 / last event "
        f"{stale.last_event_at.isoformat() if stale.last_event_at else '-'}, 时滞 / age {age}",
    )


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UnusableInput(f"日期应为 YYYY-MM-DD / a date is YYYY-MM-DD: {text!r}") from exc


@federation_app.command("name")
def federation_name_command(
    platform: Annotated[str, typer.Argument(help="平台标识 / platform id, e.g. national, guizhou")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """命名本平台 / name this platform (the origin of its events), before its first event.

    Example: xinyong federation name guizhou --db sqlite:///guizhou.db
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.begin() as conn:
            set_platform_id(conn, platform)
    _echo({"platform": platform}, as_json, f"本平台 / this platform: {platform}")


@federation_app.command("sync")
def federation_sync_command(
    accept: Annotated[
        list[str],
        typer.Option(
            "--accept", help="接收的事件类别 / families to accept: record, list, restriction, …"
        ),
    ],
    db: DbOption = DEFAULT_DB,
    nats_url: NatsOption = DEFAULT_NATS,
    follow: FollowOption = False,
    stream: StreamOption = DEFAULT_STREAM,
    prefix: PrefixOption = DEFAULT_PREFIX,
    as_json: JsonOption = False,
) -> None:
    """接收其他平台的事件 / take peers' events of the accepted families into this platform.

    Push is `xinyong feed run` on the sending platform; this is the pull side. Idempotent.

    Example: xinyong federation sync --accept list --db sqlite:///guizhou.db --json
    """
    feed = FeedStream(url=nats_url, stream=stream, prefix=prefix)
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        result = _stoppable(
            lambda stop: federation.sync(engine, feed, accept=accept, follow=follow, stop=stop)
        )
    _echo(
        result.as_json(),
        as_json,
        f"收到 / received {result.received}, 新应用 / applied {result.applied}, "
        f"已有 / already held {result.already_held}, 本平台 / own {result.own}",
    )


@federation_app.command("status")
def federation_status_command(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """各平台发来的状态 / what each peer has sent, by entity.

    Example: xinyong federation status --json
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.connect() as conn:
            rows = federation.peer_summary(conn)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(f"{row['origin']} {row['entity']} {row['count']}")
