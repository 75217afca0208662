"""``xinyong init``, ``xinyong subject show|leads|confirm-lead|reject-lead`` and
``xinyong ingest-batches``: the store from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xinyong import audit, pipeline
from xinyong.catalog import catalog_in_force
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
from xinyong.errors import SubjectNotFound, UnusableInput, XinyongError
from xinyong.link.leads import Lead, confirm_lead, list_leads, reject_lead
from xinyong.store.engine import database_errors, opened, utcnow
from xinyong.store.queries import batch_json, batch_list, find_subject, subject_file
from xinyong.store.schema import require_current, upgrade

console = Console()
err_console = Console(stderr=True)


def one_line(error: XinyongError) -> str:
    """``中文 / English: detail`` (details are already written zh / en)."""
    head = f"{error.message_zh} / {error.message_en}"
    return f"{head}: {error.detail}" if error.detail else head


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Our errors end a command with one line on stderr and exit 2, also under ``CliRunner``."""
    try:
        yield
    except XinyongError as error:
        err_console.print(f"错误 / error: {one_line(error)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from error


subject_app = typer.Typer(help="信用主体 / subjects", no_args_is_help=True)


def init_command(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """创建或升级数据库 / create the database, or upgrade it to the newest schema.

    Safe to run again: an up-to-date database is left as it is.

    Example: xinyong init --db sqlite:///xinyong.db
    """
    with one_line_errors(), opened(db) as engine:
        result = upgrade(engine)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "db": result.url,
                    "action": result.action,
                    "from": result.before,
                    "to": result.after,
                    "partitions_created": list(result.partitions),
                },
                ensure_ascii=False,
            )
        )
        return
    words = {
        "created": "已创建 / created",
        "upgraded": "已升级 / upgraded",
        "unchanged": "已是最新 / already up to date",
    }[result.action]
    typer.echo(f"数据库{words}: {result.url} (schema {result.before or '-'} → {result.after})")
    if result.partitions:
        typer.echo(
            f"新建审计分区 / audit partitions created: {len(result.partitions)} "
            f"({result.partitions[0]} … {result.partitions[-1]})"
        )


@subject_app.command("show")
def show_command(
    code: Annotated[str, typer.Argument(help="统一社会信用代码、身份证号码或组织机构代码 / code")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
) -> None:
    """显示信用主体 / a subject's identifiers, names, relations and records with provenance.

    The whole file is shown, so the read is audited as an operator's (actor --by, purpose
    --purpose) in the subject's "who looked" list; if the audit cannot be written, nothing is
    shown (exit 2). Exit 0 for a known subject, 1 for an unknown one, 2 for a code that is not
    valid or an empty purpose.

    Example: xinyong subject show 91350100M000100Y43 --purpose "异议核实"
    """
    found, missing = None, code
    with (
        one_line_errors(),
        opened(db, create=False) as engine,
        database_errors(db),
        engine.begin() as conn,
    ):
        if not purpose.strip():
            raise UnusableInput("须说明查询目的 / --purpose must not be empty")
        require_current(engine)
        try:
            ref = find_subject(conn, code)
            found = subject_file(conn, ref.id)
        except SubjectNotFound as error:
            missing = error.detail or code
        if found is not None:
            audit.record(
                conn,
                actor=cli_actor(by),
                role=CLI_ROLE,
                purpose=purpose.strip(),
                subject=ref.code,
                action="subject.show",
                resource=f"subject:{ref.id}",
                outcome=f"{len(found.records)} records",
            )
    if found is None:
        if as_json:
            typer.echo(json.dumps({"code": missing, "found": False}))
        else:
            typer.echo(f"未找到信用主体 / no such subject: {missing}")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    _print_file(found.as_json())


def _print_file(data: dict[str, Any]) -> None:
    console.print(f"[bold]信用主体 / subject {data['primary_code']}[/bold]  ({data['kind']})")
    console.print(
        "代码 / identifiers: "
        + ", ".join(f"{i['scheme']} {i['value']}" for i in data["identifiers"])
    )
    console.print(
        "名称 / names: "
        + ", ".join(f"{n['name']} ({n['valid_from'] or '…'}–)" for n in data["names"])
    )
    if data["relations"]:
        rel = Table("方向 / direction", "角色 / role", "主体 / subject", "起 / from")
        for r in data["relations"]:
            rel.add_row(r["direction"], r["role"], r["subject_code"] or "", r["valid_from"] or "")
        console.print(rel)
    recs = Table(
        "记录 / record",
        "类型 / type",
        "文书号 / document",
        "决定日期 / decided",
        "状态 / status",
        "版本 / v",
        "来源 / provenance",
    )
    for r in data["records"]:
        prov = "; ".join(
            f"batch {p['batch']} {p['source']} row {p['row']}" for p in r["provenance"]
        )
        recs.add_row(
            str(r["id"]),
            r["record_type"],
            r["document_no"] or "",
            r["decided_on"] or "",
            r["status"],
            str(r["version"]),
            prov,
        )
    console.print(recs)


LeadArg = Annotated[int, typer.Argument(help="线索编号 / lead id (xinyong subject leads)")]
ActorOption = Annotated[
    str, typer.Option("--actor", help="处理人姓名 / the person who decides (named, audited)")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="理由 / why (kept and audited)")]
RoleOption = Annotated[
    str, typer.Option("--role", help="处理人角色 / role of the person: operator or department")
]


@subject_app.command("leads")
def leads_command(
    open_only: Annotated[
        bool, typer.Option("--open", help="只列未处理的 / open leads only")
    ] = False,
    record: Annotated[
        int | None, typer.Option("--record", help="只列此记录的 / leads of one record")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="最多行数 / most rows")] = 200,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """待确认线索 / leads: candidate subjects for records that carry only a name.

    A name never links a record by itself; a person confirms or rejects each lead.

    Example: xinyong subject leads --open
    """
    with (
        one_line_errors(),
        opened(db, create=False) as engine,
        database_errors(db),
        engine.connect() as conn,
    ):
        require_current(engine)
        found = list_leads(conn, open_only=open_only, record_id=record, limit=limit)
    if as_json:
        typer.echo(json.dumps([lead.as_json() for lead in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("没有线索 / no leads")
        return
    table = Table(
        "线索 / lead",
        "记录 / record",
        "记录名称 / name on record",
        "候选主体 / candidate",
        "相似度 / confidence",
        "状态 / state",
        "处理人 / decided by",
    )
    for lead in found:
        table.add_row(
            str(lead.id),
            f"{lead.record_id} {lead.record_type}",
            lead.record_name,
            f"{lead.subject_code or lead.subject_id} {'、'.join(lead.subject_names)}",
            f"{lead.confidence:.2f}",
            lead.state,
            _decided(lead),
        )
    console.print(table)


def _decided(lead: Lead) -> str:
    if lead.decided_by is None:
        return ""
    return f"{lead.decided_by}: {lead.reason or ''}"


@subject_app.command("confirm-lead")
def confirm_lead_command(
    lead_id: LeadArg,
    actor: ActorOption,
    reason: ReasonOption,
    role: RoleOption = "operator",
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """确认线索 / confirm a lead: link its record to the subject, then lists and measures follow.

    The person and the reason are kept with the lead and in the audit log; the record's other
    open leads close as rejected. Exit 2 for an unknown or already decided lead.

    Example: xinyong subject confirm-lead 3 --actor 张三 --reason "判决书载明身份证号码一致"
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine, database_errors(db):
            require_current(engine)
            with engine.begin() as conn:
                done = confirm_lead(conn, lead_id, actor=actor, reason=reason, role=role)
                touched = pipeline.apply_records(
                    conn, done.record_ids, catalog=catalog, at=utcnow().date()
                )
                done = replace(done, subjects=tuple(sorted(touched)))
    if as_json:
        typer.echo(json.dumps(done.as_json(), ensure_ascii=False))
        return
    lead = done.lead
    typer.echo(
        f"线索 {lead.id} 已确认：记录 {lead.record_id} 关联到主体 {lead.subject_code}，"
        f"关闭其他线索 {len(done.closed)} 条 / lead {lead.id} confirmed: record "
        f"{lead.record_id} linked to subject {lead.subject_code}; {len(done.closed)} other "
        f"lead(s) closed (audit event {done.audit_event})"
    )


@subject_app.command("reject-lead")
def reject_lead_command(
    lead_id: LeadArg,
    actor: ActorOption,
    reason: ReasonOption,
    role: RoleOption = "operator",
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """否定线索 / reject a lead: the record stays unlinked; who and why are audited.

    Exit 2 for an unknown or already decided lead.

    Example: xinyong subject reject-lead 4 --actor 张三 --reason "出生日期不符"
    """
    with one_line_errors(), opened(db, create=False) as engine, database_errors(db):
        require_current(engine)
        with engine.begin() as conn:
            done = reject_lead(conn, lead_id, actor=actor, reason=reason, role=role)
    if as_json:
        typer.echo(json.dumps(done.as_json(), ensure_ascii=False))
        return
    typer.echo(f"线索 {lead_id} 已否定 / lead {lead_id} rejected (audit event {done.audit_event})")


def batches_command(
    source: Annotated[
        str | None, typer.Option("--source", help="只列此来源部门 / one source authority")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="最多行数 / most rows")] = 50,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """载入批次 / the newest batches loaded: state, counts, and why a failed batch failed.

    (``xinyong batch`` is batch work on DuckDB or Spark, another job.)

    Example: xinyong ingest-batches --source spc
    """
    with (
        one_line_errors(),
        opened(db, create=False) as engine,
        database_errors(db),
        engine.connect() as conn,
    ):
        require_current(engine)
        rows = batch_list(conn, source=source, limit=limit)
    data = [batch_json(row) for row in rows]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not data:
        typer.echo("没有批次 / no batches")
        return
    table = Table(
        "批次 / batch",
        "文件 / file",
        "类型 / type",
        "来源 / source",
        "状态 / state",
        "载入 / loaded",
        "拒收 / rejected",
        "重复 / duplicates",
        "开始 / started",
    )
    for b in data:
        table.add_row(
            str(b["batch"]),
            b["file_name"],
            b["record_type"],
            b["source"],
            b["state"],
            str(b["accepted"]),
            str(b["rejected"]),
            str(b["duplicates"]),
            (b["started_at"] or "")[:19],
        )
    console.print(table)
    for b in data:
        if b["failure"]:
            typer.echo(f"批次 {b['batch']} 失败原因 / batch {b['batch']} failed: {b['failure']}")
