"""Who may log in to the portal.

xinyong keeps no passwords of its own. A real deployment puts the portal behind the government's
identity services (real-name verification for people, the agencies' own single sign-on); until
one is configured, only public pages are served. ``xinyong demo`` turns on the demo accounts
below, all with the password ``demo``:

- ``operator`` — the platform operator;
- a department by its catalog authority id, e.g. ``samr`` or ``court`` (a source of records);
- an implementing agency by its authority id, e.g. ``china_railway`` or ``caac``;
- a subject by its code (USCC or citizen ID number): "log in as that subject".
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, select

from xinyong.catalog import Catalog
from xinyong.disclose.queries import display_names
from xinyong.errors import SubjectNotFound, UnusableInput
from xinyong.store.queries import find_subject
from xinyong.store.tables import records, subjects

DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class Account:
    role: str
    login: str
    name: str
    authority: str | None = None
    subject_id: int | None = None
    subject_code: str | None = None


def authenticate(
    conn: Connection, catalog: Catalog, login: str, password: str, *, demo: bool
) -> Account | None:
    """The account for a demo log-in, or None. Without ``demo`` nobody can log in."""
    if not demo or not hmac.compare_digest(password.encode(), DEMO_PASSWORD.encode()):
        return None
    login = login.strip()
    if login == "operator":
        return Account("operator", "operator", "平台运营 / platform operator")
    authority = catalog.authorities.get(login)
    if authority is not None:
        if "source" in authority.roles:
            return Account("department", login, authority.name_zh, authority=login)
        if "implementing_agency" in authority.roles:
            return Account("agency", login, authority.name_zh, authority=login)
    if login.startswith("agency:") and login[7:] in catalog.authorities:
        a = catalog.authorities[login[7:]]
        if "implementing_agency" in a.roles:
            return Account("agency", login, a.name_zh, authority=a.id)
    try:
        subject = find_subject(conn, login)
    except (UnusableInput, SubjectNotFound):
        return None
    name = display_names(conn, [subject.id]).get(subject.id, subject.code)
    return Account("subject", subject.code, name, subject_id=subject.id, subject_code=subject.code)


def demo_logins(conn: Connection, catalog: Catalog) -> list[tuple[str, str, str]]:
    """(role, login, what it shows) for the demo banner and the CLI."""
    out = [
        ("operator", "operator", "平台运营 / platform operator"),
        ("department", "samr", catalog.authorities["samr"].name_zh + " / SAMR (records source)"),
        (
            "agency",
            "agency:china_railway",
            catalog.authorities["china_railway"].name_zh + " / China Railway",
        ),
    ]
    for record_type, label in (
        ("judgment_defaulter", "失信被执行人（个人）/ a listed judgment defaulter"),
        ("admin_penalty", "受过行政处罚的企业 / an enterprise with a penalty"),
    ):
        want_individual = record_type == "judgment_defaulter"
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                records.c.record_type == record_type,
                records.c.superseded_at.is_(None),
                (subjects.c.kind == "individual")
                if want_individual
                else (subjects.c.kind == "enterprise"),
            )
            .order_by(records.c.decided_on.desc(), subjects.c.id)
            .limit(1)
        ).first()
        if row is not None and row.primary_code:
            out.append(("subject", row.primary_code, label))
    return out
