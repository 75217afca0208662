"""``xinyong ingest``: load a department's file as one batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from xinyong.catalog import Catalog, catalog_in_force
from xinyong.cli.options import DEFAULT_DB, CatalogOption, DbOption, JsonOption
from xinyong.cli.store import err_console, one_line_errors
from xinyong.ingest import BatchResult, ingest_file
from xinyong.store.engine import opened
from xinyong.store.schema import require_current

EXIT_SOME_REJECTED = 3


def ingest_command(
    file: Annotated[Path, typer.Argument(help="CSV、XLSX 或 JSON Lines 文件 / the file to load")],
    record_type: Annotated[str, typer.Option("--type", help="记录类型 / record type id")],
    source: Annotated[str, typer.Option("--source", help="来源部门 / source authority id")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="文件编码 / file encoding (default: detected)"),
    ] = None,
    catalog_dirs: CatalogOption = None,
) -> None:
    """载入一批记录 / load one file as a batch: rejected rows go to FILE.rejects.csv.

    Exit 0 when every row loaded (duplicates included), 3 when some rows were rejected, 2 when
    the file itself cannot be used (then nothing is loaded).

    Example: xinyong ingest examples/judgment_defaulter.csv --type judgment_defaulter --source spc
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            result = _run(engine, file, record_type, source, catalog, encoding, as_json)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(
            f"批次 {result.batch}：载入 {result.accepted} 行，拒收 {result.rejected} 行，"
            f"重复 {result.duplicates} 行 / batch {result.batch}: {result.accepted} loaded, "
            f"{result.rejected} rejected, {result.duplicates} duplicates"
        )
        if result.rejects_file:
            typer.echo(f"拒收行及原因 / rejected rows with reasons: {result.rejects_file}")
    if result.rejected:
        raise typer.Exit(EXIT_SOME_REJECTED)


def _run(
    engine: Engine,
    file: Path,
    record_type: str,
    source: str,
    catalog: Catalog,
    encoding: str | None,
    as_json: bool,
) -> BatchResult:
    """Load, with a progress line on stderr when it is a terminal."""
    if not sys.stderr.isatty() or as_json:
        return ingest_file(engine, file, record_type, source, catalog=catalog, encoding=encoding)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} 行 / rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"载入 / loading {file.name}", total=None)
        return ingest_file(
            engine,
            file,
            record_type,
            source,
            catalog=catalog,
            encoding=encoding,
            progress=lambda n: bar.update(task, completed=n),
        )
