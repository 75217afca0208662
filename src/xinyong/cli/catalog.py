"""``xinyong catalog``: show the catalog, and check an operator's catalog files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xinyong.catalog import Catalog, LegalRef, catalog_dirs, catalog_in_force, load_catalog
from xinyong.catalog.loader import SINGULAR, legal_refs
from xinyong.catalog.model import SECTIONS
from xinyong.cli.options import CatalogOption, JsonOption
from xinyong.errors import XinyongError

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
