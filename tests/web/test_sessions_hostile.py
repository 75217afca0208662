"""Sessions against an attacker: a cookie replayed after log-out is refused, by every server
process; cookies are ``Secure`` when the portal is configured for HTTPS."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from xinyong.api.app import create_app
from xinyong.web.sessions import COOKIE, HTTPS_ENV
from xinyong.web.tables import revoked_sessions

from .conftest import csrf_of, log_in


def test_a_cookie_replayed_after_logout_is_refused(client: TestClient) -> None:
    log_in(client, "operator")
    assert client.get("/operator", follow_redirects=False).status_code == 200
    stolen = client.cookies[COOKIE]
    token = csrf_of(client.get("/operator").text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, stolen)
    replayed = client.get("/operator", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("https", ["1", None])
def test_cookies_are_secure_when_configured_for_https(
    demo_db: str, https: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if https:
        monkeypatch.setenv(HTTPS_ENV, https)
    else:
        monkeypatch.delenv(HTTPS_ENV, raising=False)
    with TestClient(create_app(demo_db, secret=b"test-secret")) as client:
        cookie = client.get("/").headers["set-cookie"]
    assert ("secure" in cookie.lower()) is bool(https)
    assert "httponly" in cookie.lower()


def test_a_logout_in_one_process_holds_in_every_other(db_url: str) -> None:
    """Two apps (two server processes) on one database: a cookie revoked by one is refused by
    the other, and the database keeps the token's hash, never the token."""
    first = create_app(db_url, demo_logins=True, secret=b"shared-secret")
    second = create_app(db_url, demo_logins=True, secret=b"shared-secret")
    try:
        with TestClient(first) as a, TestClient(second) as b:
            log_in(a, "operator")
            stolen = a.cookies[COOKIE]
            b.cookies.set(COOKIE, stolen)
            assert b.get("/operator", follow_redirects=False).status_code == 200
            token = csrf_of(a.get("/operator").text)
            assert (
                a.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
            )
            b.cookies.clear()
            b.cookies.set(COOKIE, stolen)
            replayed = b.get("/operator", follow_redirects=False)
            assert replayed.status_code == 303
            assert replayed.headers["location"].startswith("/login?next=")
            with first.state.engine.connect() as conn:
                kept = conn.execute(select(revoked_sessions.c.token_sha256)).scalars().all()
            assert kept == [hashlib.sha256(token.encode()).hexdigest()]
    finally:
        for app in (first, second):
            if app.state.engine is not None:
                app.state.engine.dispose()
