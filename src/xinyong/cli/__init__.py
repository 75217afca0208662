"""The ``xinyong`` command: a thin shell over library functions.

Sub-commands live in modules of this package, one per command group, each registered below in
one visible line (``COMMANDS``): its name, where it lives and the one line ``xinyong --help``
shows for it. A module is imported only when one of its commands runs or shows its help, so
``xinyong --version`` and ``xinyong --help`` answer without loading the library. Errors: a
``XinyongError`` that escapes a command is bad usage or unusable input, so it prints one line and
exits 2; never a traceback.
"""

from __future__ import annotations

import copy
import functools
import importlib
import sys
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from typer import _click
from typer.core import TyperCommand, TyperGroup

from xinyong import __version__
from xinyong.errors import XinyongError


@dataclass(frozen=True)
class Entry:
    """Where a command lives: ``xinyong.cli.<module>.<attribute>``, a Typer app (a command
    group) or a function (one command); ``help`` is its line in ``xinyong --help``. An alias
    (``alias_of``) is hidden, runs the command it names and, once it has run, says on stderr
    which name to use (an error stays one line)."""

    module: str
    attribute: str
    help: str
    alias_of: str | None = None


# Command groups, one line each, in the order ``xinyong --help`` lists them.
COMMANDS: dict[str, Entry] = {
    "init": Entry("store", "init_command", "创建或升级数据库 / create or upgrade the database"),
    "ingest": Entry("ingest", "ingest_command", "载入一批记录 / load one file as a batch"),
    "ingest-batches": Entry("store", "batches_command", "载入批次 / the batches loaded"),
    "serve": Entry("serve", "serve_command", "提供门户网站与 API / serve the portal and the API"),
    "demo": Entry("serve", "demo_command", "生成演示数据并提供门户网站 / a demo data set, served"),
    "check": Entry("decisions", "check_command", "查询一项决定 / may SUBJECT do ACTION?"),
    "screen": Entry("decisions", "screen_command", "批量筛查 / check a column of codes"),
    "code": Entry("code", "app", "统一社会信用代码、组织机构代码、身份证号码 / codes"),
    "catalog": Entry("catalog", "app", "信用信息目录 / record types, lists and measures"),
    "subject": Entry("store", "subject_app", "信用主体 / subjects"),
    "lab": Entry("lab", "app", "合成人口实验室 / the lab: synthetic population"),
    "audit": Entry("audit", "app", "审计日志 / the audit log"),
    "objection": Entry("process", "objection_app", "异议 / objections"),
    "repair": Entry("process", "repair_app", "信用修复 / credit repair"),
    "commitment": Entry("process", "commitment_app", "信用承诺 / credit commitments"),
    "report": Entry("process", "report_app", "信用报告 / credit reports"),
    "score": Entry("score", "app", "评分与评级 / scores and grades"),
    "apikey": Entry("decisions", "apikey_app", "接口密钥 / API keys of implementing agencies"),
    "batch": Entry("batch", "app", "批处理（DuckDB 或 Spark）/ batch work"),
    "feed": Entry("feed", "app", "变更推送 / the feed: outbox → NATS JetStream, webhooks"),
    "replica": Entry("feed", "replica_app", "部门本地副本 / an agency's offline replica"),
    "federation": Entry("feed", "federation_app", "平台互联 / federation between platforms"),
    # Aliases: old names that still work and say which name to use.
    "batches": Entry("store", "batches_command", "", alias_of="ingest-batches"),
}

err_console = Console(stderr=True)


def alias_note(old: str, new: str) -> str:
    """What an alias says on stderr and atop its help: the name to use instead."""
    return f"`xinyong {old}` 已更名为 `xinyong {new}` / `xinyong {old}` is now `xinyong {new}`"


def _load(name: str, entry: Entry) -> _click.Command:
    """The click command of ``entry``, built as ``app.add_typer`` / ``app.command`` would."""
    target = getattr(importlib.import_module(f"xinyong.cli.{entry.module}"), entry.attribute)
    holder = typer.Typer()
    holder.callback()(lambda: None)  # a callback keeps the holder a group of one
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    command = group.commands[name]
    if entry.alias_of is None:
        return command
    note = alias_note(name, entry.alias_of)
    alias = copy.copy(command)
    alias.hidden = True
    alias.help = f"{note}\n\n{command.help or ''}"
    run = command.callback
    assert run is not None

    @functools.wraps(run)
    def noted(*args: Any, **kwargs: Any) -> Any:
        result = run(*args, **kwargs)
        err_console.print(note, highlight=False, soft_wrap=True)
        return result

    alias.callback = noted
    return alias


class _Commands(MutableMapping[str, _click.Command]):
    """The root group's commands: ``COMMANDS``, each imported on first use. While the root's
    help is formatted (``listing``), a command is a stand-in carrying its registry line."""

    def __init__(self) -> None:
        self.loaded: dict[str, _click.Command] = {}
        self.listing = False

    def __getitem__(self, name: str) -> _click.Command:
        entry = COMMANDS[name]
        if self.listing:
            return TyperCommand(name, help=entry.help, hidden=entry.alias_of is not None)
        if name not in self.loaded:
            self.loaded[name] = _load(name, entry)
        return self.loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]


class LazyGroup(TyperGroup):
    """The root group: lists ``COMMANDS`` from the registry, imports one when it is used."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        commands = self.commands
        assert isinstance(commands, _Commands)
        commands.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            commands.listing = False


app = typer.Typer(
    cls=LazyGroup,
    name="xinyong",
    help="信用 xinyong — 公共信用信息平台 / public credit information platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xinyong {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="显示版本 / show version"),
    ] = False,
) -> None:
    """信用 xinyong — 公共信用信息平台 / public credit information platform."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise: ``raise fail("…")``."""
    err_console.print(f"[red]错误 / error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def main() -> None:
    """Entry point: run the app, turning our own errors into one line and exit 2."""
    try:
        app()
    except XinyongError as exc:
        err_console.print(f"错误 / error: {exc.bilingual()}", highlight=False, soft_wrap=True)
        sys.exit(2)
