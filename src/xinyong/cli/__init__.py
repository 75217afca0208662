"""The ``xinyong`` command: a thin shell over library functions.

Sub-commands live in modules of this package, one per command group, each registered below in
one visible line. Errors: a ``XinyongError`` that escapes a command is bad usage or unusable
input, so it prints one line and exits 2; never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from xinyong import __version__
from xinyong.errors import XinyongError

app = typer.Typer(
    name="xinyong",
    help="信用 xinyong — 公共信用信息平台 / public credit information platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


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


# Command groups, one line each.
from xinyong.cli import code as _code  # noqa: E402

app.add_typer(_code.app, name="code")
from xinyong.cli import catalog as _catalog  # noqa: E402

app.add_typer(_catalog.app, name="catalog")
from xinyong.cli import store as _store  # noqa: E402

app.command("init")(_store.init_command)
app.add_typer(_store.subject_app, name="subject")
app.command("batches")(_store.batches_command)
from xinyong.cli import ingest as _ingest  # noqa: E402

app.command("ingest")(_ingest.ingest_command)
from xinyong.cli import lab as _lab  # noqa: E402

app.add_typer(_lab.app, name="lab")
from xinyong.cli import audit as _audit  # noqa: E402

app.add_typer(_audit.app, name="audit")
from xinyong.cli import process as _process  # noqa: E402

_process.register(app)
from xinyong.cli import score as _score  # noqa: E402

app.add_typer(_score.app, name="score")
from xinyong.cli import serve as _serve  # noqa: E402

app.command("serve")(_serve.serve_command)
app.command("demo")(_serve.demo_command)
from xinyong.cli import decisions as _decisions  # noqa: E402

app.command("check")(_decisions.check_command)
app.command("screen")(_decisions.screen_command)
app.add_typer(_decisions.apikey_app, name="apikey")
from xinyong.cli import batch as _batch  # noqa: E402

app.add_typer(_batch.app, name="batch")
from xinyong.cli import feed as _feed  # noqa: E402

app.add_typer(_feed.app, name="feed")
app.add_typer(_feed.replica_app, name="replica")
app.add_typer(_feed.federation_app, name="federation")


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
