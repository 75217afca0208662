"""``xinyong score``: a subject's scores, every subject's in batch, and training a scorecard.

``xinyong score SUBJECT`` and ``xinyong score --all`` share one command; ``xinyong score train``
is a sub-command. A first argument that is not a sub-command's name is a subject code.
``xinyong score --all`` is the one command for scoring every subject, on DuckDB (default) or
Spark (``--engine spark``); ``xinyong batch score`` is an alias of it.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer._click.core import Context
from typer.core import TyperGroup

from xinyong import audit
from xinyong.batch import jobs
from xinyong.catalog import Catalog, catalog_in_force
from xinyong.cli.engines import ENGINES, EngineOption, MasterOption, running
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
from xinyong.cli.store import one_line_errors
from xinyong.errors import NotFound, UnusableInput
from xinyong.score import Score
from xinyong.score.access import SCORE_READ, read_scores
from xinyong.score.batch import score_all
from xinyong.score.features import parse_feature
from xinyong.score.models import engine_for, model_ids
from xinyong.score.scorecard import Scorecard
from xinyong.store.engine import database_errors, opened
from xinyong.store.queries import find_subject
from xinyong.store.schema import require_current

console = Console()
DEFAULT_COMMAND = "subject"


class _ScoreGroup(TyperGroup):
    """Routes ``xinyong score CODE …`` and ``xinyong score --all …`` to the default command."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_ScoreGroup,
    help="评分与评级 / scores and grades: xinyong score SUBJECT [--model ID] [--at DATE] | "
    "xinyong score --all --model ID --out FILE [--engine spark] | "
    "xinyong score train DATA --target COL. "
    "Non-public reads need --purpose and are audited.\n\n"
    "Example: xinyong score 91350100M000100Y43 --model rongcheng_points --at 2025-06-30 "
    "--purpose 授信审查",
    no_args_is_help=True,
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnusableInput(
            f"{option} 须为 YYYY-MM-DD / {option} must be YYYY-MM-DD: {value!r}"
        ) from None


def parse_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UnusableInput(
            f"--known-at 须为 ISO 时间 / --known-at must be ISO 8601: {value!r}"
        ) from None


@app.command(DEFAULT_COMMAND, hidden=True)
def subject_command(
    subject: Annotated[
        str | None, typer.Argument(help="统一社会信用代码或身份证号码 / subject code")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="评分模型 / model id (default: every model)")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="评分日期 / score as of YYYY-MM-DD")
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="按当时已知的记录 / as known at (ISO date-time)"),
    ] = None,
    all_subjects: Annotated[
        bool, typer.Option("--all", help="批量评分所有主体 / score every subject (DuckDB)")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="批量输出 / batch output (.parquet or .csv; Parquet on Spark)"),
    ] = None,
    engine: EngineOption = "duckdb",
    master: MasterOption = "local[2]",
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """一个主体的评分 / a subject's score, or --all in batch.

    A score is a read of non-public data unless it is a public model's score of a subject that
    is not a natural person (no shipped model is public): such a read writes an audit event
    (score.read, role operator, actor --by, purpose --purpose, by default "命令行查询 /
    command-line query"). --all always does; it runs on DuckDB here, or on Spark with
    --engine spark [--master URL] (Parquet out, points models).

    Exit 0 scored, 1 unknown subject, 2 bad usage (invalid code, unknown model, bad date,
    an empty --purpose).

    Example: xinyong score 91350100M000100Y43 --model rongcheng_points --purpose 授信审查 --json
    """
    actor = cli_actor(by)
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        day = _date(at, "--at") or date.today()
        known = parse_datetime(known_at)
        if all_subjects:
            if subject is not None or model is None or out is None:
                raise UnusableInput(
                    "批量评分须写 --all --model ID --out FILE，且不带主体 / batch scoring is "
                    "--all --model ID --out FILE, without a subject"
                )
            score_every_subject(
                model,
                out,
                catalog=catalog,
                purpose=purpose,
                engine=engine,
                master=master,
                day=day,
                known=known,
                actor=actor,
                db=db,
                as_json=as_json,
            )
            return
        if subject is None:
            raise UnusableInput("缺少主体代码或 --all / give a subject code or --all")
        if model is not None:
            try:
                engine_for(model, catalog)
            except NotFound as error:
                raise UnusableInput(error.detail) from error
        ids = [model] if model else model_ids(catalog)
        with opened(db, create=False) as store, database_errors(db), store.begin() as conn:
            require_current(store)
            try:
                ref = find_subject(conn, subject)
            except NotFound as error:
                if as_json:
                    typer.echo(json.dumps({"subject": subject, "found": False}))
                typer.echo(error.bilingual(), err=True)
                raise typer.Exit(1) from error
            scores = read_scores(
                conn,
                ref,
                ids,
                day,
                known,
                actor=actor,
                role=CLI_ROLE,
                purpose=purpose,
                catalog=catalog,
            )
    if as_json:
        body: Any = scores[0].as_json() if model else [s.as_json() for s in scores]
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for score in scores:
        _print(score)


def score_every_subject(
    model: str,
    out: Path,
    *,
    catalog: Catalog,
    purpose: str | None,
    engine: str,
    master: str,
    day: date,
    known: datetime | None,
    actor: str,
    db: str,
    as_json: bool,
) -> None:
    """``xinyong score --all``: every subject under ``model`` into ``out``, one audit event."""
    found = catalog.scoring_models.get(model)
    if found is None:
        raise UnusableInput(f"没有评分模型 / no scoring model {model!r}")
    if not (purpose and purpose.strip()):
        raise UnusableInput(
            "批量评分须说明目的 / batch scoring needs a purpose (--purpose), for the audit"
        )
    if engine not in ENGINES:
        raise UnusableInput(
            f"--engine 须为 duckdb 或 spark / --engine must be duckdb or spark: {engine}"
        )
    started = time.perf_counter()
    with opened(db, create=False) as store, database_errors(db), store.begin() as conn:
        require_current(store)
        if engine == "duckdb":
            count = score_all(conn, found, catalog, day, out, known)
        else:
            subject_table, raw = jobs.store_inputs(conn, found, day, known)
            with running(engine, master) as runner:
                jobs.score_to_parquet(runner, found, catalog, day, subject_table, raw, out)
            count = subject_table.num_rows
        audit.record(
            conn,
            actor=actor,
            role=CLI_ROLE,
            purpose=purpose.strip(),
            subject=None,
            action=SCORE_READ,
            resource=model,
            outcome=f"{count} subjects",
            detail={"at": day.isoformat(), "out": str(out), "batch": True, "engine": engine},
        )
    seconds = round(time.perf_counter() - started, 3)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "model": model,
                    "at": day.isoformat(),
                    "subjects": count,
                    "out": str(out),
                    "engine": engine,
                    "seconds": seconds,
                }
            )
        )
    else:
        typer.echo(f"已评分 {count} 个主体 / scored {count} subjects → {out} ({engine})")


def _print(score: Score) -> None:
    grade = score.grade or "-"
    label = f" {score.grade_label_zh} / {score.grade_label_en}" if score.grade_label_zh else ""
    example = "（示例模型 / example model）" if score.example else ""
    console.print(
        f"[bold]{score.model}[/bold]{example}  {score.subject}  {score.at}: "
        f"[bold]{score.score}[/bold]  等级 / grade {grade}{label}",
        highlight=False,
    )
    if score.minor:
        console.print(
            f"  未满十八周岁，本模型不评等级（{score.adults_only}）/ under 18: the model gives "
            f"no grade ({score.adults_only})",
            highlight=False,
        )
    elif not score.applicable:
        console.print("  本模型不适用于该类主体 / the model is not made for this kind of subject")
    for c in score.contributions:
        console.print(f"  {c.points:>+8}  {c.reason}", highlight=False)
    for d in score.decisions:
        console.print(f"  等级规则 / grade rule → {d.grade}: {d.reason_zh} / {d.reason_en}")
    for w in score.what_if:
        verb = "改变等级 / changes the grade" if w.changes_grade else "等级不变 / same grade"
        repair = f", 可申请修复 / repair from {w.repair_from}" if w.repairable else ""
        ends = f", 到期 / ends {w.ends_on}" if w.ends_on else ""
        console.print(
            f"  如记录 {w.record_id} 修复或到期 / if record {w.record_id} were repaired or "
            f"expired: {w.score} {w.grade or '-'} ({verb}{ends}{repair})",
            highlight=False,
        )
    if score.changes_on:
        console.print(f"  下次自动变化 / next change by itself: {score.changes_on}")


def _read_table(path: Path) -> dict[str, list[Any]]:
    if not path.is_file():
        raise UnusableInput(f"文件不存在 / no such file: {path}")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return {k: list(v) for k, v in pq.read_table(path).to_pydict().items()}
        except Exception as exc:  # pyarrow raises several unrelated classes for a bad file
            raise UnusableInput(f"无法读取 Parquet / cannot read Parquet {path}: {exc}") from exc
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnusableInput(f"须为 UTF-8 CSV / {path} must be UTF-8 CSV: {exc}") from exc
    if not rows:
        raise UnusableInput(f"文件为空 / empty file: {path}")
    columns: dict[str, list[Any]] = {}
    for name in rows[0]:
        values = [r[name] for r in rows]
        try:
            columns[name] = [float(v) if v != "" else None for v in values]
        except ValueError:
            columns[name] = values
    return columns


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Argument(help="训练数据 / training data (.csv or .parquet)")],
    target: Annotated[str, typer.Option("--target", help="目标列（1 = 坏）/ target column")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="模型文件 / model file (default scorecard-VERSION.json)"),
    ] = None,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """训练评分卡 / train a scorecard (WoE binning + logistic regression).

    Every column but the target must be a catalog feature (TYPE.count, TYPE.FIELD.sum|max,
    TYPE.FIELD=VALUE.count, TYPE.days_since_last); any other column is refused.

    Example: xinyong score train features.csv --target defaulted --out scorecard.json
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        columns = _read_table(data)
        if target not in columns:
            raise UnusableInput(f"没有目标列 / no target column {target!r} in {data}")
        y = columns.pop(target)
        if not columns:
            raise UnusableInput("没有特征列 / no feature columns")
        for name in columns:
            parse_feature(name, catalog)
        try:
            labels = [int(float(v)) for v in y]
        except (TypeError, ValueError) as exc:
            raise UnusableInput(f"目标列须为 0/1 / the target must be 0 or 1: {exc}") from exc
        card = Scorecard.fit(columns, labels, target=target)
        card.catalog_version = catalog.version
        path = out or Path(f"scorecard-{card.version}.json")
        card.save(path)
    summary = {
        "out": str(path),
        "version": card.version,
        "features": card.features,
        "train_auc": round(card.metrics["train_auc"], 4),
        "train_ks": round(card.metrics["train_ks"], 4),
        "rows": len(y),
    }
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        typer.echo(
            f"评分卡已保存 / scorecard saved: {path} (version {card.version}, "
            f"{len(card.features)} features, train AUC {summary['train_auc']})"
        )
