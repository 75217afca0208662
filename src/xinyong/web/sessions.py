"""Sessions for people, in a signed cookie, and CSRF protection for every form that changes state.

The cookie holds a small JSON object (role, who, CSRF token, expiry) and an HMAC-SHA256 of it
under the app's secret (``$XINYONG_SECRET``, else random per process: sessions then end when the
server restarts). Nothing secret is inside; the signature only proves the server wrote it.
Every visitor gets a session (role ``public``) so that even the log-in form carries a CSRF
token; every POST must send the session's token back in the form field ``csrf``.

Log-out ends a session on the server too (:class:`Revoked`): the session's random CSRF token is
its identity, and a cookie replayed after log-out whose token was revoked is a public visitor.
The list is the database's ``revoked_sessions`` table (``xinyong.web.tables``; the token's
SHA-256, never the token), so a log-out in one server process holds in every other; a session
is forgotten once it would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update

from xinyong.web.tables import revoked_sessions

COOKIE = "xinyong_session"
HTTPS_ENV = "XINYONG_HTTPS"
"""Set to 1 when the portal is served over HTTPS (behind a proxy): cookies are then ``Secure``."""
LIFETIME = 30 * 60
"""Seconds a logged-in session lasts without activity."""
ROLES = ("public", "subject", "agency", "department", "operator")


def _token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Session:
    role: str = "public"
    login: str | None = None
    name: str | None = None
    authority: str | None = None
    """The agency's or department's authority id in the catalog."""
    subject_id: int | None = None
    subject_code: str | None = None
    csrf: str = field(default_factory=_token)
    expires: float = 0.0
    expired: bool = False
    """Set when a cookie arrived whose log-in had run out (the visitor is public again)."""

    @property
    def logged_in(self) -> bool:
        return self.role != "public"

    def renewed(self, now: float | None = None) -> Session:
        now = time.time() if now is None else now
        return replace(self, expires=now + LIFETIME if self.logged_in else 0.0, expired=False)


def encode(session: Session, secret: bytes) -> str:
    payload = {k: v for k, v in asdict(session).items() if k != "expired"}
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def decode(cookie: str | None, secret: bytes, now: float | None = None) -> Session:
    """The session a cookie carries; a fresh public one if missing, forged or garbled; a public
    one marked ``expired`` if its log-in has run out."""
    if not cookie or "." not in cookie or len(cookie) > 4096:
        return Session()
    body, mac = cookie.rsplit(".", 1)
    good = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, good):
        return Session()
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        session = Session(**{k: v for k, v in data.items() if k in Session.__dataclass_fields__})
    except (ValueError, TypeError):
        return Session()
    if session.role not in ROLES:
        return Session()
    now = time.time() if now is None else now
    if session.logged_in and session.expires < now:
        return Session(csrf=session.csrf, expired=True)
    return session


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf, str(token))


class Revoked:
    """Sessions ended by log-out, remembered (in the database, by every process) until they
    would have expired anyway. ``engine`` gives the app's engine when first needed."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def revoke(self, session: Session, now: float | None = None) -> None:
        now = time.time() if now is None else now
        until = _moment(max(session.expires, now + LIFETIME))
        digest = _digest(session)
        with self._engine().begin() as conn:
            conn.execute(delete(revoked_sessions).where(revoked_sessions.c.until < _moment(now)))
            done = conn.execute(
                update(revoked_sessions)
                .where(revoked_sessions.c.token_sha256 == digest)
                .values(until=until)
            )
            if done.rowcount == 0:
                conn.execute(insert(revoked_sessions).values(token_sha256=digest, until=until))

    def __contains__(self, session: Session) -> bool:
        if not session.logged_in:
            return False
        with self._engine().connect() as conn:
            found = conn.execute(
                select(revoked_sessions.c.until).where(
                    revoked_sessions.c.token_sha256 == _digest(session)
                )
            ).first()
        return found is not None


def _digest(session: Session) -> str:
    return hashlib.sha256(session.csrf.encode()).hexdigest()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
