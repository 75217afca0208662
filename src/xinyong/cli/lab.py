"""``xinyong lab``: the synthetic population and its records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from xinyong.cli.options import JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.errors import CatalogError, UnusableInput
from xinyong.lab import FORMATS, generate

app = typer.Typer(help="合成人口实验室 / the lab: synthetic population", no_args_is_help=True)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UnusableInput(
            f"{option} 须为 YYYY-MM-DD / {option} must be a date YYYY-MM-DD, not {text!r}"
        ) from error


@app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")],
    subjects: Annotated[int, typer.Option("--subjects", help="主体数 / number of subjects")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 0,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format", help=f"文件格式，可重复 / file format, repeatable: {', '.join(FORMATS)}"
        ),
    ] = None,
    start: Annotated[
        str, typer.Option("--start", help="最早决定日期 / first decision date")
    ] = "2019-01-01",
    end: Annotated[
        str, typer.Option("--end", help="最晚决定日期 / last decision date")
    ] = "2025-12-31",
    as_json: JsonOption = False,
) -> None:
    """生成合成人口及其信用记录 / generate a synthetic population and its records.

    Writes subjects.parquet, truth.parquet and records/TYPE.<format> per record type; the same
    seed gives the same bytes.

    Example: xinyong lab generate --subjects 100000 --seed 1 --out lab --format csv-gbk
    """
    with one_line_errors():
        try:
            summary = generate(
                out,
                subjects=subjects,
                seed=seed,
                formats=formats or ["csv"],
                start=_date(start, "--start"),
                end=_date(end, "--end"),
            )
        except CatalogError as error:
            raise UnusableInput(str(error)) from error
        except OSError as error:
            raise UnusableInput(f"{out}: {error.strerror}") from error
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    typer.echo(
        f"主体 {summary.subjects:,}（个人 {summary.individuals:,}）/ subjects "
        f"{summary.subjects:,} ({summary.individuals:,} individuals)"
    )
    for kind, count in summary.organisations.items():
        typer.echo(f"  {kind:<14} {count:>12,}")
    typer.echo("记录 / records:")
    for type_id, count in summary.records.items():
        typer.echo(f"  {type_id:<32} {count:>12,}")
    typer.echo(
        f"用时 {summary.seconds:.1f} 秒，{summary.rows_per_second:,.0f} 行/秒 / "
        f"{summary.seconds:.1f} s, {summary.rows_per_second:,.0f} rows/s → {out}"
    )
