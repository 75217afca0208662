"""Pages behind a log-in: the subject's self-service, the agency, department and operator consoles.

Each page checks the session's role first: no session (or an expired one) → the log-in page,
saying why; the wrong role → 403. Every POST checks the CSRF token. Reading a subject's whole
file writes an audit event (who, role, purpose). Where the feature behind a page has not landed
in this version, the page says so plainly; it never shows made-up data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from xinyong import audit
from xinyong.api.database import engine
from xinyong.errors import UnusableInput, XinyongError
from xinyong.ingest import ingest_file
from xinyong.web import accounts, i18n, queries
from xinyong.web.rendering import (
    catalog_of,
    error_page,
    lang_of,
    login_redirect,
    render,
    session_of,
    today,
)
from xinyong.web.sessions import Session, csrf_ok

router = APIRouter(include_in_schema=False)
Db = Annotated[Engine, Depends(engine)]

MAX_UPLOAD = 50 * 1024 * 1024


def _guard(request: Request, role: str) -> Response | None:
    session = session_of(request)
    if session.expired:
        return login_redirect(request, "expired")
    if not session.logged_in:
        return login_redirect(request, "login")
    if session.role != role:
        _ = i18n.translator(lang_of(request))
        return error_page(request, 403, _("无权访问。"), _("请先以相应身份登录。"))
    return None


def _csrf_failed(request: Request, token: str | None) -> Response | None:
    if csrf_ok(session_of(request), token):
        return None
    _ = i18n.translator(lang_of(request))
    return error_page(request, 400, _("表单已失效，请重试。"))


@router.get("/login")
def login_form(request: Request, db: Db, next: str = "/", reason: str = "") -> Response:
    logins: list[tuple[str, str, str]] = []
    if request.app.state.demo_logins:
        with db.connect() as conn:
            logins = accounts.demo_logins(conn, catalog_of(request))
    return render(request, "login.html", next=next, reason=reason, logins=logins, failed=False)


HOME_OF = {
    "subject": "/me",
    "agency": "/agency",
    "department": "/department",
    "operator": "/operator",
}


@router.post("/login")
def login(
    request: Request,
    db: Db,
    login: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=400)] = "/",
) -> Response:
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
    catalog = catalog_of(request)
    with db.connect() as conn:
        account = accounts.authenticate(
            conn, catalog, login, password, demo=bool(request.app.state.demo_logins)
        )
        logins = accounts.demo_logins(conn, catalog) if request.app.state.demo_logins else []
    if account is None:
        return render(
            request,
            "login.html",
            status=401,
            next=next,
            reason="",
            logins=logins,
            failed=True,
        )
    target = next if next.startswith("/") and not next.startswith("//") and next != "/" else None
    response = RedirectResponse(target or HOME_OF[account.role], status_code=303)
    request.state.new_session = Session(
        role=account.role,
        login=account.login,
        name=account.name,
        authority=account.authority,
        subject_id=account.subject_id,
        subject_code=account.subject_code,
    ).renewed()
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
    request.state.new_session = Session()
    return RedirectResponse("/", status_code=303)


@router.get("/me")
def my_file(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "subject")) is not None:
        return denied
    session = session_of(request)
    assert session.subject_id is not None and session.subject_code is not None
    catalog = catalog_of(request)
    with db.begin() as conn:
        view = queries.subject_view(
            conn, catalog, session.subject_id, at=today(), audience="subject"
        )
        audit.record(
            conn,
            actor=session.login or session.subject_code,
            role="subject",
            purpose="self_service",
            subject=session.subject_code,
            action="read_file",
            resource="portal:/me",
        )
        looked = audit.events_for_subject(conn, session.subject_code)
    if view is None:
        return error_page(request, 404, i18n.translator(lang_of(request))("未找到该主体。"))
    return render(request, "me.html", view=view, looked=list(reversed(looked))[:50])


@router.get("/agency")
def agency_console(request: Request) -> Response:
    if (denied := _guard(request, "agency")) is not None:
        return denied
    return render(request, "agency.html")


@router.get("/department")
def department_console(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "department")) is not None:
        return denied
    session = session_of(request)
    with db.connect() as conn:
        batches = queries.batch_list(conn, source=session.authority)
    return render(request, "department.html", batches=batches, result=None, problem=None)


@router.post("/department/upload")
async def department_upload(
    request: Request,
    db: Db,
    file: UploadFile | None = None,
    record_type: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (denied := _guard(request, "department")) is not None:
        return denied
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
    session = session_of(request)
    assert session.authority is not None
    _ = i18n.translator(lang_of(request))
    catalog = catalog_of(request)
    result = None
    problem: str | None = None
    if file is None or not file.filename:
        problem = _("请选择文件。")
    else:
        data = await file.read(MAX_UPLOAD + 1)
        suffix = Path(file.filename).suffix.lower()[:8]
        if len(data) > MAX_UPLOAD:
            problem = "文件过大 / file too large (50 MB)"
        else:
            with tempfile.TemporaryDirectory(prefix="xinyong-upload-") as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                try:
                    result = ingest_file(
                        db,
                        path,
                        record_type,
                        session.authority,
                        catalog=catalog,
                        rejects_path=Path(tmp) / "rejects.csv",
                        file_name=Path(file.filename).name[:200],
                    )
                except XinyongError as error:
                    problem = error.bilingual()
    with db.connect() as conn:
        batches = queries.batch_list(conn, source=session.authority)
    return render(
        request,
        "department.html",
        status=200 if problem is None else 400,
        batches=batches,
        result=result,
        problem=problem,
    )


@router.get("/department/batches/{batch_id}")
def department_batch(request: Request, db: Db, batch_id: str) -> Response:
    session = session_of(request)
    denied = None if session.role == "operator" else _guard(request, "department")
    if denied is not None:
        return denied
    _ = i18n.translator(lang_of(request))
    if not batch_id.isdigit() or len(batch_id) > 12:
        return error_page(request, 404, _("页面不存在。"))
    with db.connect() as conn:
        batch = queries.batch_by_id(conn, int(batch_id))
        if batch is None or (session.role == "department" and batch.source != session.authority):
            return error_page(request, 404, _("页面不存在。"))
        rows = queries.batch_rejects(conn, int(batch_id))
    return render(request, "batch.html", batch=batch, rows=rows)


@router.get("/operator")
def operator_console(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "operator")) is not None:
        return denied
    with db.connect() as conn:
        batches = queries.batch_list(conn, limit=30)
        try:
            verified = audit.verify(conn)
        except UnusableInput:
            verified = None
    return render(request, "operator.html", batches=batches, verified=verified)
