"""The credit report (信用报告): built from the disclosed file, rendered, issued with a code.

``issue_report(conn, catalog, code, fmt=…, audience=…, lang=…, at=…, actor=…, purpose=…)``
builds the subject's file as the audience may see it (:func:`~xinyong.disclose.view.
subject_view`, audited), stamps a verification code into it, renders JSON, HTML or PDF, and
registers the result so ``verify_report`` can later prove it genuine. Returns the bytes and the
code.

Sections, after the 2022 public credit report standard's structure (cover with number and time,
basic information, then the catalog's categories — catalog-and-report.md §3): identity; records
by category with status and source; lists and measures in force with legal bases and end dates;
score and grade with reasons (or why not available); objections and repairs; query history.

PDF goes through WeasyPrint with a CJK font from Debian (``fonts-noto-cjk``); where either is
missing, ``PdfUnavailable`` says so (the CLI exits 2) and HTML and JSON still work.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import Connection

from xinyong.catalog.model import Catalog
from xinyong.disclose import labels
from xinyong.disclose.policy import check_audience
from xinyong.disclose.verification import new_code, register
from xinyong.disclose.view import subject_view
from xinyong.errors import UnusableInput

FORMATS = ("html", "pdf", "json")
#: The media type of each format, as served.
MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
LANGS = ("zh", "en")
ISSUER = ("xinyong 公共信用信息平台", "xinyong public credit information platform")
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei")
TEMPLATES = Path(__file__).resolve().parent / "templates"


class PdfUnavailable(UnusableInput):
    message_zh = "无法生成 PDF"
    message_en = "cannot make a PDF"


def build_report(
    conn: Connection,
    catalog: Catalog,
    code: str | int,
    *,
    audience: str,
    lang: str = "zh",
    at: date | None = None,
    today: date | None = None,
    actor: str | None = None,
    purpose: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """The report's content (JSON-ready), with a fresh verification code; audited. ``today``:
    the day it is issued, as :func:`~xinyong.disclose.view.subject_view` takes it."""
    check_audience(audience)
    if lang not in LANGS:
        raise UnusableInput(f"语言须为 zh 或 en / language must be zh or en, not {lang!r}")
    view = subject_view(
        conn,
        catalog,
        code,
        audience=audience,
        at=at or date.today(),
        today=today,
        actor=actor,
        purpose=purpose,
        source=source,
        action="report.issue",
    )
    _readable(view, catalog, lang)
    issued = datetime.now(UTC).replace(microsecond=0)
    return {
        "report": "公共信用信息报告 / public credit information report",
        "lang": lang,
        "issuer": ISSUER[0] if lang == "zh" else ISSUER[1],
        "issued_at": issued.isoformat(),
        "verification": {
            "code": new_code(issued.date()),
            "how": "xinyong report verify FILE",
        },
        **view,
    }


def _readable(view: dict[str, Any], catalog: Catalog, lang: str) -> None:
    """Add what a person reads in ``lang`` beside the codes: each record's details as
    (heading, value) pairs, labels of states, authorities, roles and actions (in place)."""
    by_id = {rec["id"]: rec for rec in view["records"]}
    for rec in view["records"]:
        rec["details"] = [
            list(pair) for pair in labels.details(catalog, rec["record_type"], rec["fields"], lang)
        ]

    def authority(authority_id: str | None) -> str:
        found = catalog.authorities.get(authority_id or "")
        if found is None:
            return authority_id or ""
        return found.name_en if lang == "en" else found.name_zh

    def about(item: dict[str, Any]) -> str:
        rec = by_id.get(item.get("record_id"))
        if rec is not None:
            name = rec["name_en"] if lang == "en" else rec["name_zh"]
            return f"{name} {rec['document_no'] or ''}".strip()
        listed = catalog.lists.get(item.get("list_id") or "")
        if listed is not None:
            return listed.name_en if lang == "en" else listed.name_zh
        return ""

    for item in view["objections"]:
        item["state_label"] = labels.label(labels.OBJECTION_STATES, item["state"], lang)
        item["authority_label"] = authority(item.get("authority"))
        item["about"] = about(item)
    for item in view["repairs"]:
        item["state_label"] = labels.label(labels.REPAIR_STATES, item["state"], lang)
        item["authority_label"] = authority(item.get("authority"))
        item["about"] = about(item)
    for query in view["queries"] or ():
        query["role_label"] = labels.label(labels.ROLES, query["role"], lang)
        query["action_label"] = labels.label(labels.ACTIONS, query["action"], lang)
        query["purpose_label"] = labels.label(labels.PURPOSES, query["purpose"], lang)


def render_json(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: dict[str, Any]) -> bytes:
    zh = report["lang"] == "zh"

    def t(zh_text: str, en_text: str) -> str:
        return zh_text if zh else en_text

    template = _environment().get_template("report.html")
    html = template.render(r=report, t=t, zh=zh, fonts=", ".join(f'"{f}"' for f in CJK_FAMILIES))
    return html.encode()


def cjk_font_available() -> bool:
    """Whether fontconfig knows a CJK font WeasyPrint can use."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return any(family in out for family in CJK_FAMILIES)


def render_pdf(html: bytes) -> bytes:
    """HTML → PDF with WeasyPrint; ``PdfUnavailable`` if the library or a CJK font is missing."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as error:
        raise PdfUnavailable(
            "未安装 WeasyPrint 或其依赖 Pango / WeasyPrint or Pango is missing "
            f"(pip install weasyprint; apt-get install libpango-1.0-0): {error}"
        ) from error
    if not cjk_font_available():
        raise PdfUnavailable(
            "缺少中文字体 / no CJK font (apt-get install fonts-noto-cjk); "
            "HTML 和 JSON 仍可用 / HTML and JSON still work"
        )
    document = weasyprint.HTML(string=html.decode(), base_url=str(TEMPLATES))
    pdf: bytes = document.write_pdf()
    return pdf


def issue_report(
    conn: Connection,
    catalog: Catalog,
    code: str | int,
    *,
    fmt: str = "html",
    audience: str = "public",
    lang: str = "zh",
    at: date | None = None,
    today: date | None = None,
    actor: str | None = None,
    purpose: str | None = None,
    source: str | None = None,
) -> tuple[bytes, str]:
    """Build, render and register one report; returns (file bytes, verification code)."""
    if fmt not in FORMATS:
        raise UnusableInput(
            f"格式须为 html、pdf 或 json / format must be html, pdf or json: {fmt!r}"
        )
    if fmt == "pdf":
        # Fail before anything is read or audited when PDF cannot be made here.
        try:
            import weasyprint  # noqa: F401
        except (ImportError, OSError) as error:
            raise PdfUnavailable(
                f"未安装 WeasyPrint 或 Pango / WeasyPrint or Pango is missing: {error}"
            ) from error
        if not cjk_font_available():
            raise PdfUnavailable("缺少中文字体 / no CJK font (apt-get install fonts-noto-cjk)")
    report = build_report(
        conn,
        catalog,
        code,
        audience=audience,
        lang=lang,
        at=at,
        today=today,
        actor=actor,
        purpose=purpose,
        source=source,
    )
    if fmt == "json":
        data = render_json(report)
    else:
        html = render_html(report)
        data = render_pdf(html) if fmt == "pdf" else html
    verification = report["verification"]["code"]
    register(
        conn,
        code=verification,
        data=data,
        fmt=fmt,
        subject_code=report["identity"]["code"],
        audience=audience,
        lang=lang,
        as_of=date.fromisoformat(report["as_of"]),
        issued_by=actor or "public",
    )
    return data, verification
