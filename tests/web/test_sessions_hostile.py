"""Sessions against an attacker: a cookie replayed after log-out is refused; cookies are
``Secure`` when the portal is configured for HTTPS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from xinyong.api.app import create_app
from xinyong.web.sessions import COOKIE, HTTPS_ENV

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
