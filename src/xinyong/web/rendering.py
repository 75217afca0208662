"""Rendering pages: templates, the session and language of the request, error pages.

``render(request, "page.html", **context)`` gives every template ``_`` (the translator),
``lang``, ``session``, ``catalog``, ``pick`` (name_zh or name_en), ``csrf``, and for codes
``label(labels.KINDS, code)``, ``details(record_type, fields)`` (a record's fields as
(heading, value) pairs) and ``authority(id)`` — words from :mod:`xinyong.disclose.labels`, in
the page's language, never a bare code. Error pages are
the portal's answer to every failure outside ``/api``: a clear message, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from xinyong.dependencies import catalog_of
from xinyong.disclose import labels
from xinyong.errors import XinyongError
from xinyong.web import i18n
from xinyong.web.sessions import Session

log = logging.getLogger("xinyong.web")

HOW_LABELS = {
    "exact_code": "代码完全一致",
    "masked_code": "隐去部分的号码",
    "name": "名称一致",
    "pinyin": "拼音",
    "similar": "名称相近",
}


def template_dir() -> Path:
    return Path(str(resources.files("xinyong.web").joinpath("templates")))


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(template_dir()),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(how_labels=HOW_LABELS, labels=labels)
    return env


def by_type(view: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A file's records grouped by record type, as the pages show them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in view["records"]:
        out.setdefault(rec["record_type"], []).append(rec)
    return out


def session_of(request: Request) -> Session:
    session = getattr(request.state, "session", None)
    return session if isinstance(session, Session) else Session()


def lang_of(request: Request) -> str:
    lang = request.cookies.get(i18n.COOKIE, "zh")
    return lang if lang in i18n.LANGS else "zh"


def today() -> date:
    return date.today()


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    session = session_of(request)
    translate = i18n.translator(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    def pick(entity: Any, attr: str = "name") -> str:
        """``name_zh`` or ``name_en`` of a catalog entity or of a read model's dict."""
        if isinstance(entity, Mapping):
            return i18n.pick(lang, entity.get(f"{attr}_zh", ""), entity.get(f"{attr}_en", ""))
        return i18n.pick(lang, getattr(entity, f"{attr}_zh", ""), getattr(entity, f"{attr}_en", ""))

    def label(table: labels.Labels, code: Any) -> str:
        return labels.label(table, None if code is None else str(code), lang)

    def details(record_type: str, fields: Any, skip: Any = ()) -> list[tuple[str, str]]:
        hidden = set(labels.SHOWN_ELSEWHERE) | set(skip)
        return labels.details(catalog_of(request), record_type, fields, lang, skip=hidden)

    def authority(authority_id: str | None) -> str:
        found = catalog_of(request).authorities.get(authority_id or "")
        return pick(found) if found is not None else (authority_id or "")

    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            _=translate,
            lang=lang,
            session=session,
            csrf=session.csrf,
            catalog=catalog_of(request),
            pick=pick,
            label=label,
            details=details,
            authority=authority,
            here=quote(here, safe="/?=&"),
            demo=bool(getattr(request.app.state, "demo_logins", False)),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str, detail: str | None = None) -> Response:
    """An error as a page, in the visitor's language."""
    try:
        return render(request, "error.html", status=status, message=message, detail=detail)
    except Exception:  # the error page itself must never fail with a trace
        log.exception("error page failed")
        return HTMLResponse(
            f"<!doctype html><title>{status}</title><p>{status}</p>", status_code=status
        )


def one_line(error: XinyongError) -> str:
    """``中文 / English: detail``, as the CLI prints it (details are already bilingual)."""
    head = f"{error.message_zh} / {error.message_en}"
    return f"{head}: {error.detail}" if error.detail else head


def login_redirect(request: Request, reason: str) -> Response:
    here = request.url.path
    return RedirectResponse(f"/login?next={quote(here)}&reason={reason}", status_code=303)
