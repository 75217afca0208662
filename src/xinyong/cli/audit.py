"""``xinyong audit verify`` and ``xinyong audit log``: the audit chain from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from xinyong.audit import AuditEvent, list_events, verify
from xinyong.audit.tables import audit_events, audit_head
from xinyong.cli.options import DEFAULT_DB, DbOption, JsonOption
from xinyong.errors import UnusableInput, XinyongError
from xinyong.store.engine import opened

app = typer.Typer(help="审计日志 / the audit log", no_args_is_help=True)
err_console = Console(stderr=True)

AnchorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--anchor",
        metavar="ID:HASH",
        help="先前公布的事件哈希，可重复 / an event hash published earlier; repeatable",
    ),
]


@app.command("verify")
def verify_command(
    db: DbOption = DEFAULT_DB, as_json: JsonOption = False, anchor: AnchorOption = None
) -> None:
    """校验审计链 / verify the audit chain: every event intact, in its place, none missing.

    Exit 0 when intact (prints the count and the head hash, to anchor elsewhere), 1 when broken
    (names the first broken event and why: changed, deleted, inserted, reordered, head, anchor),
    2 when the database cannot be used.

    Example: xinyong audit verify --db sqlite:///xinyong.db --anchor 1024:3f5a…e9
    """
    with _one_line_errors():
        anchors = _parse_anchors(anchor or [])
        with _audit_connection(db) as conn:
            result = verify(conn, anchors=anchors)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    elif result.ok:
        typer.echo(
            f"审计链完好 / audit chain intact: {result.count} 个事件 / events; "
            f"链头哈希 / head hash: {result.head_hash}"
        )
    else:
        typer.echo(
            f"审计链已损坏 / audit chain broken: 事件 / event {result.first_broken} "
            f"({result.reason}): {result.explanation}; "
            f"此前完好的事件 / intact before it: {result.count}"
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("log")
def log_command(
    subject: Annotated[
        str | None,
        typer.Argument(help="信用主体代码或编号 / subject code or id; all events if omitted"),
    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="最多显示最近的几条 / show at most the last N")
    ] = 100,
) -> None:
    """列出审计事件 / list audit events: all, or one subject's 查询记录 (who looked, and why).

    Oldest first; with --limit, the most recent N.

    Example: xinyong audit log 91110000100000000A --db sqlite:///xinyong.db --json
    """
    with _one_line_errors(), _audit_connection(db) as conn:
        events = list_events(conn, subject=subject, limit=limit)
    if as_json:
        typer.echo(json.dumps([event.to_json() for event in events], ensure_ascii=False))
        return
    if not events:
        typer.echo("无审计事件 / no audit events")
        return
    for event in events:
        typer.echo(_line(event))


def _line(event: AuditEvent) -> str:
    """One event per line, so the log reads the same in a terminal, a pipe or grep."""
    when = event.at.strftime("%Y-%m-%d %H:%M:%SZ")
    outcome = f" → {event.outcome}" if event.outcome else ""
    return (
        f"#{event.id} {when} {event.actor} ({event.role}) {_what(event)}{outcome} "
        f"主体 / subject {event.subject or '-'}; 目的 / purpose: {event.purpose}"
    )


def _what(event: AuditEvent) -> str:
    return f"{event.action} {event.resource}" if event.resource else event.action


def _parse_anchors(values: list[str]) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for value in values:
        number, _, digest = value.partition(":")
        digest = digest.strip().lower()
        if not number.strip().isdigit() or len(digest) != 64 or not _is_hex(digest):
            raise UnusableInput(
                f"锚点格式应为 ID:HASH / an anchor is ID:HASH (sha256, 64 hex digits): {value!r}"
            )
        anchors[int(number)] = digest
    return anchors


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@contextmanager
def _audit_connection(url: str) -> Iterator[Connection]:
    """A connection to a database that has the audit tables; anything else is unusable input."""
    with _database_errors(url), opened(url, create=False) as engine:
        _require_tables(engine)
        with engine.connect() as conn:
            yield conn


def _require_tables(engine: Engine) -> None:
    present = set(inspect(engine).get_table_names())
    missing = {audit_events.name, audit_head.name} - present
    if missing:
        raise UnusableInput(
            f"数据库中没有审计表 / the database has no audit tables ({', '.join(sorted(missing))});"
            " 请先运行 xinyong init / run `xinyong init` first"
        )


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """Any database error while reading the chain (a file that is not a database, …)."""
    try:
        yield
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise UnusableInput(
            f"无法读取数据库 / cannot read the database: {first[0] if first else type(error)}"
        ) from error


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Our errors end a command with one line on stderr and exit 2, also under ``CliRunner``."""
    try:
        yield
    except XinyongError as error:
        head = f"{error.message_zh} / {error.message_en}"
        line = f"{head}: {error.detail}" if error.detail else head  # details are zh / en already
        err_console.print(f"错误 / error: {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from error
