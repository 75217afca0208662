"""``xinyong code``: identifier codes (filled in by the codes work)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="统一社会信用代码、组织机构代码、身份证号码 / identifier codes", no_args_is_help=True
)
