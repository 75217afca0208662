"""``xinyong ingest``: load a department's file as one batch, try it (``--dry-run``), or draft a
mapping for its headers (``--suggest-map``)."""

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
from xinyong.errors import UnusableInput
from xinyong.ingest import BatchResult, DryRun, dry_run, ingest_file
from xinyong.ingest.load import record_type_of
from xinyong.ingest.mapping import load_mapping, suggest_mapping
from xinyong.ingest.plan import Mapping
from xinyong.ingest.readers import open_rows
from xinyong.store.engine import opened
from xinyong.store.schema import require_current

EXIT_SOME_REJECTED = 3


def ingest_command(
    file: Annotated[Path, typer.Argument(help="CSV、XLSX 或 JSON Lines 文件 / the file to load")],
    record_type: Annotated[str, typer.Option("--type", help="记录类型 / record type id")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="来源部门 / source authority id (needed to load)"),
    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="文件编码 / file encoding (default: detected)"),
    ] = None,
    catalog_dirs: CatalogOption = None,
    mapping_file: Annotated[
        Path | None,
        typer.Option(
            "--map", help="字段映射文件 / mapping file: the department's headers → fields"
        ),
    ] = None,
    dry: Annotated[
        bool,
        typer.Option("--dry-run", help="只读不写：列映射、编码、版式和行数 / read, write nothing"),
    ] = False,
    suggest: Annotated[
        bool,
        typer.Option("--suggest-map", help="按表头相似度起草映射文件 / draft a mapping file"),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="--suggest-map 写入的文件 / where the draft goes"),
    ] = None,
) -> None:
    """载入一批记录 / load one file as a batch: rejected rows go to FILE.rejects.csv.

    Exit 0 when every row loaded (duplicates included), 3 when some rows were rejected, 2 when
    the file itself cannot be used (then nothing is loaded). --dry-run reads the whole file and
    writes nothing (same exit codes); --suggest-map prints a draft mapping for --map.

    Example: xinyong ingest examples/judgment_defaulter.csv --type judgment_defaulter --source spc
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        rtype = record_type_of(catalog, record_type)
        if suggest:
            _suggest(file, rtype.id, catalog, encoding, output)
            return
        mapping = load_mapping(mapping_file, rtype) if mapping_file is not None else None
        if dry:
            report = dry_run(file, record_type, catalog=catalog, encoding=encoding, mapping=mapping)
        else:
            if source is None:
                raise UnusableInput(
                    "载入须指明 --source（来源部门）/ loading needs --source (the source "
                    "authority); --dry-run and --suggest-map do not"
                )
            with opened(db, create=False) as engine:
                require_current(engine)
                result = _run(
                    engine, file, record_type, source, catalog, encoding, as_json, mapping
                )
    if dry:
        _print_dry_run(report, as_json)
        if report.plan.missing:
            with one_line_errors():
                report.plan.require_complete()
        if report.rejected:
            raise typer.Exit(EXIT_SOME_REJECTED)
        return
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(
            f"批次 {result.batch}：载入 {result.accepted} 行，拒收 {result.rejected} 行，"
            f"重复 {result.duplicates} 行，未关联 {result.unlinked} 行 / batch {result.batch}: "
            f"{result.accepted} loaded, {result.rejected} rejected, {result.duplicates} "
            f"duplicates, {result.unlinked} unlinked"
        )
        if result.layout is not None:
            typer.echo(f"版式 / layout: {result.layout.describe()}")
        if result.unmapped_columns:
            typer.echo(
                "未对应字段的列（随记录原样保留）/ unmapped columns (kept with each record): "
                + ", ".join(result.unmapped_columns)
            )
        if result.rejects_file:
            typer.echo(f"拒收行及原因 / rejected rows with reasons: {result.rejects_file}")
    if result.rejected:
        raise typer.Exit(EXIT_SOME_REJECTED)


def _suggest(
    file: Path, record_type: str, catalog: Catalog, encoding: str | None, output: Path | None
) -> None:
    rows = open_rows(file, encoding)
    rows.close()
    text = suggest_mapping(catalog.record_types[record_type], rows.headers, file_name=file.name)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    err_console.print(f"映射草稿 / draft mapping: {output}", highlight=False)


def _print_dry_run(report: DryRun, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
        return
    plan = report.plan
    echo = typer.echo
    echo(f"试运行（未写入任何内容）/ dry run (nothing written): {report.file}")
    echo(f"格式 / format: {report.format}   编码 / encoding: {report.encoding or '-'}")
    layout = plan.layout.describe() if plan.layout else "未识别 / none recognised"
    echo(f"版式 / layout: {layout}")
    echo("列映射 / mapping (header → field):")
    for item in plan.mapping_json():
        by = "（映射文件 / mapping file）" if item["by"] == "mapping" else ""
        echo(f"  {item['header']} → {item['field']}{by}")
    unmapped = ", ".join(plan.unmapped) or "无 / none"
    echo(f"未对应字段的列（随记录原样保留）/ unmapped (kept with each record): {unmapped}")
    missing = ", ".join(f.name for f in plan.missing) or "无 / none"
    echo(f"缺少的必填字段 / missing required fields: {missing}")
    echo(
        f"行 / rows: {report.rows}；可载入 / accepted {report.accepted}，拒收 / rejected "
        f"{report.rejected}，未关联 / unlinked {report.unlinked}"
    )
    if report.reasons:
        echo("拒收原因（前几行）/ first reasons:")
        for row, reason in report.reasons:
            echo(f"  第 {row} 行 / row {row}: {reason}")


def _run(
    engine: Engine,
    file: Path,
    record_type: str,
    source: str,
    catalog: Catalog,
    encoding: str | None,
    as_json: bool,
    mapping: Mapping | None,
) -> BatchResult:
    """Load, with a progress line on stderr when it is a terminal."""
    if not sys.stderr.isatty() or as_json:
        return ingest_file(
            engine, file, record_type, source, catalog=catalog, encoding=encoding, mapping=mapping
        )
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
            mapping=mapping,
        )
