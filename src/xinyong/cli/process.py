"""``xinyong objection|repair|commitment …`` and ``xinyong report``: due process and reports.

A thin shell over :mod:`xinyong.process` and :mod:`xinyong.disclose`: each command opens one
transaction, calls one library function and prints its result (``--json`` for machines).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Connection
from typer import _click
from typer.core import TyperGroup

from xinyong.catalog import Catalog, catalog_in_force
from xinyong.cli.options import (
    CLI_PURPOSE,
    DEFAULT_DB,
    CatalogOption,
    DbOption,
    JsonOption,
    cli_actor,
)
from xinyong.cli.store import one_line_errors
from xinyong.disclose import issue_report, verify_report
from xinyong.errors import UnusableInput
from xinyong.process.commitments import breach_commitment, sign_commitment
from xinyong.process.objections import (
    Evidence,
    Objection,
    decide_objection,
    file_objection,
    list_objections,
)
from xinyong.process.repair import Repair, apply_repair, decide_repair, list_repairs
from xinyong.store.engine import database_errors, opened
from xinyong.store.schema import require_current

objection_app = typer.Typer(help="异议 / objections", no_args_is_help=True)
repair_app = typer.Typer(help="信用修复 / credit repair", no_args_is_help=True)
commitment_app = typer.Typer(help="信用承诺 / credit commitments", no_args_is_help=True)

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="业务日期 / the date it happens (YYYY-MM-DD); default today"),
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="办理人 / who does it; default the login name")
]
AuthorityOption = Annotated[
    str, typer.Option("--authority", help="部门标识（目录中的 authority）/ authority id")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="理由 / reasons")]


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UnusableInput(f"日期应为 YYYY-MM-DD / a date is YYYY-MM-DD, not {text!r}") from error


def _by(value: str | None) -> str:
    return cli_actor(value)


@contextmanager
def _transaction(
    db: str, catalog_dirs: Sequence[Path] | None = None
) -> Iterator[tuple[Connection, Catalog]]:
    """One transaction on an initialised database, with the catalog in force; one-line errors."""
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            with database_errors(db), engine.begin() as conn:
                yield conn, catalog


def _echo(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _objection_line(o: Objection, today: date) -> str:
    late = " ⚠ 已逾期 / overdue" if o.overdue(today) else ""
    target = f"记录 / record {o.record_id}" if o.record_id else f"名单 / list {o.list_id}"
    return (
        f"#{o.id} {o.state} {o.subject_code} {target} → {o.authority}; "
        f"提出 / filed {o.filed_on}, 期限 / due {o.due_on} ({o.deadline_rule}){late}"
    )


def _repair_line(r: Repair, today: date) -> str:
    late = " ⚠ 已逾期 / overdue" if r.overdue(today) else ""
    return (
        f"#{r.id} {r.state} {r.subject_code} 记录 / record {r.record_id} → {r.authority}; "
        f"申请 / applied {r.applied_on}, 期限 / due {r.due_on}{late}"
    )


@objection_app.command("file")
def objection_file(
    subject: Annotated[str, typer.Argument(help="提出异议的主体代码 / the objector's code")],
    reason: ReasonOption,
    record: Annotated[
        int | None, typer.Option("--record", help="异议的记录编号 / the record objected to")
    ] = None,
    list_id: Annotated[
        str | None, typer.Option("--list", help="异议的名单 / the list entry objected to")
    ] = None,
    evidence: Annotated[
        list[Path] | None,
        typer.Option("--evidence", help="证据文件，可重复 / evidence file; repeatable"),
    ] = None,
    filer_role: Annotated[
        str,
        typer.Option("--as", help="身份 / subject, wrongly_matched (被错误匹配的人) or agent"),
    ] = "subject",
    by: ByOption = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """提出异议 / file an objection against a record or a list entry.

    The record shows 异议处理中 (under objection) until the source authority decides, within the
    deadline the rule set gives (counted in Chinese working days).

    Example: xinyong objection file 340828198205179396 --record 12 --as wrongly_matched
    --reason "非本人" --evidence id-card.pdf
    """
    with one_line_errors():
        files = [_evidence(path) for path in evidence or ()]
        today = _date(at)
    if filer_role not in ("subject", "wrongly_matched", "agent"):
        with one_line_errors():
            raise UnusableInput(f"--as 须为 subject、wrongly_matched 或 agent, not {filer_role!r}")
    with _transaction(db, catalog_dirs) as (conn, catalog):
        objection = file_objection(
            conn,
            catalog=catalog,
            subject_code=subject,
            reason=reason,
            filed_by=_by(by),
            filer_role=filer_role,  # type: ignore[arg-type]
            record_id=record,
            list_id=list_id,
            evidence=files,
            at=today,
        )
    _echo(
        objection.as_json(today),
        as_json,
        "已提出异议 / filed: " + _objection_line(objection, today),
    )


def _evidence(path: Path) -> Evidence:
    try:
        return Evidence(name=path.name, content=path.read_bytes())
    except OSError as error:
        raise UnusableInput(f"无法读取证据文件 / cannot read {path}: {error.strerror}") from error


@objection_app.command("decide")
def objection_decide(
    objection_id: Annotated[int, typer.Argument(help="异议编号 / objection id")],
    authority: AuthorityOption,
    reason: ReasonOption,
    uphold: Annotated[
        bool | None,
        typer.Option("--uphold/--reject", help="支持或驳回 / uphold or reject"),
    ] = None,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="支持：撤销记录 / upheld: withdraw the record")
    ] = False,
    correct: Annotated[
        list[str] | None,
        typer.Option("--correct", help="支持：更正 FIELD=VALUE，可重复 / upheld: correct a field"),
    ] = None,
    by: ByOption = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """决定异议 / the source authority decides an objection.

    Upheld: the record is withdrawn (--withdraw) or corrected (--correct FIELD=VALUE); rejected:
    the mark is lifted, with the reasons. Lists, restrictions and decisions follow in the same
    transaction.

    Example: xinyong objection decide 3 --uphold --withdraw --authority court --reason "身份错配"
    """
    with one_line_errors():
        if uphold is None:
            raise UnusableInput("须选择 --uphold 或 --reject / choose --uphold or --reject")
        if withdraw and correct:
            raise UnusableInput("--withdraw 与 --correct 只能选一个 / one of --withdraw, --correct")
        corrections = _pairs(correct or [])
        remedy = "withdraw" if withdraw else "correct" if corrections else None
        today = _date(at)
    with _transaction(db, catalog_dirs) as (conn, catalog):
        objection = decide_objection(
            conn,
            objection_id,
            catalog=catalog,
            upheld=uphold,
            authority=authority,
            decided_by=_by(by),
            reason=reason,
            remedy=remedy,  # type: ignore[arg-type]
            corrections=corrections or None,
            at=today,
        )
    _echo(
        objection.as_json(today), as_json, "已决定 / decided: " + _objection_line(objection, today)
    )


def _pairs(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UnusableInput(f"更正应写作 FIELD=VALUE / a correction is FIELD=VALUE: {item!r}")
        out[name.strip()] = value
    return out


@objection_app.command("list")
def objection_list(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="只列逾期未决的 / only open ones past due")
    ] = False,
    state: Annotated[str | None, typer.Option("--state", help="open, upheld or rejected")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="主体代码 / code")] = None,
    authority: Annotated[
        str | None, typer.Option("--authority", help="处理部门 / authority id")
    ] = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """列出异议 / list objections, oldest deadline first; --overdue escalates late ones.

    Exit 1 with --overdue when any objection is past its deadline (for alerting), else 0.

    Example: xinyong objection list --overdue --authority court --json
    """
    with one_line_errors():
        today = _date(at)
    with _transaction(db) as (conn, _catalog):
        found = list_objections(
            conn,
            state=state,
            subject_code=subject,
            authority=authority,
            overdue_on=today if overdue else None,
        )
    if as_json:
        typer.echo(json.dumps([o.as_json(today) for o in found], ensure_ascii=False, indent=2))
    elif not found:
        typer.echo("无异议 / no objections")
    else:
        for o in found:
            typer.echo(_objection_line(o, today))
    if overdue and found:
        raise typer.Exit(1)


@repair_app.command("apply")
def repair_apply(
    subject: Annotated[str, typer.Argument(help="申请修复的主体代码 / the applicant's code")],
    record: Annotated[int, typer.Option("--record", help="记录编号 / record id")],
    statement: Annotated[str, typer.Option("--statement", help="申请说明 / statement")],
    condition: Annotated[
        list[str] | None,
        typer.Option("--condition", help="已满足的条件（序号或原文），可重复 / a condition met"),
    ] = None,
    commitment: Annotated[
        int | None, typer.Option("--commitment", help="信用承诺编号 / commitment id")
    ] = None,
    by: ByOption = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """申请信用修复 / apply for credit repair of a record.

    The catalog says per record type whether repair exists, from when (e.g. only after the
    minimum disclosure period) and on what conditions; every condition must be attested.

    Example: xinyong repair apply 91350100M000100Y43 --record 7 --condition 1 --condition 2
    --condition 3 --statement "罚款已缴清"
    """
    with one_line_errors():
        today = _date(at)
    with _transaction(db, catalog_dirs) as (conn, catalog):
        repair = apply_repair(
            conn,
            catalog=catalog,
            record_id=record,
            subject_code=subject,
            applied_by=_by(by),
            statement=statement,
            conditions_met=condition or [],
            commitment_id=commitment,
            at=today,
        )
    _echo(repair.as_json(today), as_json, "已申请 / applied: " + _repair_line(repair, today))


@repair_app.command("decide")
def repair_decide(
    repair_id: Annotated[int, typer.Argument(help="修复申请编号 / repair id")],
    authority: AuthorityOption,
    reason: ReasonOption,
    grant: Annotated[
        bool | None, typer.Option("--grant/--refuse", help="同意或不同意 / grant or refuse")
    ] = None,
    by: ByOption = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """决定信用修复 / decide a repair application.

    Granted: the record stops being published and the measures it carried end; authorities
    that may see it by law still do.

    Example: xinyong repair decide 4 --grant --authority samr --reason "条件满足"
    """
    with one_line_errors():
        if grant is None:
            raise UnusableInput("须选择 --grant 或 --refuse / choose --grant or --refuse")
        today = _date(at)
    with _transaction(db, catalog_dirs) as (conn, catalog):
        repair = decide_repair(
            conn,
            repair_id,
            catalog=catalog,
            granted=grant,
            authority=authority,
            decided_by=_by(by),
            reason=reason,
            at=today,
        )
    _echo(repair.as_json(today), as_json, "已决定 / decided: " + _repair_line(repair, today))


@repair_app.command("list")
def repair_list(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="只列逾期未决的 / only pending ones past due")
    ] = False,
    state: Annotated[
        str | None, typer.Option("--state", help="pending, granted or refused")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="主体代码 / code")] = None,
    authority: Annotated[
        str | None, typer.Option("--authority", help="决定部门 / authority id")
    ] = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """列出修复申请 / list repair applications; exit 1 with --overdue when any is late.

    Example: xinyong repair list --overdue --json
    """
    with one_line_errors():
        today = _date(at)
    with _transaction(db) as (conn, _catalog):
        found = list_repairs(
            conn,
            state=state,
            subject_code=subject,
            authority=authority,
            overdue_on=today if overdue else None,
        )
    if as_json:
        typer.echo(json.dumps([r.as_json(today) for r in found], ensure_ascii=False, indent=2))
    elif not found:
        typer.echo("无修复申请 / no repair applications")
    else:
        for r in found:
            typer.echo(_repair_line(r, today))
    if overdue and found:
        raise typer.Exit(1)


@commitment_app.command("sign")
def commitment_sign(
    subject: Annotated[str, typer.Argument(help="承诺主体代码 / the subject's code")],
    name: Annotated[str, typer.Option("--name", help="承诺主体名称 / the subject's name")],
    matter: Annotated[str, typer.Option("--matter", help="承诺事项 / what is promised")],
    authority: AuthorityOption,
    kind: Annotated[
        str, typer.Option("--kind", help="tolerance_acceptance (容缺受理), notification_commitment")
    ] = "tolerance_acceptance",
    due: Annotated[
        str | None, typer.Option("--due", help="履约期限 / due date (YYYY-MM-DD)")
    ] = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """签署信用承诺 / record a credit commitment the subject signed.

    Example: xinyong commitment sign 91350100M000100Y43 --name 某公司 --matter "30日内补齐环评批复"
    --authority approval_agencies --due 2025-04-30
    """
    with one_line_errors():
        today, due_on = _date(at), _date(due) if due else None
    with _transaction(db, catalog_dirs) as (conn, catalog):
        signed = sign_commitment(
            conn,
            catalog=catalog,
            subject_code=subject,
            subject_name=name,
            kind=kind,
            matter=matter,
            authority=authority,
            due_on=due_on,
            at=today,
        )
    _echo(signed.as_json(), as_json, f"已签署承诺 / commitment #{signed.id} ({signed.kind})")


@commitment_app.command("breach")
def commitment_breach(
    commitment_id: Annotated[int, typer.Argument(help="承诺编号 / commitment id")],
    authority: AuthorityOption,
    breach: Annotated[str, typer.Option("--breach", help="违诺情形 / what was breached")],
    by: ByOption = None,
    at: AtOption = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """认定违反信用承诺 / find a commitment breached: it becomes a commitment_breach record.

    Example: xinyong commitment breach 5 --authority approval_agencies --breach "逾期未补齐材料"
    """
    with one_line_errors():
        today = _date(at)
    with _transaction(db, catalog_dirs) as (conn, catalog):
        found = breach_commitment(
            conn,
            commitment_id,
            catalog=catalog,
            authority=authority,
            breach=breach,
            found_by=_by(by),
            at=today,
        )
    _echo(
        found.as_json(),
        as_json,
        f"已认定违诺 / breach recorded: commitment #{found.id} → record {found.breach_record_id}",
    )


class _ReportGroup(TyperGroup):
    """``xinyong report SUBJECT …`` issues a report; ``xinyong report verify FILE`` checks one."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=_ReportGroup,
    help="信用报告 / credit reports: xinyong report SUBJECT …; xinyong report verify FILE",
    no_args_is_help=True,
)


@report_app.command("issue")
def report_issue(
    subject: Annotated[str, typer.Argument(help="主体代码 / subject code")],
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or json")] = "html",
    audience: Annotated[
        str, typer.Option("--as", help="public, subject, agency, source or operator")
    ] = "public",
    out: Annotated[
        Path | None, typer.Option("--out", help="输出文件 / output file; default stdout")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh (default) or en")] = "zh",
    at: AtOption = None,
    by: ByOption = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="查询目的，记入审计 / purpose, audited (default: 本人查询 for --as subject, "
            "else 命令行查询)",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="--as source 时的部门 / the source authority")
    ] = None,
    db: DbOption = DEFAULT_DB,
    catalog_dirs: CatalogOption = None,
) -> None:
    """出具信用报告 / issue a credit report with a verification code.

    Sections: identity, records by category, lists and measures in force, score, objections
    and repairs, query history. Non-public reports are audited in the subject's "who looked"
    list (actor --by, purpose --purpose); if the audit cannot be written, no report is given
    (exit 2). PDF needs
    WeasyPrint and a CJK font (fonts-noto-cjk): without them exit 2, HTML and JSON still work.

    Example: xinyong report 91350100M000100Y43 --format pdf --out report.pdf
    """
    with one_line_errors():
        today = _date(at)
        if fmt == "pdf" and out is None:
            raise UnusableInput("PDF 须用 --out 指定文件 / a PDF needs --out FILE")
    if audience != "public" and purpose is None:
        purpose = "本人查询 / own report" if audience == "subject" else CLI_PURPOSE
    with _transaction(db, catalog_dirs) as (conn, catalog):
        data, code = issue_report(
            conn,
            catalog,
            subject,
            fmt=fmt,
            audience=audience,
            lang=lang,
            at=today,
            today=date.today(),
            actor=_by(by) if audience != "public" else None,
            purpose=purpose,
            source=source,
        )
    if out is None:
        typer.echo(data.decode(), nl=False)
        return
    with one_line_errors():
        try:
            out.write_bytes(data)
        except OSError as error:
            raise UnusableInput(f"无法写入 / cannot write {out}: {error.strerror}") from error
    typer.echo(f"报告已出具 / report issued: {out} 查验码 / verification code {code}")


@report_app.command("verify")
def report_verify(
    file: Annotated[Path, typer.Argument(help="报告文件 / report file")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """查验报告真伪 / check that a report is one the platform issued, unaltered.

    Exit 0 genuine, 1 altered or unknown, 2 unreadable file or database.

    Example: xinyong report verify report.pdf
    """
    with one_line_errors():
        try:
            data = file.read_bytes()
        except OSError as error:
            raise UnusableInput(f"无法读取 / cannot read {file}: {error.strerror}") from error
    with _transaction(db) as (conn, _catalog):
        result = verify_report(conn, data)
    words = {
        "genuine": "真实未改动 / genuine and unaltered",
        "altered": "已被改动 / altered since it was issued",
        "unknown": "非本平台出具 / not issued by this platform",
        "forged": "登记信息与平台密钥不符 / its registration does not match the platform key",
    }[result.reason]
    text = f"{words}" + (
        f": {result.code} ({result.subject_code}, {result.issued_at})" if result.code else ""
    )
    _echo(result.as_json(), as_json, text)
    if not result.genuine:
        raise typer.Exit(1)
