"""``xinyong catalog``: show the catalog, and check an operator's catalog files."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xinyong import audit, pipeline
from xinyong.batch.impact import impact
from xinyong.catalog import Catalog, LegalRef, catalog_dirs, catalog_in_force, law, load_catalog
from xinyong.catalog.law import LawChange
from xinyong.catalog.loader import SINGULAR, legal_refs
from xinyong.catalog.model import SECTIONS
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
from xinyong.errors import XinyongError
from xinyong.store.engine import database_errors, opened
from xinyong.store.schema import require_current

app = typer.Typer(
    help="信用信息目录 / the catalog of record types, lists and measures", no_args_is_help=True
)


def _load(load: Callable[[], Catalog]) -> Catalog:
    try:
        return load()
    except XinyongError as exc:
        message = (
            f"{exc.message_zh} / {exc.message_en}: {exc.detail}" if exc.detail else exc.bilingual()
        )
        typer.echo(f"错误 / error: {message}", err=True)
        raise typer.Exit(2) from None


def _citation(catalog: Catalog, ref: LegalRef) -> dict[str, Any]:
    instrument = catalog.instruments[ref.instrument]
    article = catalog.article(ref)
    return {
        "citation": catalog.cite(ref),
        "instrument": instrument.id,
        "title_zh": instrument.title_zh,
        "number": instrument.number,
        "article": ref.article,
        "summary_zh": article.summary_zh if article else None,
        "summary_en": article.summary_en if article else None,
    }


def _summary(catalog: Catalog) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        rows[section] = [
            {"id": e.id, "name_zh": _name_zh(e), "name_en": _name_en(e), **_key_facts(e)}
            for e in catalog.section(section).values()
        ]
    return {"version": catalog.version, "counts": catalog.counts(), **rows}


def _name_zh(entity: Any) -> str:
    return str(getattr(entity, "name_zh", None) or getattr(entity, "title_zh", ""))


def _name_en(entity: Any) -> str:
    return str(getattr(entity, "name_en", None) or getattr(entity, "title_en", ""))


def _key_facts(entity: Any) -> dict[str, str]:
    facts: dict[str, str] = {}
    for attr in ("category", "polarity", "effect", "number", "authority", "implementing_agency"):
        value = getattr(entity, attr, None)
        if value is not None:
            facts[attr] = str(value)
    if hasattr(entity, "disclosure"):
        facts["disclosure"] = entity.disclosure
    return facts


def _detail(catalog: Catalog, section: str, entity: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"section": section, **entity.model_dump(mode="json")}
    refs = [ref for _, ref in legal_refs(entity, ())]
    if refs:
        seen: set[str] = set()
        resolved = []
        for ref in refs:
            item = _citation(catalog, ref)
            if item["citation"] not in seen:
                seen.add(item["citation"])
                resolved.append(item)
        data["legal_basis_resolved"] = resolved
    if section == "lists":
        data["measures"] = [m.id for m in catalog.measures_for(entity.id)]
    return data


@app.command()
def show(
    entity_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID]", help="条目标识，可写 section/id / an entry's id, or section/id"
        ),
    ] = None,
    json_output: JsonOption = False,
    dirs: CatalogOption = None,
) -> None:
    """显示目录：无 ID 时为总表，有 ID 时显示该条目及其法律依据 / show the catalog: a summary of
    everything, or one entry in full with its legal basis.

    Example: xinyong catalog show judgment_defaulters --json
    """
    catalog = _load(lambda: catalog_in_force(dirs or ()))
    if entity_id is None:
        summary = _summary(catalog)
        if json_output:
            typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            _print_summary(summary)
        return
    found = catalog.find(entity_id)
    if not found:
        typer.echo(
            f"错误 / error: 目录中没有 {entity_id!r} / no catalog entry {entity_id!r}", err=True
        )
        raise typer.Exit(2)
    if len(found) > 1:
        options = ", ".join(f"{s}/{entity_id}" for s, _ in found)
        typer.echo(
            f"错误 / error: {entity_id!r} 有歧义，请写 / is ambiguous, write one of: {options}",
            err=True,
        )
        raise typer.Exit(2)
    section, entity = found[0]
    detail = _detail(catalog, section, entity)
    if json_output:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2))
    else:
        _print_detail(detail)


@app.command()
def check(
    directory: Annotated[
        Path,
        typer.Argument(help="运营方目录文件夹 / the operator's catalog directory", file_okay=False),
    ],
    json_output: JsonOption = False,
) -> None:
    """与内置目录及 $XINYONG_CATALOG 的文件夹一起校验运营方的目录文件：有效退出码 0 并列出数量，
    无效退出码 2 并指出文件和行 / validate an operator's files together with the shipped catalog
    and the folders in $XINYONG_CATALOG, read afresh: exit 0 and counts when valid, exit 2 with
    file:line when not.

    Example: xinyong catalog check /etc/xinyong/catalog
    """
    catalog = _load(lambda: load_catalog(catalog_dirs([directory])))
    if json_output:
        typer.echo(
            json.dumps({"valid": True, "version": catalog.version, "counts": catalog.counts()})
        )
        return
    counts = "，".join(f"{SINGULAR[k]} {v}" for k, v in catalog.counts().items())
    typer.echo(f"目录有效 / catalog valid: {catalog.version} ({counts})")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(
            f"错误 / error: {option} 须为日期 / {option} must be a date YYYY-MM-DD: {value!r}",
            err=True,
        )
        raise typer.Exit(2) from None


_CHANGE_ZH = {"entered": "生效", "left": "失效"}


def _change_line(change: LawChange) -> str:
    mark = "（日期未核实 / date unconfirmed）" if change.unconfirmed else ""
    what = "文件 / instrument" if change.kind == "instrument" else change.kind
    return (
        f"{change.on}  {_CHANGE_ZH[change.change]} / {change.change}  {change.name_zh} "
        f"/ {change.name_en}  [{what}]{mark}"
    )


@app.command("diff")
def diff_command(
    start: Annotated[str, typer.Option("--from", help="起始日（不含）/ from this day (exclusive)")],
    end: Annotated[str, typer.Option("--to", help="截止日（含）/ to this day (inclusive)")],
    json_output: JsonOption = False,
    dirs: CatalogOption = None,
) -> None:
    """两日之间生效与失效的文件和规则 / the instruments and rules that entered or left force
    after --from up to --to: each with its day, the instruments behind it, and whether the day
    is unconfirmed. Exit 2 for a bad date or --from after --to.

    Example: xinyong catalog diff --from 2026-03-31 --to 2026-04-01 --json
    """
    first, last = _day(start, "--from"), _day(end, "--to")
    if first > last:
        typer.echo("错误 / error: --from 晚于 --to / --from is after --to", err=True)
        raise typer.Exit(2)
    catalog = _load(lambda: catalog_in_force(dirs or ()))
    changes = law.diff(catalog, first, last)
    if json_output:
        payload = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "catalog_version": catalog.version,
            "changes": [c.as_json() for c in changes],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not changes:
        typer.echo(
            f"{first} 至 {last} 无变化 / nothing entered or left force from {first} to {last}"
        )
        return
    for change in changes:
        typer.echo(_change_line(change))


@app.command("impact")
def impact_command(
    on: Annotated[str, typer.Option("--on", help="新规则生效日 / the day the new rules apply")],
    purpose: PurposeOption = CLI_PURPOSE,
    by: ByOption = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="并按当前目录重新推导名单与限制，作为一次审计事件 / and apply it: re-derive "
            "every list entry and restriction, audited as one catalog.law_change event",
        ),
    ] = False,
    json_output: JsonOption = False,
    db: DbOption = DEFAULT_DB,
    dirs: CatalogOption = None,
) -> None:
    """当日生效的规则取代前一日规则时，名单条目、限制、公示与共享各有多少变化，按记录类型与省份
    （DuckDB 批处理）/ how many list entries, restrictions, publications and shared repaired records
    change when the rules in force on --on replace those of the day before, by record type and
    province (batch, DuckDB). Counts only; audited as one catalog.impact event naming the
    instruments that changed. Apply a change of law by re-deriving (the pipeline, or
    xinyong batch derive), or with --apply: every subject's entries and the restriction index
    re-derived through the pipeline (feed events included) in the same transaction, audited as
    one catalog.law_change event naming the instruments. Exit 2 for a bad date, database or
    catalog.

    Example: xinyong catalog impact --on 2026-04-01 --json
    """
    day = _day(on, "--on")
    catalog = _load(lambda: catalog_in_force(dirs or ()))
    with one_line_errors(), opened(db, create=False) as store, database_errors(db):
        require_current(store)
        with store.begin() as conn:
            found = impact(conn, catalog, day)
            instruments = found.as_json()["instruments"]
            audit.record(
                conn,
                actor=cli_actor(by),
                role=CLI_ROLE,
                purpose=purpose,
                subject=None,
                action=CATALOG_IMPACT,
                resource=",".join(instruments) or None,
                outcome=json.dumps(found.totals(), sort_keys=True),
                detail={"on": day.isoformat(), "catalog_version": catalog.version},
            )
            applied = None
            if apply:
                derived = pipeline.apply_law(conn, catalog=catalog, at=day)
                applied = {
                    "list_changes": len(derived.list_changes),
                    "restriction_changes": len(derived.restriction_changes),
                }
                audit.record(
                    conn,
                    actor=cli_actor(by),
                    role=CLI_ROLE,
                    purpose=purpose,
                    subject=None,
                    action=CATALOG_LAW_CHANGE,
                    resource=",".join(instruments) or None,
                    outcome=json.dumps(applied, sort_keys=True),
                    detail={"on": day.isoformat(), "catalog_version": catalog.version},
                )
    if json_output:
        typer.echo(
            json.dumps({**found.as_json(), "applied": applied}, ensure_ascii=False, indent=2)
        )
        return
    if applied is not None:
        typer.echo(
            f"已重新推导 / re-derived: 名单变化 {applied['list_changes']} list changes, 限制变化 "
            f"{applied['restriction_changes']} restriction changes"
        )
    typer.echo(f"{day} 起适用的法律变化 / the change of law on {day}:")
    for change in found.changes:
        typer.echo("  " + _change_line(change))
    totals = found.totals()
    typer.echo(
        f"名单条目 {totals['entries']}，限制 {totals['restrictions']}，公示 "
        f"{totals['publications']}，共享 {totals['sharing']} / entries {totals['entries']}, "
        f"restrictions {totals['restrictions']}, publications {totals['publications']}, sharing "
        f"{totals['sharing']}"
    )
    for row in found.rows:
        typer.echo(
            f"  {row.what}  {row.record_type}  {row.province or '—'}  "
            f"{_CHANGE_ZH[row.change]}/{row.change}  {row.count}"
        )


#: The audit action of ``catalog impact``.
CATALOG_IMPACT = "catalog.impact"
#: The audit action of ``catalog impact --apply``: a change of law applied by re-deriving.
CATALOG_LAW_CHANGE = "catalog.law_change"


def _print_summary(summary: dict[str, Any]) -> None:
    console = Console()
    console.print(f"信用信息目录 / catalog {summary['version']}", highlight=False)
    for section in SECTIONS:
        rows = summary[section]
        if not rows:
            continue
        table = Table(title=f"{section} ({len(rows)})", title_justify="left")
        table.add_column("id", no_wrap=True)
        table.add_column("名称 / name", overflow="fold")
        table.add_column("要点 / key facts", overflow="fold")
        for row in rows:
            facts = "  ".join(
                f"{k}={v}" for k, v in row.items() if k not in {"id", "name_zh", "name_en"}
            )
            table.add_row(row["id"], f"{row['name_zh']}\n{row['name_en']}", facts)
        console.print(table)


def _print_detail(detail: dict[str, Any]) -> None:
    console = Console()
    resolved = detail.pop("legal_basis_resolved", [])
    section = detail.pop("section")
    title = detail.get("name_zh") or detail.get("title_zh") or ""
    console.print(f"[bold]{SINGULAR[section]}:{detail['id']}[/bold]  {title}", highlight=False)
    for key, value in detail.items():
        if key in {"id", "fields"} or value in (None, [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        console.print(f"  {key}: {text}", highlight=False, markup=False)
    for spec in detail.get("fields", []):
        enum = f" [{', '.join(v['id'] for v in spec['enum'])}]" if spec.get("enum") else ""
        req = " *" if spec["required"] else ""
        aliases = "、".join(spec["aliases"])
        console.print(
            f"  - {spec['name']}{req} ({spec['type']}){enum}  {aliases}",
            highlight=False,
            markup=False,
        )
    if resolved:
        console.print("  法律依据 / legal basis:", highlight=False)
        for item in resolved:
            summary = f" — {item['summary_zh']}" if item["summary_zh"] else ""
            console.print(
                f"    {item['citation']} 《{item['title_zh']}》{summary}",
                highlight=False,
                markup=False,
            )
