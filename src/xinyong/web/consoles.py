"""Pages behind a log-in: the subject's self-service, the agency, department and operator consoles.

Each page checks the session's role first: no session (or an expired one) → the log-in page,
saying why; the wrong role → 403. Every POST checks the CSRF token. Reading a subject's whole
file writes an audit event (who, role, purpose). A page never shows made-up data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError

from xinyong import audit
from xinyong.dependencies import CatalogDep, engine
from xinyong.disclose import issue_report
from xinyong.disclose.view import subject_view
from xinyong.errors import Forbidden, NotFound, SubjectNotFound, XinyongError
from xinyong.ingest import ingest_file
from xinyong.ingest.mapping import MAX_MAPPING, uploaded_mapping
from xinyong.ingest.readers import MAX_UPLOAD
from xinyong.measures import check
from xinyong.measures.clients import require_may_check
from xinyong.measures.decisions import check_audit
from xinyong.measures.screen import screen
from xinyong.measures.tables import decisions
from xinyong.process.commitments import commitment_kinds, list_commitments, sign_commitment
from xinyong.process.objections import file_objection, list_objections
from xinyong.process.repair import apply_repair, list_repairs, repair_rule
from xinyong.store import queries as store_queries
from xinyong.store.queries import records_for, subject_by_id
from xinyong.web import accounts, i18n
from xinyong.web.rendering import (
    by_type,
    error_page,
    lang_of,
    login_redirect,
    one_line,
    render,
    session_of,
    today,
)
from xinyong.web.sessions import Session, csrf_ok

router = APIRouter(include_in_schema=False)
Db = Annotated[Engine, Depends(engine)]


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
def login_form(
    request: Request, db: Db, catalog: CatalogDep, next: str = "/", reason: str = ""
) -> Response:
    logins: list[tuple[str, str, str]] = []
    if request.app.state.demo_logins:
        with db.connect() as conn:
            logins = accounts.demo_logins(conn, catalog)
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
    catalog: CatalogDep,
    login: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=400)] = "/",
) -> Response:
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
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
    request.app.state.revoked_sessions.revoke(session_of(request))
    request.state.new_session = Session()
    # Logged in through the identity provider: end its session too (oidc.py).
    after = "/logout/oidc" if request.app.state.oidc is not None else "/"
    return RedirectResponse(after, status_code=303)


def _decisions(
    conn: Connection, *, subject: str | None = None, actor: str | None = None
) -> list[Any]:
    query = select(decisions).order_by(decisions.c.id.desc()).limit(50)
    if subject is not None:
        query = query.where(decisions.c.subject == subject)
    if actor is not None:
        query = query.where(decisions.c.actor == actor)
    return list(conn.execute(query))


@router.get("/me")
def my_file(request: Request, db: Db, catalog: CatalogDep, done: str = "") -> Response:
    if (denied := _guard(request, "subject")) is not None:
        return denied
    session = session_of(request)
    assert session.subject_id is not None and session.subject_code is not None
    code = session.subject_code
    try:
        with db.begin() as conn:
            view = subject_view(
                conn,
                catalog,
                subject_by_id(conn, session.subject_id),
                audience="subject",
                at=today(),
                actor=session.login or code,
                purpose="self_service",
                action="read_file",
            )
            commitments = list_commitments(conn, subject_code=code)
            decided = _decisions(conn, subject=code)
    except SubjectNotFound:
        return error_page(request, 404, i18n.translator(lang_of(request))("未找到该主体。"))
    records = by_type(view)
    repairable = {
        type_id: repair_rule(catalog, type_id)
        for type_id in records
        if _repair_available(catalog, type_id)
    }
    return render(
        request,
        "me.html",
        view=view,
        by_type=records,
        looked=list(reversed(view["queries"]))[:50],
        mine={
            "objections": view["objections"],
            "repairs": view["repairs"],
            "commitments": commitments,
            "decisions": decided,
        },
        repairable=repairable,
        kinds=commitment_kinds(catalog),
        record_docs={rec["id"]: rec["document_no"] for rec in view["records"]},
        done=done,
        today=today(),
    )


def _repair_available(catalog: Any, type_id: str) -> bool:
    try:
        return bool(repair_rule(catalog, type_id).available)
    except XinyongError:
        return False


def _subject_action(request: Request, csrf: str) -> Response | None:
    if (denied := _guard(request, "subject")) is not None:
        return denied
    return _csrf_failed(request, csrf)


def _action_failed(request: Request, error: XinyongError) -> Response:
    return error_page(request, 400, one_line(error))


@router.post("/me/objections")
def object_to_record(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    record_id: Annotated[int, Form(ge=1, le=2**53)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (stop := _subject_action(request, csrf)) is not None:
        return stop
    session = session_of(request)
    assert session.subject_code is not None
    try:
        with db.begin() as conn:
            file_objection(
                conn,
                catalog=catalog,
                subject_code=session.subject_code,
                reason=reason,
                filed_by=session.login or session.subject_code,
                record_id=record_id,
            )
    except XinyongError as error:
        return _action_failed(request, error)
    return RedirectResponse("/me?done=objection#objections", status_code=303)


@router.post("/me/repairs")
def apply_for_repair(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    record_id: Annotated[int, Form(ge=1, le=2**53)],
    statement: Annotated[str, Form(min_length=1, max_length=2000)],
    attest: Annotated[str, Form(max_length=8)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (stop := _subject_action(request, csrf)) is not None:
        return stop
    session = session_of(request)
    assert session.subject_code is not None and session.subject_id is not None
    try:
        with db.begin() as conn:
            mine = records_for(conn, session.subject_id, include_withdrawn=True)
            record = next((rec for rec in mine if rec.id == record_id), None)
            if record is None:
                raise NotFound(f"记录 / record {record_id}")
            rule = repair_rule(catalog, record.record_type)
            met = [str(i + 1) for i in range(len(rule.conditions_zh))] if attest else []
            apply_repair(
                conn,
                catalog=catalog,
                record_id=record_id,
                subject_code=session.subject_code,
                applied_by=session.login or session.subject_code,
                statement=statement,
                conditions_met=met,
            )
    except XinyongError as error:
        return _action_failed(request, error)
    return RedirectResponse("/me?done=repair#repairs", status_code=303)


@router.post("/me/commitments")
def sign(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    kind: Annotated[str, Form(max_length=64)],
    matter: Annotated[str, Form(min_length=1, max_length=2000)],
    authority: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (stop := _subject_action(request, csrf)) is not None:
        return stop
    session = session_of(request)
    assert session.subject_code is not None
    try:
        with db.begin() as conn:
            sign_commitment(
                conn,
                catalog=catalog,
                subject_code=session.subject_code,
                subject_name=session.name or session.subject_code,
                kind=kind,
                matter=matter,
                authority=authority,
            )
    except XinyongError as error:
        return _action_failed(request, error)
    return RedirectResponse("/me?done=commitment#commitments", status_code=303)


@router.get("/me/report.pdf")
def my_report(request: Request, db: Db, catalog: CatalogDep) -> Response:
    if (denied := _guard(request, "subject")) is not None:
        return denied
    session = session_of(request)
    assert session.subject_code is not None
    try:
        with db.begin() as conn:
            data, code = issue_report(
                conn,
                catalog,
                session.subject_code,
                fmt="pdf",
                audience="subject",
                lang=lang_of(request),
                actor=session.login or session.subject_code,
                purpose="self_service",
            )
    except XinyongError as error:
        return error_page(request, 503, one_line(error))
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="xinyong-report-{code}.pdf"'},
    )


@router.get("/agency")
def agency_console(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "agency")) is not None:
        return denied
    session = session_of(request)
    with db.connect() as conn:
        history = _decisions(conn, actor=session.login)
    return render(
        request, "agency.html", decision=None, history=history, problem=None, screen_problem=None
    )


#: What a console check or screen is for, unless the form says more.
CONSOLE_PURPOSE = "控制台核查 / console check"


@router.post("/agency/check")
def agency_check(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    subject: Annotated[str, Form(max_length=64)] = "",
    action: Annotated[str, Form(max_length=64)] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """One decision, audited as the API's check is (``check_audit``: the agency's login, role,
    purpose and authority) in the decision's transaction: no event, no answer (503)."""
    if (denied := _guard(request, "agency")) is not None:
        return denied
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
    session = session_of(request)
    decision = None
    problem = None
    status = 400
    assert session.login is not None  # _guard: logged in
    try:
        require_may_check(catalog, session.role, session.authority, action)
        audit = check_audit(
            actor=session.login,
            role=session.role,
            purpose=purpose.strip() or CONSOLE_PURPOSE,
            action=action,
            at=today(),
            authority=session.authority,
        )
        with db.begin() as conn:
            decision = check(
                conn,
                subject.strip(),
                action,
                today(),
                catalog=catalog,
                actor=session.login,
                audit=audit,
            )
    except XinyongError as error:
        problem = one_line(error)
        status = 403 if isinstance(error, Forbidden) else 400
    except DBAPIError:
        decision = None
        problem = "数据库不可用，未作决定 / the database is unavailable: no decision given"
        status = 503
    with db.connect() as conn:
        history = _decisions(conn, actor=session.login)
    return render(
        request,
        "agency.html",
        status=200 if problem is None else status,
        decision=decision,
        history=history,
        problem=problem,
        screen_problem=None,
    )


#: Files the agency console screens: CSV or Parquet, as ``xinyong screen`` reads them.
SCREEN_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq")


@router.post("/agency/screen")
async def agency_screen(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    file: UploadFile | None = None,
    action: Annotated[str, Form(max_length=64)] = "",
    column: Annotated[str, Form(max_length=64)] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Screen an uploaded column of codes (``xinyong.measures.screen``): the result CSV back,
    one row per input row in input order (``code,outcome,until,measures``). Each known subject
    in the file is audited (one event each, in its "who looked" list) before the result is
    given; if the events cannot be written, no result."""
    if (denied := _guard(request, "agency")) is not None:
        return denied
    if (failed := _csrf_failed(request, csrf)) is not None:
        return failed
    _ = i18n.translator(lang_of(request))
    problem: str | None = None
    if file is None or not file.filename:
        problem = _("请选择文件。")
    else:
        suffix = Path(file.filename).suffix.lower()[:8]
        data = await file.read(MAX_UPLOAD + 1)
        if suffix not in SCREEN_SUFFIXES:
            problem = "只支持 CSV 或 Parquet / CSV or Parquet only"
        elif len(data) > MAX_UPLOAD:
            problem = "文件过大 / file too large (50 MB)"
        else:
            try:
                session = session_of(request)
                require_may_check(catalog, session.role, session.authority, action)
                assert session.login is not None  # _guard: logged in
                audit = {
                    "actor": session.login,
                    "role": session.role,
                    "purpose": purpose.strip() or CONSOLE_PURPOSE,
                }
                result = await run_in_threadpool(
                    _screen, db, data, suffix, action, column.strip() or None, catalog, audit
                )
            except XinyongError as error:
                problem = one_line(error)
            else:
                # screen() refused any action not in the catalog: the name is a safe id.
                return Response(
                    result,
                    media_type="text/csv; charset=utf-8",
                    headers={
                        "Content-Disposition": f'attachment; filename="screened-{action}.csv"'
                    },
                )
    session = session_of(request)
    with db.connect() as conn:
        history = _decisions(conn, actor=session.login)
    return render(
        request,
        "agency.html",
        status=400,
        decision=None,
        history=history,
        problem=None,
        screen_problem=problem,
    )


def _screen(
    db: Engine,
    data: bytes,
    suffix: str,
    action: str,
    column: str | None,
    catalog: Any,
    audit: dict[str, str],
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="xinyong-screen-") as tmp:
        source = Path(tmp) / f"upload{suffix}"
        source.write_bytes(data)
        out = Path(tmp) / "screened.csv"
        screen(db, source, action, out, column=column, catalog=catalog, at=today(), audit=audit)
        return out.read_bytes()


@router.get("/department")
def department_console(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "department")) is not None:
        return denied
    session = session_of(request)
    with db.connect() as conn:
        batches = store_queries.batch_list(conn, source=session.authority)
        routed = list_objections(conn, authority=session.authority)
    return render(
        request,
        "department.html",
        batches=batches,
        routed=routed,
        result=None,
        problem=None,
        today=today(),
    )


@router.post("/department/upload")
async def department_upload(
    request: Request,
    db: Db,
    catalog: CatalogDep,
    file: UploadFile | None = None,
    mapping: UploadFile | None = None,
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
    result = None
    problem: str | None = None
    status = 400
    if file is None or not file.filename:
        problem = _("请选择文件。")
    else:
        data = await file.read(MAX_UPLOAD + 1)
        suffix = Path(file.filename).suffix.lower()[:8]
        if len(data) > MAX_UPLOAD:
            problem = "文件过大 / file too large (50 MB)"
        else:
            mapping_text = await mapping.read(MAX_MAPPING + 1) if mapping else b""
            with tempfile.TemporaryDirectory(prefix="xinyong-upload-") as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                try:
                    own = uploaded_mapping(
                        catalog, record_type, mapping_text, (mapping and mapping.filename) or ""
                    )
                    result = ingest_file(
                        db,
                        path,
                        record_type,
                        session.authority,
                        catalog=catalog,
                        rejects_path=Path(tmp) / "rejects.csv",
                        file_name=Path(file.filename).name[:200],
                        mapping=own,
                    )
                except XinyongError as error:
                    problem = one_line(error)
                    status = 403 if isinstance(error, Forbidden) else 400
    with db.connect() as conn:
        batches = store_queries.batch_list(conn, source=session.authority)
        routed = list_objections(conn, authority=session.authority)
    return render(
        request,
        "department.html",
        status=200 if problem is None else status,
        batches=batches,
        routed=routed,
        today=today(),
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
    if not (batch_id.isascii() and batch_id.isdigit()) or len(batch_id) > 12:
        return error_page(request, 404, _("页面不存在。"))
    with db.connect() as conn:
        batch = store_queries.batch_by_id(conn, int(batch_id))
        if batch is None or (session.role == "department" and batch.source != session.authority):
            return error_page(request, 404, _("页面不存在。"))
        rows = store_queries.batch_rejects(conn, int(batch_id))
    return render(request, "batch.html", batch=batch, rows=rows)


@router.get("/operator")
def operator_console(request: Request, db: Db) -> Response:
    if (denied := _guard(request, "operator")) is not None:
        return denied
    with db.connect() as conn:
        batches = store_queries.batch_list(conn, limit=30)
        verified = audit.verify(conn)
        overdue_objections = list_objections(conn, overdue_on=today())
        overdue_repairs = list_repairs(conn, overdue_on=today())
    return render(
        request,
        "operator.html",
        batches=batches,
        verified=verified,
        overdue_objections=overdue_objections,
        overdue_repairs=overdue_repairs,
    )
