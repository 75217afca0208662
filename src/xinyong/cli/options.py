"""Options shared by several commands, defined once (``Annotated`` aliases)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DB = "sqlite:///xinyong.db"

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="XINYONG_DB",
        help="数据库 URL / database URL (sqlite:///… or postgresql+psycopg://…); "
        "default: $XINYONG_DB, then sqlite:///xinyong.db",
        show_default=False,
    ),
]

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="以 JSON 输出 / print JSON instead of a table"),
]

LangOption = Annotated[
    str,
    typer.Option("--lang", help="语言 / language: zh or en"),
]

CatalogOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--catalog",
        metavar="DIR",
        help="运营方目录文件夹，可多次给出，在 $XINYONG_CATALOG 的文件夹之后读取 / an operator's "
        "catalog folder (repeatable), read after the folders in $XINYONG_CATALOG",
        show_default=False,
    ),
]
"""Give it to ``xinyong.catalog.catalog_in_force`` (inside ``one_line_errors()``): a bad folder
or file ends the command with one line and exit 2."""

#: Whoever runs the CLI reads the database directly: they act as an operator.
CLI_ROLE = "operator"
#: What a read from the command line is for, unless --purpose says more: it is still audited.
CLI_PURPOSE = "命令行查询 / command-line query"

PurposeOption = Annotated[
    str,
    typer.Option("--purpose", help="查询目的，记入审计 / purpose, written to the audit log"),
]

ByOption = Annotated[
    str | None,
    typer.Option("--by", help="查询人 / who reads it; default cli:<login name>"),
]


def cli_actor(by: str | None) -> str:
    """Who acts from the command line: ``--by``, else ``cli:<login name>``."""
    return by or f"cli:{getpass.getuser()}"
