"""Options shared by several commands, defined once (``Annotated`` aliases)."""

from __future__ import annotations

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
