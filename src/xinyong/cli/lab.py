"""``xinyong lab``: the synthetic population and its records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, DbOption, JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.errors import CatalogError, UnusableInput
from xinyong.lab import FORMATS, generate
from xinyong.lab.errors import DEFAULT_SPEC, ErrorSpec
from xinyong.lab.harm import HarmReport, PolicyResult, parse_policies, run_harm
from xinyong.lab.report import write_html

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


def _policy_json(report: HarmReport, result: PolicyResult) -> dict[str, object]:
    return {
        **result.as_dict(),
        "seed": report.seed,
        "errors": report.errors,
        "injected": report.injected,
        "rows": report.rows,
        **({"pipeline": report.extra} if report.extra else {}),
    }


@app.command("harm")
def harm_command(
    subjects: Annotated[
        int, typer.Option("--subjects", help="主体数 / number of subjects")
    ] = 10000,
    errors: Annotated[
        str,
        typer.Option(
            "--errors",
            help="注入错误的比率 / error rates per row, e.g. wrong_digit=0.01,name_only=0.02 "
            "(kinds: wrong_digit, transposition, name_only, namesake, stale, duplicate; "
            "'none' for none)",
        ),
    ] = DEFAULT_SPEC,
    policies: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            help="匹配策略，可重复 / linking policy, repeatable: code_only, name_and_birthdate, "
            "name_fuzzy (the last two are counterfactual, lab only), or all",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 0,
    start: Annotated[
        str, typer.Option("--start", help="最早决定日期 / first decision date")
    ] = "2019-01-01",
    end: Annotated[
        str, typer.Option("--end", help="最晚决定日期 / last decision date")
    ] = "2025-12-31",
    at: Annotated[
        str | None, typer.Option("--at", help="统计日（默认 --end）/ count on this day")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML 报告 / HTML report file (default harm.html)"),
    ] = None,
    pipeline: Annotated[
        bool,
        typer.Option(
            "--pipeline",
            help="另用平台的 ingest→link 在 --db（空库）上跑 code_only 并核对 / also run code_only "
            "through the platform's ingest and link on --db (an empty database) and compare",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """测量错误与匹配策略造成的伤害 / measure who gets hurt by injected errors under each
    linking policy.

    Generates the population in memory, injects errors, links, derives lists and measures,
    compares with the truth. With one --policy, --json prints one object; with several (or
    all), a list of objects. The HTML report (charts embedded) goes to --out.

    Example: xinyong lab harm --subjects 1000000 --policy all --seed 1 --out harm.html
    """
    with one_line_errors():
        spec = ErrorSpec.parse(errors)
        chosen = parse_policies(policies or [])
        first, last = _date(start, "--start"), _date(end, "--end")
        when = _date(at, "--at") if at else None
        report = run_harm(
            subjects=subjects,
            seed=seed,
            spec=spec,
            policies=chosen,
            start=first,
            end=last,
            at=when,
            pipeline_url=db if pipeline else None,
        )
        path = out if out is not None else (None if as_json else Path("harm.html"))
        if path is not None:
            try:
                write_html(report, path)
            except OSError as error:
                raise UnusableInput(f"{path}: {error.strerror}") from error
    if as_json:
        objects = [_policy_json(report, r) for r in report.results]
        payload: object = objects[0] if len(objects) == 1 else objects
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(
        f"主体 {report.subjects:,}，记录 {report.rows:,} 行，错误 {report.errors} / "
        f"{report.subjects:,} subjects, {report.rows:,} rows, errors {report.errors}"
    )
    typer.echo(
        f"{'policy':<20} {'wrongly':>9} {'source':>7} {'overdue':>8} {'missed':>8} "
        f"{'objections':>10} {'multiplier':>10}"
    )
    for r in report.results:
        mark = " *" if r.counterfactual else ""
        typer.echo(
            f"{r.policy:<20} {r.wrongly_restricted:>9,} {r.wrongly_restricted_by_source:>7,} "
            f"{r.overdue:>8,} {r.missed:>8,} {r.objections_needed:>10,} {r.multiplier:>10.2f}{mark}"
        )
    typer.echo("* 反事实策略，仅在实验室中模拟 / counterfactual policy, modelled in the lab only")
    if report.extra:
        typer.echo(f"pipeline: {json.dumps(report.extra, ensure_ascii=False)}")
    if path is not None:
        typer.echo(f"报告 / report → {path}")
