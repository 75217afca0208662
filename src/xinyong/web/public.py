"""The public portal: search, subject pages, published lists, the catalog, the region dashboard.

Nothing here needs a log-in and nothing here shows what the public may not see: a subject's page
is the read model's public view (:func:`xinyong.disclose.view.subject_view`), search and lists
filter by the same policy (:mod:`xinyong.disclose.queries`). Every page works without JavaScript.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from xinyong.catalog import Catalog
from xinyong.codes import regions
from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import labels, queries
from xinyong.disclose.view import subject_view
from xinyong.errors import SubjectNotFound
from xinyong.spreadsheet import neutralise
from xinyong.web import i18n
from xinyong.web.rendering import by_type, error_page, lang_of, render, today

router = APIRouter(include_in_schema=False)

#: Province tiles: (row, column) in an 8 × 8 grid that keeps neighbours roughly adjacent.
TILES: dict[str, tuple[int, int]] = {
    "65": (0, 0), "15": (0, 4), "23": (0, 6),
    "63": (1, 1), "62": (1, 2), "64": (1, 3), "11": (1, 4), "22": (1, 6),
    "54": (2, 0), "61": (2, 2), "14": (2, 3), "13": (2, 4), "12": (2, 5), "21": (2, 6),
    "51": (3, 1), "50": (3, 2), "41": (3, 3), "37": (3, 4),
    "53": (4, 1), "52": (4, 2), "42": (4, 3), "34": (4, 4), "32": (4, 5), "31": (4, 6),
    "45": (5, 2), "43": (5, 3), "36": (5, 4), "33": (5, 5),
    "44": (6, 3), "35": (6, 4), "71": (6, 5),
    "46": (7, 2), "82": (7, 3), "81": (7, 4),
}  # fmt: skip

Db = Annotated[Engine, Depends(engine)]


def provinces() -> dict[str, str]:
    return {r.code[:2]: r.name for r in regions.current("province")}


@router.get("/")
def home(request: Request, db: Db) -> Response:
    with db.connect() as conn:
        numbers = queries.counts(conn)
    return render(request, "home.html", numbers=numbers)


@router.get("/lang")
def switch_language(to: str = "zh", next: str = "/") -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        i18n.COOKIE,
        to if to in i18n.LANGS else "zh",
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
    )
    return response


@router.get("/search")
def search(request: Request, db: Db, catalog: CatalogDep, q: str = "") -> Response:
    hits: list[queries.Hit] = []
    if q.strip():
        with db.connect() as conn:
            hits = queries.search(conn, catalog, q, at=today())
    return render(request, "search.html", q=q, hits=hits)


@router.get("/subjects/{subject_id}")
def subject_page(request: Request, db: Db, catalog: CatalogDep, subject_id: str) -> Response:
    _ = i18n.translator(lang_of(request))
    if not (subject_id.isascii() and subject_id.isdigit()) or len(subject_id) > 18:
        return error_page(request, 404, _("未找到该主体。"), subject_id[:40])
    try:
        with db.connect() as conn:
            view = subject_view(conn, catalog, int(subject_id), audience="public", at=today())
    except SubjectNotFound:
        return error_page(request, 404, _("未找到该主体。"), subject_id)
    records = by_type(view)
    return render(
        request, "subject.html", view=view, by_type=records, sections=sections(catalog, records)
    )


def sections(catalog: Catalog, shown: Mapping[str, object]) -> list[tuple[str, list[str]]]:
    """Record types grouped as the subject page shows them: (heading, [type ids])."""
    groups: dict[str, list[str]] = {
        "登记信息": [],
        "行政许可与行政处罚（双公示）": [],
        "失信信息": [],
        "守信激励（红名单）": [],
        "其他记录": [],
    }
    listed_types = {
        c.record_type: lst.polarity for lst in catalog.lists.values() for c in lst.criteria
    }
    for type_id in shown:
        category = catalog.record_types[type_id].category.value
        if category == "registration":
            groups["登记信息"].append(type_id)
        elif category in ("admin_license", "admin_penalty") and type_id not in listed_types:
            groups["行政许可与行政处罚（双公示）"].append(type_id)
        elif listed_types.get(type_id) == "red":
            groups["守信激励（红名单）"].append(type_id)
        elif type_id in listed_types:
            groups["失信信息"].append(type_id)
        else:
            groups["其他记录"].append(type_id)
    return [(heading, sorted(ids)) for heading, ids in groups.items() if ids]


@router.get("/lists")
def lists_index(request: Request, db: Db, catalog: CatalogDep) -> Response:
    with db.connect() as conn:
        numbers = queries.list_counts(conn, catalog, at=today())
    by_authority: dict[str, list[str]] = {}
    for list_id, list_def in sorted(catalog.lists.items()):
        by_authority.setdefault(list_def.authority, []).append(list_id)
    return render(request, "lists.html", numbers=numbers, by_authority=by_authority)


def _filters(
    province: str | None, year: str | None, kind: str | None
) -> tuple[str | None, int | None, str | None]:
    prov = province if province and province in provinces() else None
    yr = int(year) if year and year.isdigit() and 1949 <= int(year) <= 2100 else None
    knd = kind if kind in ("individual", "organisation") else None
    return prov, yr, knd


@router.get("/lists/{list_id}")
def list_page(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    list_id: str,
    province: str | None = None,
    year: str | None = None,
    kind: str | None = None,
    name: Annotated[str | None, Query(max_length=50)] = None,
    page: str = "1",
    format: str = "html",
) -> Response:
    _ = i18n.translator(lang_of(request))
    list_def = catalog.lists.get(list_id)
    if list_def is None:
        return error_page(request, 404, _("页面不存在。"), list_id[:60])
    prov, yr, knd = _filters(province, year, kind)
    number = int(page) if page.isdigit() and len(page) < 7 else 1
    with db.connect() as conn:
        result = queries.list_rows(
            conn,
            catalog,
            list_def,
            at=today(),
            province=prov,
            year=yr,
            kind=knd,
            name=name,
            page=number,
            page_size=0 if format == "csv" else queries.PAGE_SIZE,
        )
    if format == "csv":
        return _csv(list_id, result, catalog, lang_of(request))
    query = "&".join(
        f"{k}={quote(str(v))}"
        for k, v in (("province", prov), ("year", yr), ("kind", knd), ("name", name))
        if v
    )
    return render(
        request,
        "list.html",
        list_def=list_def,
        result=result,
        provinces=provinces(),
        province=prov,
        year=yr,
        kind=knd,
        name=name or "",
        query=query,
        measures=catalog.measures_for(list_id),
    )


def _csv(list_id: str, result: queries.ListPage, catalog: Catalog, lang: str) -> Response:
    """The list as CSV: headers in both languages, values in the portal's language."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["名称/姓名 name", "代码 code", "类型 kind", "地区 region", "文书号 document_no",
         "决定日期 decided_on", "认定机关 authority", "记录类型 record_type"]
    )  # fmt: skip
    for row in result.rows:
        rtype = catalog.record_types.get(row.record_type)
        cells = [
            row.name,
            row.code or "",
            labels.label(labels.KINDS, row.kind, lang),
            row.region or "",
            row.document_no or "",
            row.decided_on.isoformat() if row.decided_on else "",
            row.authority or "",
            i18n.pick(lang, rtype.name_zh, rtype.name_en) if rtype else row.record_type,
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    # UTF-8 with BOM so that spreadsheet programs open the Chinese correctly.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{list_id}.csv"'},
    )


@router.get("/catalog")
def catalog_page(request: Request) -> Response:
    return render(request, "catalog.html")


@router.get("/dashboard")
def dashboard_page(request: Request, db: Db, province: str | None = None) -> Response:
    names = provinces()
    prov = province if province in names else None
    with db.connect() as conn:
        whole = queries.dashboard(conn)
        focus = queries.dashboard(conn, province=prov) if prov else whole
    peak = max((v.get("listings", 0) for v in whole.provinces.values()), default=0)
    year_peak = max(
        (v.get("listings", 0) + v.get("measures", 0) for v in focus.years.values()), default=0
    )
    return render(
        request,
        "dashboard.html",
        whole=whole,
        focus=focus,
        province=prov,
        names=names,
        tiles=TILES,
        peak=peak,
        year_peak=year_peak,
    )
