"""Log-in through a real OpenID Connect provider: ``oidc-provider-mock`` in its own process.

The provider is started once for the module on a free loopback port (a real HTTP server with
its own keys, discovery document, JWKS, authorization, token and end-session endpoints). The
test plays the person's browser: it follows xinyong's redirect to the provider, "signs in" as a
given provider subject (the mock's form: POST ``sub``), and brings the code back to xinyong.
Users' claims are set on the provider with ``PUT /users/{sub}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from xinyong.api.app import create_app
from xinyong.audit.tables import audit_events
from xinyong.catalog import default_catalog
from xinyong.errors import ConfigurationError
from xinyong.settings import load as load_settings
from xinyong.store.engine import opened
from xinyong.web.accounts import demo_logins
from xinyong.web.oidc import Refused, load_roles

from .conftest import csrf_of
from .test_words_and_screen import _restricted

CLIENT_ID = "xinyong-portal"
ROLES_YAML = """\
subjects:
  rail-clerk-7: {role: agency, authority: china_railway}
groups:
  credit-centre: {role: operator}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def provider_factory() -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> str:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        issuer = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    return issuer
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the OIDC provider did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def issuer(provider_factory: object) -> str:
    return provider_factory()  # type: ignore[operator,no-any-return]


@pytest.fixture()
def oidc_app(demo_db: str, issuer: str, tmp_path: Path) -> Iterator[FastAPI]:
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES_YAML, encoding="utf-8")
    settings = load_settings(
        {
            "XINYONG_OIDC_ISSUER": issuer,
            "XINYONG_OIDC_CLIENT_ID": CLIENT_ID,
            "XINYONG_OIDC_CLIENT_SECRET": "client-secret",
            "XINYONG_ROLES": str(roles),
        }
    )
    app = create_app(demo_db, settings=settings)
    yield app
    if app.state.engine is not None:
        app.state.engine.dispose()


@pytest.fixture()
def browser(oidc_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(oidc_app) as client:
        yield client


def _user(issuer: str, sub: str, **claims: object) -> None:
    assert httpx.put(f"{issuer}/users/{sub}", json=claims).status_code == 204


def _to_provider(browser: TestClient, next: str = "/") -> str:
    leave = browser.get("/login/oidc", params={"next": next}, follow_redirects=False)
    assert leave.status_code == 303
    return leave.headers["location"]


def _sign_in_at_provider(authorize_url: str, sub: str) -> str:
    """The person signs in at the provider; the URL it sends them back to."""
    answer = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["location"]
    return location


def _come_back(browser: TestClient, location: str) -> httpx.Response:
    parts = urlsplit(location)
    assert parts.path == "/login/oidc/callback"
    return browser.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _log_in(browser: TestClient, sub: str, next: str = "/") -> httpx.Response:
    return _come_back(browser, _sign_in_at_provider(_to_provider(browser, next), sub))


def _last_event(demo_db: str) -> dict[str, object]:
    with opened(demo_db) as engine, engine.connect() as conn:
        row = conn.execute(select(audit_events).order_by(audit_events.c.id.desc())).first()
    assert row is not None
    return dict(row._mapping)


def _subject_code(demo_db: str) -> str:
    with opened(demo_db) as engine, engine.connect() as conn:
        logins = demo_logins(conn, default_catalog())
    return next(login for role, login, _ in logins if role == "subject")


def test_the_redirect_carries_pkce_state_and_nonce(browser: TestClient, issuer: str) -> None:
    url = _to_provider(browser)
    assert url.startswith(f"{issuer}/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert query["redirect_uri"] == "http://testserver/login/oidc/callback"
    assert "openid" in query["scope"].split()


def test_a_subject_logs_in_and_sees_their_own_file(
    browser: TestClient, issuer: str, demo_db: str
) -> None:
    code = _subject_code(demo_db)
    _user(issuer, "citizen-1", xinyong_subject=code, name="某人")
    back = _log_in(browser, "citizen-1", next="/me")
    assert back.status_code == 303 and back.headers["location"] == "/me"
    mine = browser.get("/me")
    assert mine.status_code == 200
    assert code in mine.text or code[:6] in mine.text
    event = _last_event(demo_db)
    assert event["action"] == "read_file" and event["subject"] == code
    with opened(demo_db) as engine, engine.connect() as conn:
        login = conn.execute(
            select(audit_events)
            .where(audit_events.c.action == "log_in", audit_events.c.actor == "oidc:citizen-1")
            .order_by(audit_events.c.id.desc())
        ).first()
    assert login is not None and (login.outcome, login.role) == ("permit", "subject")


def test_a_railway_clerk_mapped_by_the_role_file_checks(
    browser: TestClient, issuer: str, demo_db: str
) -> None:
    _user(issuer, "rail-clerk-7", name="售票员")
    back = _log_in(browser, "rail-clerk-7")
    assert back.status_code == 303 and back.headers["location"] == "/agency"
    page = browser.get("/agency").text
    checked = browser.post(
        "/agency/check",
        data={
            "subject": _restricted(demo_db),
            "action": "buy_train_seat_premium",
            "csrf": csrf_of(page),
        },
    )
    assert checked.status_code == 200
    assert "拒绝" in checked.text
    assert browser.get("/operator", follow_redirects=False).status_code == 403


def test_roles_from_claims_and_groups(browser: TestClient, issuer: str) -> None:
    _user(issuer, "ops-1", groups=["staff", "credit-centre"])
    assert _log_in(browser, "ops-1").headers["location"] == "/operator"
    _user(issuer, "samr-1", xinyong_role="department", xinyong_authority="samr")
    assert _log_in(browser, "samr-1").headers["location"] == "/department"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({}, "unmapped"),
        ({"xinyong_subject": "110101199003070000"}, "invalid_subject_code"),
        ({"xinyong_role": "operator", "xinyong_authority": "samr"}, "bad_role_claim"),
        ({"xinyong_role": "agency", "xinyong_authority": "spc"}, "bad_role_claim"),
        ({"xinyong_role": "department", "xinyong_authority": "nowhere"}, "bad_role_claim"),
        ({"xinyong_role": "root"}, "bad_role_claim"),
    ],
)
def test_anyone_else_stays_the_public_and_is_audited(
    browser: TestClient, issuer: str, demo_db: str, claims: dict[str, object], reason: str
) -> None:
    sub = f"stranger-{secrets.token_hex(4)}"
    _user(issuer, sub, **claims)
    refused = _log_in(browser, sub, next="/me")
    assert refused.status_code == 403
    assert f'data-reason="{reason}"' in refused.text
    assert "set-cookie" not in refused.headers or "xinyong_session" in refused.headers.get(
        "set-cookie", ""
    )
    assert browser.get("/me", follow_redirects=False).status_code == 303, "not logged in"
    event = _last_event(demo_db)
    assert (event["action"], event["outcome"], event["actor"]) == (
        "log_in",
        "refuse",
        f"oidc:{sub}",
    )
    assert json.loads(str(event["detail"]))["reason"] == reason


def test_a_forged_state_is_refused(browser: TestClient, issuer: str, demo_db: str) -> None:
    code = _subject_code(demo_db)
    _user(issuer, "citizen-2", xinyong_subject=code)
    location = _sign_in_at_provider(_to_provider(browser), "citizen-2")
    query = parse_qs(urlsplit(location).query)
    forged = browser.get(
        "/login/oidc/callback",
        params={"code": query["code"][0], "state": "forged-" + query["state"][0][7:]},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert 'data-reason="state_mismatch"' in forged.text
    assert browser.get("/me", follow_redirects=False).status_code == 303
    assert json.loads(str(_last_event(demo_db)["detail"]))["reason"] == "state_mismatch"


def test_a_callback_without_our_flow_cookie_is_refused(
    browser: TestClient, issuer: str, demo_db: str
) -> None:
    """A code and state from someone else's log-in (login CSRF): no flow cookie, refused."""
    _user(issuer, "citizen-3", xinyong_subject=_subject_code(demo_db))
    location = _sign_in_at_provider(_to_provider(browser), "citizen-3")
    browser.cookies.delete("xinyong_oidc", path="/login/oidc")
    browser.cookies.clear()
    answer = _come_back(browser, location)
    assert answer.status_code == 400 and 'data-reason="no_login_in_progress"' in answer.text


def test_an_expired_id_token_is_refused(
    provider_factory: object, demo_db: str, tmp_path: Path
) -> None:
    stale = provider_factory("--token-max-age=-600")  # type: ignore[operator]
    settings = load_settings(
        {
            "XINYONG_OIDC_ISSUER": stale,
            "XINYONG_OIDC_CLIENT_ID": CLIENT_ID,
            "XINYONG_OIDC_CLIENT_SECRET": "client-secret",
        }
    )
    app = create_app(demo_db, settings=settings)
    with TestClient(app) as browser:
        _user(stale, "citizen-4", xinyong_subject=_subject_code(demo_db))
        answer = _log_in(browser, "citizen-4", next="/me")
        assert answer.status_code == 400
        assert 'data-reason="id_token_' in answer.text
        assert browser.get("/me", follow_redirects=False).status_code == 303
    if app.state.engine is not None:
        app.state.engine.dispose()


def test_a_token_from_another_issuer_is_refused(oidc_app: FastAPI, issuer: str) -> None:
    """A genuine ID token, signed with the provider's own key, but issued under another issuer
    name (the same provider reached as ``localhost``): refused on ``iss``."""
    other = issuer.replace("127.0.0.1", "localhost")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    nonce = secrets.token_urlsafe(16)
    redirect = "http://testserver/login/oidc/callback"
    authorize = httpx.post(
        f"{other}/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "s" * 20,
            "nonce": nonce,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        },
        data={"sub": "rail-clerk-7"},
    )
    code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
    token = httpx.post(
        f"{other}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, "client-secret"),
    ).json()
    with pytest.raises(Refused) as caught:
        asyncio.run(oidc_app.state.oidc.verify(token, nonce))
    assert caught.value.reason.startswith("id_token_")


def test_logout_ends_the_local_session_then_the_providers(browser: TestClient, issuer: str) -> None:
    _user(issuer, "rail-clerk-7")
    _log_in(browser, "rail-clerk-7")
    page = browser.get("/agency").text
    out = browser.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/logout/oidc"
    assert browser.get("/agency", follow_redirects=False).status_code == 303, "locally out"
    provider = browser.get("/logout/oidc", follow_redirects=False)
    assert provider.status_code == 303
    url = provider.headers["location"]
    assert url.startswith(f"{issuer}/oauth2/end_session?")
    query = parse_qs(urlsplit(url).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/"]
    assert query["client_id"] == [CLIENT_ID]


def test_a_bad_role_file_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "roles.yaml"
    for text in (
        "subjects:\n  x: {role: agency, authority: nowhere}\n",
        "subjects:\n  x: {role: superuser}\n",
        "people: {}\n",
        "subjects: [\n",
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigurationError, match="XINYONG_ROLES"):
            load_roles(bad, default_catalog())


def test_a_provider_subject_too_long_to_be_an_actor_is_refused(
    browser: TestClient, issuer: str, demo_db: str
) -> None:
    sub = "x" * 200
    _user(issuer, sub, xinyong_role="operator")
    refused = _log_in(browser, sub)
    assert refused.status_code == 400 and 'data-reason="unusable_sub"' in refused.text
    assert browser.get("/operator", follow_redirects=False).status_code == 303
    assert _last_event(demo_db)["actor"] == "oidc:unknown"
