"""``xinyong check``, ``xinyong screen`` and ``xinyong apikey``: decisions for agencies."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.catalog import Catalog, catalog_in_force
from xinyong.cli.options import (
    CLI_PURPOSE,
    CLI_ROLE,
    DEFAULT_DB,
    ByOption,
    CatalogOption,
    DbOption,
    JsonOption,
    PurposeOption,
    cli_actor,
)
from xinyong.cli.store import err_console, one_line_errors
from xinyong.errors import UnusableInput
from xinyong.measures import Decision, check
from xinyong.measures.clients import create_client, list_clients, revoke_client
from xinyong.measures.decisions import OUTCOME_LABELS, check_audit
from xinyong.measures.screen import ScreenResult, screen
from xinyong.store.engine import opened
from xinyong.store.schema import require_current

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="决定日期 / decide as of this date (YYYY-MM-DD; default today)"),
]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        help="以该日所知为准 / as known on this date (YYYY-MM-DD, end of day UTC) or instant",
    ),
]


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise UnusableInput(
            f"{option} 须为日期 / {option} must be a date YYYY-MM-DD: {value!r}"
        ) from error


def parse_known_at(value: str | None) -> date | datetime | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as error:
        raise UnusableInput(
            f"--known-at 须为日期或时刻 / --known-at must be a date or an ISO instant: {value!r}"
        ) from error


def check_command(
    subject: Annotated[str, typer.Argument(help="主体代码 / subject code (USCC, ID number, …)")],
    action: Annotated[str, typer.Argument(help="行为 / action id, e.g. buy_flight_ticket")],
    at: AtOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
) -> None:
    """查询一项决定 / decide whether SUBJECT may do ACTION, with the legal basis and way out.

    The check is a read of the subject's file: it is logged and audited as an operator's read
    (actor --by, purpose --purpose, by default "命令行查询 / command-line query"), in the same
    transaction as the decision, so the subject's "who looked" list shows it; if the audit
    cannot be written, no decision is printed (exit 2).

    Exit 0 whatever the outcome; 2 for a malformed code, an unknown action, an empty purpose or
    an unusable database.

    Example: xinyong check 340405199011034461 buy_flight_ticket --at 2025-04-02
    """
    with one_line_errors():
        day = parse_day(at, "--at")
        known = parse_known_at(known_at)
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            with engine.begin() as conn:
                if not purpose.strip():
                    raise UnusableInput("须说明查询目的 / --purpose must not be empty")
                audit = check_audit(
                    actor=cli_actor(by),
                    role=CLI_ROLE,
                    purpose=purpose.strip(),
                    action=action,
                    at=day,
                    authority=None,
                )
                decision = check(
                    conn, subject, action, day, known, catalog=catalog, actor="cli", audit=audit
                )
    if as_json:
        typer.echo(json.dumps(decision.as_json(), ensure_ascii=False))
    else:
        typer.echo(render(decision, catalog))


def render(decision: Decision, catalog: Catalog) -> str:
    """A decision for people: Chinese first, then English."""
    zh, en = OUTCOME_LABELS[decision.outcome]
    act = catalog.actions[decision.action]
    until = decision.until.isoformat() if decision.until else None
    lines = [
        f"决定 / decision: {zh} / {en}",
        f"主体 / subject: {decision.subject}",
        f"行为 / action: {act.name_zh} / {act.name_en}",
        f"日期 / as of: {decision.at.isoformat()}"
        + (
            f"（以 {decision.known_at.isoformat()} 所知 / as known then）"
            if decision.known_at
            else ""
        ),
    ]
    if decision.outcome != "permit":
        lines.append(
            f"有效至 / until: {until}"
            if until
            else "有效至 / until: 至解除、履行或移出为止 / until lifted, performed or removed"
        )
    if not decision.reasons:
        lines.append("无适用措施 / no measure applies")
    for n, reason in enumerate(decision.reasons, 1):
        lines.append(f"{n}. {reason.text_zh}")
        lines.append(f"   {reason.text_en}")
        lines.append(
            f"   实施部门 / implemented by: {reason.authority_zh} / {reason.authority_en}; "
            f"记录 / records: {', '.join(str(r) for r in reason.records)}"
        )
        if reason.way_out is not None and reason.effect != "prefer":
            lines.append(f"   救济 / way out: {reason.way_out.objection_zh}")
            lines.append(f"   {reason.way_out.objection_en}")
    if decision.instruments:
        cited = "、".join(
            catalog.instruments[i].number or f"《{catalog.instruments[i].title_zh}》"
            for i in decision.instruments
            if i in catalog.instruments
        )
        lines.append(f"适用文件（{decision.at.isoformat()} 有效）/ instruments applied: {cited}")
    lines.append(f"决定编号 / decision id: {decision.decision_id}")
    lines.append(f"目录版本 / catalog version: {decision.catalog_version}")
    return "\n".join(lines)


def screen_command(
    file: Annotated[Path, typer.Argument(help="CSV 或 Parquet 文件 / CSV or Parquet file")],
    action: Annotated[str, typer.Option("--action", help="行为 / action id")],
    out: Annotated[Path, typer.Option("--out", help="结果文件 / output file (.csv or .parquet)")],
    at: AtOption = None,
    known_at: KnownAtOption = None,
    column: Annotated[
        str | None, typer.Option("--column", help="代码所在列 / column holding the codes")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
) -> None:
    """批量筛查 / check a column of codes; write code, outcome, until, measures per row.

    Rows keep their input order; an invalid code gets outcome ``invalid`` and its reason in
    ``measures``. Each known subject in the column is audited as an operator's read (actor
    --by, purpose --purpose, one event per subject, in its "who looked" list); if the audit
    cannot be written, no result file is written (exit 2). Exit 0 when written, 2 for an
    unusable file, action, database or an empty purpose.

    Example: xinyong screen buyers.csv --action buy_flight_ticket --out decisions.csv
    """
    with one_line_errors():
        if not purpose.strip():
            raise UnusableInput("须说明查询目的 / --purpose must not be empty")
        day = parse_day(at, "--at")
        known = parse_known_at(known_at)
        catalog = catalog_in_force(catalog_dirs or ())
        audit = {"actor": cli_actor(by), "role": CLI_ROLE, "purpose": purpose.strip()}
        with opened(db, create=False) as engine:
            require_current(engine)
            result = _screen(engine, file, action, out, day, known, column, catalog, as_json, audit)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.outcomes.items()))
        typer.echo(
            f"已筛查 {result.rows:,} 行（{counts}），写入 {result.out} / "
            f"screened {result.rows:,} rows ({counts}) into {result.out} in {result.seconds}s"
        )


def _screen(
    engine: object,
    file: Path,
    action: str,
    out: Path,
    day: date | None,
    known: date | datetime | None,
    column: str | None,
    catalog: Catalog,
    quiet: bool,
    audit: dict[str, str],
) -> ScreenResult:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    if quiet or not sys.stderr.isatty():
        return screen(
            engine,
            file,
            action,
            out,
            at=day,
            known_at=known,
            column=column,
            catalog=catalog,
            audit=audit,
        )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"筛查 / screening {file.name}", total=100)
        return screen(
            engine,
            file,
            action,
            out,
            at=day,
            known_at=known,
            column=column,
            catalog=catalog,
            progress=lambda pct: bar.update(task, completed=pct),
            audit=audit,
        )


apikey_app = typer.Typer(help="接口密钥 / API keys of implementing agencies", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    authority: Annotated[str, typer.Option("--authority", help="部门 / authority id, e.g. caac")],
    role: Annotated[str, typer.Option("--role", help="agency | department | operator")],
    name: Annotated[str | None, typer.Option("--name", help="名称 / a name")] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit",
            min=1,
            help="每分钟请求上限 / requests per minute for this key (default: the API's)",
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
) -> None:
    """创建密钥 / create an API key; it is printed once and never stored.

    Example: xinyong apikey create --authority caac --role agency --rate-limit 12000
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            with engine.begin() as conn:
                client, key = create_client(
                    conn, catalog, authority=authority, role=role, name=name, rate_limit=rate_limit
                )
    if as_json:
        typer.echo(json.dumps({**client.as_json(), "key": key}, ensure_ascii=False))
    else:
        typer.echo(key)
        err_console.print(
            f"客户端 {client.id}（{client.authority}, {client.role}）：密钥只显示这一次 / "
            f"client {client.id} ({client.authority}, {client.role}): the key is shown only once",
            highlight=False,
        )


@apikey_app.command("list")
def apikey_list(as_json: JsonOption = False, db: DbOption = DEFAULT_DB) -> None:
    """列出密钥 / list API clients (never the keys).

    Example: xinyong apikey list --json
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.connect() as conn:
            clients = list_clients(conn)
    if as_json:
        typer.echo(json.dumps([c.as_json() for c in clients], ensure_ascii=False))
        return
    for c in clients:
        state = f"已吊销 / revoked {c.revoked_at.isoformat()}" if c.revoked_at else "有效 / live"
        typer.echo(f"{c.id}\t{c.name}\t{c.authority}\t{c.role}\t{state}")


@apikey_app.command("revoke")
def apikey_revoke(
    client_id: Annotated[int, typer.Argument(help="客户端编号 / client id")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """吊销密钥 / revoke an API client's key.

    Example: xinyong apikey revoke 3
    """
    with one_line_errors(), opened(db, create=False) as engine:
        require_current(engine)
        with engine.begin() as conn:
            client = revoke_client(conn, client_id)
    typer.echo(f"已吊销 / revoked: {client.id} {client.name}")
