"""The permission matrix of ``docs/security.md``, walked: every request of its table as every
role, on a generated store, on SQLite and PostgreSQL.

The table in the doc is the data (one place): each row is a request, each cell the status that
role gets and whether its body may carry non-public data (``full``). Every body is searched for
what must not leak: whole citizen ID numbers (other than the request's own or, for the subject,
its own), birth dates, document numbers of records the public may not see, and, for the
subject, anything non-public about another subject. The test also fails when a route of the
app or a command of the CLI is missing from the doc, or the doc names one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import CopyOf

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.cli import COMMANDS
from xinyong.demo import build_demo
from xinyong.disclose.policy import shows_record
from xinyong.measures.clients import create_client
from xinyong.store.engine import opened
from xinyong.store.queries import records_for
from xinyong.store.tables import batches, records, subjects
from xinyong.web import consoles, public
from xinyong.web.sessions import COOKIE, decode

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
ROLES = ("public", "subject", "agency", "department", "operator")
AGENCY = "china_railway"
ACTION = "buy_train_seat_premium"
LIST_ID = "judgment_defaulters"
FULL_ID = re.compile(
    r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9])"
)
SECRET = b"matrix"
BIRTH = re.compile(r'"birth[a-z_]*"\s*:|出生日期|date of birth', re.IGNORECASE)


@dataclass(frozen=True)
class Cell:
    status: int
    full: bool


@dataclass(frozen=True)
class Row:
    request: str
    cells: dict[str, Cell]


def _table(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(marker)
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set(cells[0]) <= {"-"} or cells[0] in ("Request", "Command"):
            continue
        rows.append(cells)
    return rows


def matrix() -> list[Row]:
    """The permission matrix as the doc shows it."""
    out = []
    for cells in _table("<!-- permission-matrix:"):
        request = cells[0].strip("`")
        parsed = {}
        for role, cell in zip(ROLES, cells[1:6], strict=True):
            words = cell.split()
            parsed[role] = Cell(int(words[0]), "full" in words[1:])
        out.append(Row(request, parsed))
    return out


MATRIX = matrix()


def test_the_matrix_names_every_route_of_the_app_and_only_those() -> None:
    app = create_app("sqlite://")
    api = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    portal = {
        (method, route.path)
        for router in (public.router, consoles.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }
    named = set()
    for row in MATRIX:
        method, target = row.request.split()[:2]
        path = target.split("?")[0]
        path = re.sub(r"/\{listed_id\}|/\{hidden_id\}", "/{subject_id}", path)
        path = re.sub(r"/\{listed_code\}|/\{hidden_code\}", "/{code}", path)
        path = path.replace("{list}", "{list_id}").replace("{batch}", "{batch_id}")
        path = path.replace("/objections/1/", "/objections/{objection_id}/")
        path = path.replace("/repairs/1/", "/repairs/{repair_id}/")
        named.add((method, path))
    assert api <= named, f"API routes missing from the matrix: {sorted(api - named)}"
    assert portal <= named, f"portal routes missing from the matrix: {sorted(portal - named)}"
    assert named <= api | portal, f"the matrix names no such route: {sorted(named - api - portal)}"


def test_the_matrix_names_every_command_of_the_cli() -> None:
    documented = [cells[0].strip("`") for cells in _table("<!-- permission-matrix-cli:")]
    commands = [name for name, entry in COMMANDS.items() if entry.alias_of is None]
    assert sorted(documented) == sorted(commands)


@dataclass(frozen=True)
class Facts:
    """What the requests name and what must not leak, read from the generated store."""

    url: str
    values: dict[str, str]
    department: str
    keys: dict[str, str]
    individual_codes: frozenset[str]
    hidden_docs: dict[int, frozenset[str]]
    """Per subject id: document numbers of its records the public may not see."""
    subject_id: int


def _build(url: str) -> None:
    with opened(url) as engine:
        build_demo(engine, subjects=200, catalog=default_catalog())


def _facts(url: str) -> Facts:
    catalog = default_catalog()
    today = date.today()
    with opened(url) as engine, engine.begin() as conn:
        people = conn.execute(
            select(subjects.c.id, subjects.c.primary_code).where(subjects.c.kind == "individual")
        ).all()
        hidden_docs: dict[int, frozenset[str]] = {}
        public_docs: set[str] = set()
        shown: dict[int, int] = {}
        kinds = {r.id: r.kind for r in conn.execute(select(subjects.c.id, subjects.c.kind))}
        for sid, kind in kinds.items():
            unseen = set()
            for record in records_for(conn, sid, include_withdrawn=True):
                if shows_record("public", catalog, record, subject_kind=kind, at=today):
                    shown[sid] = shown.get(sid, 0) + 1
                    public_docs.add(record.document_no or "")
                elif record.document_no:
                    unseen.add(record.document_no)
            hidden_docs[sid] = frozenset(unseen)
        hidden_docs = {k: v - public_docs for k, v in hidden_docs.items()}
        listed = conn.execute(
            select(subjects.c.id, subjects.c.primary_code)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                records.c.record_type == "judgment_defaulter",
                records.c.status == "active",
                records.c.superseded_at.is_(None),
                subjects.c.kind == "individual",
            )
            .order_by(subjects.c.id)
        ).first()
        assert listed is not None
        hidden = next((p for p in people if not shown.get(p.id) and p.primary_code), None)
        assert hidden is not None, "the demo has no person without a public record"
        department, batch = conn.execute(
            select(batches.c.source, batches.c.id).order_by(batches.c.id).limit(1)
        ).one()
        keys = {}
        for role, authority in (
            ("agency", AGENCY),
            ("department", department),
            ("operator", "ndrc"),
        ):
            keys[role] = create_client(conn, catalog, authority=authority, role=role)[1]
    values = {
        "listed_id": str(listed.id),
        "listed_code": listed.primary_code,
        "hidden_id": str(hidden.id),
        "hidden_code": hidden.primary_code,
        "action": ACTION,
        "batch": str(batch),
        "list": LIST_ID,
    }
    return Facts(
        url,
        values,
        department,
        keys,
        frozenset(p.primary_code.upper() for p in people if p.primary_code),
        hidden_docs,
        listed.id,
    )


@pytest.fixture()
def facts(copy_of: CopyOf) -> Facts:
    return _facts(copy_of("permission_matrix", _build))


def _csrf(client: TestClient) -> str:
    """The session's CSRF token, as its pages carry it (read from the cookie: without demo
    log-ins a public visitor's pages have no form)."""
    if COOKIE not in client.cookies:
        client.get("/")
    return decode(client.cookies[COOKIE].strip('"'), SECRET).csrf


@pytest.fixture()
def apps(facts: Facts) -> Iterator[tuple[FastAPI, FastAPI]]:
    """The app walked (no demo log-ins, as in production) and one sharing its secret and store
    that lets the roles log in (its session cookies hold in both)."""
    made = tuple(
        create_app(facts.url, demo_logins=demo, secret=SECRET, rate_limit=100_000)
        for demo in (False, True)
    )
    yield made[0], made[1]
    for app in made:
        if app.state.engine is not None:
            app.state.engine.dispose()


def _log_in(client: TestClient, demo: FastAPI, role: str, facts: Facts) -> None:
    login = {
        "subject": facts.values["listed_code"],
        "agency": f"agency:{AGENCY}",
        "department": facts.department,
        "operator": "operator",
    }.get(role)
    if login is None:
        return
    with TestClient(demo) as door:
        response = door.post(
            "/login",
            data={"login": login, "password": "demo", "csrf": _csrf(door), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, (role, response.text[:300])
        for cookie in door.cookies.jar:
            client.cookies.jar.set_cookie(cookie)


def _send(client: TestClient, request: str, key: str | None, code: str) -> tuple[int, str]:
    method, target, *rest = request.split(" ", 2)
    kind, _, fields = (rest[0] if rest else "").partition(" ")
    headers = {"X-API-Key": key} if key and target.startswith("/api/") else {}
    options: dict[str, object] = {"headers": headers, "follow_redirects": False}
    csv = f"code\n{code}\n"
    if kind == "json":
        options["json"] = {}
    elif kind == "form":
        data = dict(pair.split("=", 1) for pair in fields.split("&") if pair)
        options["data"] = {**data, "csrf": _csrf(client)}
    elif kind == "file":
        options["files"] = {"file": ("codes.csv", csv.encode(), "text/csv")}
    response = client.request(method, target, **options)  # type: ignore[arg-type]
    return response.status_code, response.text


def _leaks(body: str, request: str, role: str, cell: Cell, facts: Facts) -> list[str]:
    found = []
    own = facts.values["listed_code"].upper() if role == "subject" else None
    sent = {code.upper() for code in FULL_ID.findall(request)}
    for code in {c.upper() for c in FULL_ID.findall(body)} & facts.individual_codes:
        if code in sent or code == own:
            continue
        if not cell.full or role == "subject":
            found.append(f"whole ID number {code[:4]}…")
    if not cell.full and BIRTH.search(body):
        found.append("a birth date")
    for sid, docs in facts.hidden_docs.items():
        mine = role == "subject" and sid == facts.subject_id
        if cell.full and (role != "subject" or mine):
            continue
        found.extend(f"non-public record {doc} of subject {sid}" for doc in docs if doc in body)
    return found


def test_every_role_gets_what_the_matrix_says(facts: Facts, apps: tuple[FastAPI, FastAPI]) -> None:
    """The whole matrix on one copy of the store (per database): each role in a session of its
    own, every mismatch and leak reported at once."""
    _the_leak_check_sees_each_kind_of_leak(facts)
    walked, demo = apps
    wrong = []
    for role in ROLES:
        with TestClient(walked) as client:
            _log_in(client, demo, role, facts)
            for row in MATRIX:
                request = row.request.format(**facts.values)
                code = facts.values["listed_code"]
                status, body = _send(client, request, facts.keys.get(role), code)
                cell = row.cells[role]
                if status != cell.status:
                    wrong.append(f"{role}: {row.request}: {status}, the matrix says {cell.status}")
                for leak in _leaks(body, request, role, cell, facts):
                    wrong.append(f"{role}: {row.request}: leaks {leak}")
    assert wrong == [], "\n".join(wrong)


def _the_leak_check_sees_each_kind_of_leak(facts: Facts) -> None:
    """The search for leaks can fail: each kind of leak in a body is found."""
    hidden = facts.values["hidden_code"]
    doc = next(doc for docs in facts.hidden_docs.values() for doc in docs)
    public, full = Cell(200, False), Cell(200, True)
    assert _leaks(f"<p>{hidden}</p>", "GET /", "public", public, facts)
    assert _leaks(f'{{"note": "{doc}"}}', "GET /", "agency", public, facts)
    assert _leaks('{"birth_date": "1990-01-01"}', "GET /", "public", public, facts)
    assert _leaks(f"<p>{hidden}</p>", "GET /me", "subject", full, facts)  # another subject's
    assert not _leaks(f"<p>{hidden}</p>", f"GET /x?subject={hidden}", "agency", public, facts)
    assert not _leaks(f"<p>{hidden} {doc}</p>", "GET /operator", "operator", full, facts)
