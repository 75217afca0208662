"""``xinyong batch``: batch work on a chosen engine — DuckDB here, Spark on a cluster.

The same job as ``xinyong screen`` (``batch screen``), and the re-derivation of list entries and
the restriction index from records (``batch derive``), written once
(:mod:`xinyong.batch`), run on ``--engine duckdb`` or ``--engine spark --master URL``. Inputs and
outputs are Parquet, read and written where they lie (on a cluster: its shared storage).
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import pyarrow.parquet as pq
import typer

from xinyong import audit
from xinyong.batch import jobs
from xinyong.catalog import catalog_in_force
from xinyong.cli import alias_note, err_console
from xinyong.cli.decisions import parse_day, parse_known_at
from xinyong.cli.engines import EngineOption, MasterOption, engine_named, running
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
from xinyong.cli.score import parse_datetime, score_every_subject
from xinyong.cli.store import one_line_errors
from xinyong.errors import UnusableInput
from xinyong.measures.decisions import known_at_from, require_action
from xinyong.measures.screen import record_reads, restriction_table
from xinyong.store.engine import database_errors, opened
from xinyong.store.schema import require_current

app = typer.Typer(
    help="批处理（DuckDB 或 Spark）/ batch work on DuckDB or Spark", no_args_is_help=True
)

OutOption = Annotated[
    Path, typer.Option("--out", help="结果 Parquet / output Parquet (a directory on Spark)")
]
AtOption = Annotated[str | None, typer.Option("--at", help="日期 / as of day YYYY-MM-DD")]
KnownAtOption = Annotated[
    str | None, typer.Option("--known-at", help="所知时点 / as known at (date or ISO instant)")
]


def _parquet_only(path: Path) -> None:
    if path.suffix.lower() not in (".parquet", ".pq") and not path.is_dir():
        raise UnusableInput(
            f"批处理只读 Parquet / batch work reads Parquet (use xinyong screen for CSV): {path}"
        )
    if not path.exists():
        raise UnusableInput(f"文件不存在 / no such file: {path}")


def _report(as_json: bool, payload: dict[str, object], text: str) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False) if as_json else text)


@app.command("screen")
def screen_command(
    file: Annotated[Path, typer.Argument(help="Parquet 文件 / Parquet file of codes")],
    action: Annotated[str, typer.Option("--action", help="行为 / action id")],
    out: OutOption,
    column: Annotated[str, typer.Option("--column", help="代码所在列 / column of codes")] = "code",
    engine: EngineOption = "duckdb",
    master: MasterOption = "local[2]",
    at: AtOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
) -> None:
    """批量筛查 / screen a column of codes on DuckDB or Spark; Parquet out.

    Writes n (input order), code, outcome, until, measures per row, as ``xinyong screen`` does,
    and audits it as ``xinyong screen`` does: one event per subject matched (actor --by, purpose
    --purpose), committed before the result is written; if they cannot be written, nothing is
    (exit 2). Exit 0 when written, 2 for an unusable file, action, engine, database or an empty
    purpose.

    Example: xinyong batch screen buyers.parquet --action buy_flight_ticket --out d.parquet
    --engine spark --master local[2]
    """
    with one_line_errors():
        if not purpose.strip():
            raise UnusableInput("须说明查询目的 / --purpose must not be empty")
        reader = {"actor": cli_actor(by), "role": CLI_ROLE, "purpose": purpose.strip()}
        _parquet_only(file)
        day = parse_day(at, "--at") or date.today()
        known = known_at_from(parse_known_at(known_at))
        catalog = catalog_in_force(catalog_dirs or ())
        require_action(catalog, action)
        started = time.perf_counter()
        with opened(db, create=False) as store, database_errors(db):
            require_current(store)
            index = restriction_table(store, action, day, known, catalog)
            with running(engine, master) as runner:
                jobs.screen_files(
                    runner,
                    [file],
                    column,
                    index,
                    out,
                    audit=lambda matched: record_reads(
                        store, matched, action, day, file.name, reader
                    ),
                )
    seconds = round(time.perf_counter() - started, 3)
    _report(
        as_json,
        {"engine": engine, "out": str(out), "seconds": seconds},
        f"已筛查，写入 {out} / screened into {out} on {engine} in {seconds}s",
    )


@app.command("score", hidden=True)
def score_command(
    model: Annotated[str, typer.Option("--model", help="评分模型 / points model id")],
    out: OutOption,
    purpose: Annotated[str, typer.Option("--purpose", help="查询目的（审计）/ purpose, audited")],
    engine: EngineOption = "duckdb",
    master: MasterOption = "local[2]",
    at: AtOption = None,
    known_at: KnownAtOption = None,
    by: Annotated[str | None, typer.Option("--by", help="操作人 / operator")] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
) -> None:
    """已并入 xinyong score --all / use xinyong score --all (same options, --engine spark too).

    An alias kept for old scripts: it runs xinyong score --all with its options and then says so
    on stderr.
    """
    with one_line_errors():
        score_every_subject(
            model,
            out,
            catalog=catalog_in_force(catalog_dirs or ()),
            purpose=purpose,
            engine=engine,
            master=master,
            day=parse_day(at, "--at") or date.today(),
            known=parse_datetime(known_at),
            actor=cli_actor(by),
            db=db,
            as_json=as_json,
        )
    err_console.print(alias_note("batch score", "score --all"), highlight=False, soft_wrap=True)


#: The audit action of a batch export of list entries and restrictions.
RECORDS_DERIVE = "records.derive"


def _writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UnusableInput(
            f"无法创建输出目录 / cannot create the output directory {path}: {error.strerror}"
        ) from error
    if not os.access(path, os.W_OK):
        raise UnusableInput(f"输出目录不可写 / the output directory is not writable: {path}")


@app.command("derive")
def derive_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="输出目录 / output directory (list_entries, restrictions)"),
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="用途（审计）/ purpose, audited")],
    engine: EngineOption = "duckdb",
    master: MasterOption = "local[2]",
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="与库中现行数据比对 / compare with the store's current tables"
        ),
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="操作人 / operator")] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
) -> None:
    """由记录重新推导名单与限制索引 / re-derive list entries and the restriction index.

    Reads the store's current records, subjects and relations; writes list_entries.parquet and
    restrictions.parquet under --out (the current listed entries and index rows, an entry named
    by list_id and record_key). With --compare, counts the rows only in one side against the
    store's own current tables. The files name people, so the export is one records.derive audit
    event with its purpose. Exit 0 when written (and, with --compare, equal), 1 when they differ,
    2 for an empty purpose, a bad engine, database or output directory.

    Example: xinyong batch derive --out derived/ --purpose 夜间核对 --engine spark --compare
    """
    with one_line_errors():
        if not purpose.strip():
            raise UnusableInput("批量推导须说明用途 / batch derive needs a purpose (--purpose)")
        if engine not in ("duckdb", "spark"):
            engine_named(engine, master)  # refuses, with the message
        catalog = catalog_in_force(catalog_dirs or ())
        _writable_dir(out)
        started = time.perf_counter()
        with opened(db, create=False) as store, database_errors(db):
            require_current(store)
            with store.connect() as conn:
                inputs = jobs.store_derive_inputs(conn, catalog)
                stored = (
                    (jobs.store_entries(conn), jobs.store_restrictions(conn)) if compare else None
                )
            with running(engine, master) as runner:
                paths = jobs.derive_to_parquet(runner, catalog, *inputs, out)
            derived = [pq.read_table(p) for p in paths]
            with store.begin() as conn:  # the export is audited once it is written
                audit.record(
                    conn,
                    actor=cli_actor(by),
                    role="operator",
                    purpose=purpose.strip(),
                    subject=None,
                    action=RECORDS_DERIVE,
                    resource="list_entries,restrictions",
                    outcome=f"{derived[0].num_rows} entries, {derived[1].num_rows} restrictions",
                    detail={"out": str(out), "batch": True, "engine": engine},
                )
    seconds = round(time.perf_counter() - started, 3)
    counts = {"entries": derived[0].num_rows, "restrictions": derived[1].num_rows}
    payload: dict[str, object] = {
        "engine": engine,
        "out": str(out),
        "records": inputs[0].num_rows,
        **counts,
        "seconds": seconds,
    }
    text = (
        f"已推导 {counts['entries']:,} 个名单条目、{counts['restrictions']:,} 条限制，写入 {out} / "
        f"derived {counts['entries']:,} entries and {counts['restrictions']:,} restrictions "
        f"into {out} on {engine} in {seconds}s"
    )
    differ = False
    if stored is not None:
        found = {}
        for name, ours, theirs in zip(counts, derived, stored, strict=True):
            only_derived, only_store = jobs.differences(ours, theirs)
            found[name] = {"only_derived": only_derived, "only_store": only_store}
            differ = differ or bool(only_derived or only_store)
            text += (
                f"\n{name}: 仅推导 / only derived {only_derived:,}, "
                f"仅库中 / only in the store {only_store:,}"
            )
        payload["compare"] = found
        payload["same"] = not differ
    _report(as_json, payload, text)
    if differ:
        raise typer.Exit(1)
