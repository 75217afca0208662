"""``xinyong lab``: the synthetic population and its records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from xinyong.catalog import catalog_in_force
from xinyong.cli.options import DEFAULT_DB, CatalogOption, DbOption, JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.errors import UnusableInput
from xinyong.lab import FORMATS, generate
from xinyong.lab.errors import DEFAULT_SPEC, ErrorSpec
from xinyong.lab.harm import (
    DEFAULT_ENGINE,
    ENGINES,
    HarmReport,
    PolicyResult,
    parse_policies,
    run_harm,
    simulate,
)
from xinyong.lab.report import write_html
from xinyong.lab.whatif import apply as apply_changes
from xinyong.lab.whatif import load_overlay, parse_change, whatif

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
    catalog_dirs: CatalogOption = None,
) -> None:
    """生成合成人口及其信用记录 / generate a synthetic population and its records.

    Writes subjects.parquet, truth.parquet and records/TYPE.<format> per record type; the same
    seed gives the same bytes.

    Example: xinyong lab generate --subjects 100000 --seed 1 --out lab --format csv-gbk
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        try:
            summary = generate(
                out,
                subjects=subjects,
                seed=seed,
                formats=formats or ["csv"],
                start=_date(start, "--start"),
                end=_date(end, "--end"),
                catalog=catalog,
            )
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
        "engine": report.engine,
        "seconds": report.seconds,
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
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="名单、措施与比对在何处计算 / where lists, measures and the comparison run: "
            "python (reference), duckdb (this machine) or spark (--master); linking is Python",
        ),
    ] = DEFAULT_ENGINE,
    master: Annotated[
        str,
        typer.Option(
            "--master",
            help="Spark 主节点 / Spark master URL (with --engine spark): local[N], "
            "spark://host:7077, yarn, k8s://…",
        ),
    ] = "local[2]",
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """测量错误与匹配策略造成的伤害 / measure who gets hurt by injected errors under each
    linking policy.

    Generates the population in memory, injects errors, links (in Python), derives lists and
    measures and compares with the truth on --engine (the same counts on each). With one
    --policy, --json prints one object; with several (or all), a list of objects. The HTML
    report (charts embedded) goes to --out.

    Example: xinyong lab harm --subjects 1000000 --policy all --seed 1 --engine duckdb
    """
    with one_line_errors():
        if engine not in ENGINES:
            raise UnusableInput(
                f"--engine 须为 {'、'.join(ENGINES)} 之一 / --engine must be one of "
                f"{', '.join(ENGINES)}: {engine!r}"
            )
        spec = ErrorSpec.parse(errors)
        chosen = parse_policies(policies or [])
        first, last = _date(start, "--start"), _date(end, "--end")
        when = _date(at, "--at") if at else None
        report = run_harm(
            catalog=catalog_in_force(catalog_dirs or ()),
            subjects=subjects,
            seed=seed,
            spec=spec,
            policies=chosen,
            start=first,
            end=last,
            at=when,
            pipeline_url=db if pipeline else None,
            engine=engine,
            master=master,
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
    spent = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    typer.echo(f"引擎 / engine {report.engine}: {spent}")
    if report.extra:
        typer.echo(f"pipeline: {json.dumps(report.extra, ensure_ascii=False)}")
    if path is not None:
        typer.echo(f"报告 / report → {path}")


@app.command("whatif")
def whatif_command(
    changes: Annotated[
        list[str] | None,
        typer.Option(
            "--change",
            help="目录改动，可重复 / a catalog change, repeatable: 'list ID period=3y', "
            "'measure ID period=1y', 'measure ID off', 'measure ID applies_to=a,b'",
        ),
    ] = None,
    overlay: Annotated[
        Path | None,
        typer.Option(
            "--overlay", help="目录覆盖文件 / a catalog overlay (YAML: lists:, measures:)"
        ),
    ] = None,
    subjects: Annotated[
        int, typer.Option("--subjects", help="主体数 / number of subjects")
    ] = 10000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 0,
    errors: Annotated[
        str, typer.Option("--errors", help="快照中注入的错误 / errors in the snapshot")
    ] = "none",
    start: Annotated[
        str, typer.Option("--start", help="最早决定日期 / first decision date")
    ] = "2019-01-01",
    end: Annotated[
        str, typer.Option("--end", help="最晚决定日期 / last decision date")
    ] = "2025-12-31",
    at: Annotated[
        str | None, typer.Option("--at", help="统计日（默认 --end）/ count on this day")
    ] = None,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """政策推演：改动目录后重算名单与措施 / what if: rerun lists and measures on a snapshot
    with a changed catalog, and count who would be affected, by region and kind, over time.

    The snapshot is a lab population (--subjects, --seed, --errors) linked by code, as the
    platform links it.

    Example: xinyong lab whatif --change "list judgment_defaulters period=3y" --subjects 100000
    """
    with one_line_errors():
        parsed = [parse_change(c) for c in changes or []]
        if not parsed and overlay is None:
            raise UnusableInput("请给出 --change 或 --overlay / give --change or --overlay")
        first, last = _date(start, "--start"), _date(end, "--end")
        when = _date(at, "--at") if at else None
        run = simulate(
            catalog=catalog_in_force(catalog_dirs or ()),
            subjects=subjects,
            seed=seed,
            spec=ErrorSpec.parse(errors),
            start=first,
            end=last,
        )
        changed = run.catalog
        if overlay is not None:
            changed = load_overlay(changed, overlay)
        changed, caps = apply_changes(changed, parsed)
        labels = [c.text for c in parsed] + ([f"overlay {overlay}"] if overlay else [])
        result = whatif(run, changed, caps=caps, changes=labels, at=when)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"改动 / changes: {'; '.join(result.changes)}")
    typer.echo(
        f"{result.at}: 新增受限 {result.newly_restricted:,} 人，解除 {result.released:,} 人 / "
        f"newly restricted {result.newly_restricted:,}, released {result.released:,} "
        f"(of {result.subjects:,} subjects)"
    )
    typer.echo(f"{'date':<12} {'baseline':>9} {'changed':>9} {'newly':>7} {'released':>9}")
    for p in result.series:
        typer.echo(
            f"{p['at']:<12} {p['baseline']:>9,} {p['changed']:>9,} "
            f"{p['newly_restricted']:>7,} {p['released']:>9,}"
        )
    typer.echo("按主体类型 / by kind:")
    for kind, counts in result.by_kind.items():
        typer.echo(f"  {kind:<14} +{counts['newly_restricted']:,} −{counts['released']:,}")
    typer.echo("按省份 / by province:")
    for row in result.by_region[:10]:
        typer.echo(
            f"  {row['region']} {row['name']:<10} +{row['newly_restricted']:,} −{row['released']:,}"
        )
