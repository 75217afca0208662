"""``xinyong init`` and ``xinyong subject show``: the store from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xinyong.cli.options import DEFAULT_DB, DbOption, JsonOption
from xinyong.errors import InvalidCode, UnusableInput, XinyongError
from xinyong.link.identifiers import identify
from xinyong.store.engine import database_errors, opened
from xinyong.store.queries import subject_by_code, subject_file
from xinyong.store.schema import require_current, upgrade

console = Console()
err_console = Console(stderr=True)


def one_line(error: XinyongError) -> str:
    """``中文 / English: detail`` (details are already written zh / en)."""
    head = f"{error.message_zh} / {error.message_en}"
    return f"{head}: {error.detail}" if error.detail else head


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Our errors end a command with one line on stderr and exit 2, also under ``CliRunner``."""
    try:
        yield
    except XinyongError as error:
        err_console.print(f"错误 / error: {one_line(error)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from error


subject_app = typer.Typer(help="信用主体 / subjects", no_args_is_help=True)


def init_command(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """创建或升级数据库 / create the database, or upgrade it to the newest schema.

    Safe to run again: an up-to-date database is left as it is.

    Example: xinyong init --db sqlite:///xinyong.db
    """
    with one_line_errors(), opened(db) as engine:
        result = upgrade(engine)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "db": result.url,
                    "action": result.action,
                    "from": result.before,
                    "to": result.after,
                },
                ensure_ascii=False,
            )
        )
        return
    words = {
        "created": "已创建 / created",
        "upgraded": "已升级 / upgraded",
        "unchanged": "已是最新 / already up to date",
    }[result.action]
    typer.echo(f"数据库{words}: {result.url} (schema {result.before or '-'} → {result.after})")


@subject_app.command("show")
def show_command(
    code: Annotated[str, typer.Argument(help="统一社会信用代码、身份证号码或组织机构代码 / code")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """显示信用主体 / a subject's identifiers, names, relations and records with provenance.

    Exit 0 for a known subject, 1 for an unknown one, 2 for a code that is not valid.

    Example: xinyong subject show 91350100M000100Y43
    """
    with one_line_errors():
        try:
            ident = identify(code)
        except InvalidCode as error:
            raise UnusableInput(f"{code}: {error.bilingual()} (reason: {error.reason})") from error
        with opened(db, create=False) as engine, database_errors(db), engine.connect() as conn:
            require_current(engine)
            sid = subject_by_code(conn, ident.scheme, ident.value)
            if sid is None and ident.scheme == "uscc" and ident.orgcode:
                sid = subject_by_code(conn, "orgcode", ident.orgcode)
            found = subject_file(conn, sid) if sid is not None else None
    if found is None:
        if as_json:
            typer.echo(json.dumps({"code": ident.value, "found": False}))
        else:
            typer.echo(f"未找到信用主体 / no such subject: {ident.value}")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    _print_file(found.as_json())


def _print_file(data: dict[str, Any]) -> None:
    console.print(f"[bold]信用主体 / subject {data['primary_code']}[/bold]  ({data['kind']})")
    console.print(
        "代码 / identifiers: "
        + ", ".join(f"{i['scheme']} {i['value']}" for i in data["identifiers"])
    )
    console.print(
        "名称 / names: "
        + ", ".join(f"{n['name']} ({n['valid_from'] or '…'}–)" for n in data["names"])
    )
    if data["relations"]:
        rel = Table("方向 / direction", "角色 / role", "主体 / subject", "起 / from")
        for r in data["relations"]:
            rel.add_row(r["direction"], r["role"], r["subject_code"] or "", r["valid_from"] or "")
        console.print(rel)
    recs = Table(
        "记录 / record",
        "类型 / type",
        "文书号 / document",
        "决定日期 / decided",
        "状态 / status",
        "版本 / v",
        "来源 / provenance",
    )
    for r in data["records"]:
        prov = "; ".join(
            f"batch {p['batch']} {p['source']} row {p['row']}" for p in r["provenance"]
        )
        recs.add_row(
            str(r["id"]),
            r["record_type"],
            r["document_no"] or "",
            r["decided_on"] or "",
            r["status"],
            str(r["version"]),
            prov,
        )
    console.print(recs)
