"""``/api/v1/check`` and ``/api/v1/screen``: keys, roles, audit, and the decision itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from tests.measures import conftest as measures
from tests.measures.conftest import PERSON_D, Load, defaulter

from xinyong import audit
from xinyong.api.app import create_app
from xinyong.audit.tables import audit_events
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client, key_hash, revoke_client
from xinyong.measures.tables import decisions
from xinyong.measures.writer import MODE_ENV

#: The decisions fixture (ingest of small files into ``db_url``), shared with tests/measures.
load = measures.load


@pytest.fixture()
def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The whole app on the test database, decisions logged synchronously (so a test reads
    them at once); its engine is closed afterwards."""
    monkeypatch.setenv(MODE_ENV, "sync")
    app = create_app(db_url)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


def _key(engine: Engine, authority: str, role: str = "agency") -> tuple[int, str]:
    with engine.begin() as conn:
        client, key = create_client(conn, default_catalog(), authority=authority, role=role)
    return client.id, key


def test_check_with_an_agency_key_is_decided_and_audited(
    api: TestClient, db_url: str, load: Load, engine: Engine
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    _, key = _key(engine, "caac")
    answer = api.get(
        "/api/v1/check",
        params={"subject": PERSON_D, "action": "buy_flight_ticket", "at": "2025-01-01"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "deny" and body["until"] == "2026-03-05"
    with engine.connect() as conn:
        event = conn.execute(select(audit_events).order_by(audit_events.c.id.desc())).first()
    assert event is not None
    assert (event.subject, event.outcome, event.resource) == (
        PERSON_D,
        "deny",
        body["decision_id"],
    )
    assert event.actor == "caac-agency" and event.purpose == "check"


def test_missing_bad_or_revoked_key_is_401_problem(
    api: TestClient, db_url: str, engine: Engine
) -> None:
    client_id, key = _key(engine, "caac")
    params = {"subject": PERSON_D, "action": "buy_flight_ticket"}
    for headers in ({}, {"X-API-Key": "xy_not-a-key"}, {"Authorization": "Basic abc"}):
        answer = api.get("/api/v1/check", params=params, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
    with engine.begin() as conn:
        revoke_client(conn, client_id)
    from xinyong.api import auth

    auth._cache.clear()
    assert api.get("/api/v1/check", params=params, headers={"X-API-Key": key}).status_code == 401


def _until(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` came true within a few seconds (a background task's effect)."""
    for _ in range(500):
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_key_in_use_is_read_again_before_its_entry_runs_out(
    api: TestClient, engine: Engine
) -> None:
    from xinyong.api import auth

    client_id, key = _key(engine, "caac")
    digest = key_hash(key)
    params = {"subject": PERSON_D, "action": "buy_flight_ticket"}
    auth._cache.clear()
    assert api.get("/api/v1/check", params=params, headers={"X-API-Key": key}).status_code == 200
    found_at, caller = auth._cache[digest]
    # Past half its time: answered from the cache, and read again behind the answer (renewed).
    aged = found_at - auth.CACHE_SECONDS * 0.6
    auth._cache[digest] = (aged, caller)
    assert api.get("/api/v1/check", params=params, headers={"X-API-Key": key}).status_code == 200
    assert _until(lambda: auth._cache[digest][0] > aged and digest not in auth._refreshing)
    # Revoked: the re-read ends the entry at once, before CACHE_SECONDS is up.
    with engine.begin() as conn:
        revoke_client(conn, client_id)
    auth._cache[digest] = (time.monotonic() - auth.CACHE_SECONDS * 0.6, caller)
    assert api.get("/api/v1/check", params=params, headers={"X-API-Key": key}).status_code == 200
    assert _until(lambda: digest not in auth._cache)
    assert api.get("/api/v1/check", params=params, headers={"X-API-Key": key}).status_code == 401


def test_agency_may_check_only_its_own_measures_actions(
    api: TestClient, db_url: str, engine: Engine
) -> None:
    _, railway = _key(engine, "china_railway")
    _, department = _key(engine, "court", role="department")
    flight = {"subject": PERSON_D, "action": "buy_flight_ticket"}
    answer = api.get("/api/v1/check", params=flight, headers={"X-API-Key": railway})
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/forbidden")
    train = {"subject": PERSON_D, "action": "buy_train_seat_premium"}
    assert api.get("/api/v1/check", params=train, headers={"X-API-Key": railway}).json()[
        "outcome"
    ] == ("permit")
    assert api.get(
        "/api/v1/check", params=train, headers={"X-API-Key": department}
    ).status_code == (403)
    # An airline's key checking an action only the tax list's measures govern.
    _, airline = _key(engine, "caac")
    tax_only = {"subject": PERSON_D, "action": "green_channel"}
    assert api.get(
        "/api/v1/check", params=tax_only, headers={"X-API-Key": airline}
    ).status_code == (403)


def test_bad_code_and_unknown_action_are_problems(
    api: TestClient, db_url: str, engine: Engine
) -> None:
    _, key = _key(engine, "caac")
    headers = {"X-API-Key": key}
    bad = api.get(
        "/api/v1/check", params={"subject": "340405199011034462", "action": "buy_flight_ticket"},
        headers=headers,
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["reason"] == "checksum"
    unknown = api.get(
        "/api/v1/check", params={"subject": PERSON_D, "action": "fly"}, headers=headers
    )
    assert unknown.status_code == 400


def test_screen_upload_streams_decisions_in_order(
    api: TestClient, db_url: str, load: Load, engine: Engine
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    _, key = _key(engine, "caac")
    upload = f"code\n110101199003077777\n{PERSON_D}\n\n".encode()
    answer = api.post(
        "/api/v1/screen",
        params={"action": "buy_flight_ticket", "at": "2025-01-01"},
        files={"file": ("buyers.csv", upload, "text/csv")},
        headers={"X-API-Key": key},
    )
    assert answer.status_code == 200, answer.text
    lines = answer.text.strip().splitlines()
    assert lines[0] == "code,outcome,until,measures"
    assert lines[1].startswith("110101199003077777,invalid,,checksum")
    assert lines[2].startswith(f"{PERSON_D},deny,2026-03-05,")
    # The key's read is in the subject's "who looked" list, one event for the subject.
    with engine.connect() as conn:
        (event,) = audit.events_for_subject(conn, PERSON_D)
    assert (event.action, event.role, event.outcome) == (
        "screen:buy_flight_ticket",
        "agency",
        "deny",
    )


def test_keyed_api_calls_skip_the_per_address_limit_and_the_portal_session(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODE_ENV, "sync")
    _, key = _key(engine, "caac")
    app = create_app(db_url, rate_limit=2)
    params = {"subject": PERSON_D, "action": "buy_flight_ticket"}
    try:
        with TestClient(app) as client:
            keyed = [
                client.get("/api/v1/check", params=params, headers={"X-API-Key": key})
                for _ in range(4)
            ]
            assert [r.status_code for r in keyed] == [200] * 4
            assert all("set-cookie" not in r.headers for r in keyed)
            bad_key = client.get("/api/v1/check", params=params, headers={"X-API-Key": "xy_no"})
            assert bad_key.status_code == 401
            assert bad_key.headers["content-type"].startswith("application/problem+json")
            # The refused key counted against the address like an anonymous request.
            anonymous = [client.get("/api/v1/health") for _ in range(2)]
            assert [r.status_code for r in anonymous] == [200, 429]
    finally:
        if app.state.engine is not None:
            app.state.engine.dispose()
    with engine.connect() as conn:
        assert len(audit.events_for_subject(conn, PERSON_D)) == 4


@pytest.mark.parametrize("mode", ["grouped", "sync"])
def test_a_check_whose_log_cannot_be_written_answers_503_and_no_decision(
    db_url: str, load: Load, engine: Engine, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Fail closed (issue 16): with the audit table gone the check is a 503 problem, never a
    decision the agency acts on while its log is lost; with the table back it answers again."""
    monkeypatch.setenv(MODE_ENV, "sync" if mode == "sync" else "batched")
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    _, key = _key(engine, "caac")
    params = {"subject": PERSON_D, "action": "buy_flight_ticket", "at": "2025-01-01"}
    app = create_app(db_url)
    try:
        with TestClient(app) as client:
            assert client.get("/api/v1/check", params=params, headers={"X-API-Key": key}).is_success
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_events RENAME TO audit_events_away"))
            refused = client.get("/api/v1/check", params=params, headers={"X-API-Key": key})
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_events_away RENAME TO audit_events"))
            again = client.get("/api/v1/check", params=params, headers={"X-API-Key": key})
    finally:
        if app.state.engine is not None:
            app.state.engine.dispose()
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["type"].endswith("/log-unavailable")
    assert not {"outcome", "decision_id", "reasons"} & set(body)
    assert again.status_code == 200 and again.json()["outcome"] == "deny"
    with engine.connect() as conn:
        logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
        chain = audit.verify(conn)
    assert logged == chain.count == 2 and chain.ok


def _answer(api: TestClient, key: str, params: str | dict[str, str]) -> tuple[int, str, object]:
    """Status, content type and body of a check (the body without its fresh decision id)."""
    headers = {"X-API-Key": key}
    if isinstance(params, str):
        answer = api.get(f"/api/v1/check?{params}", headers=headers)
    else:
        answer = api.get("/api/v1/check", params=params, headers=headers)
    body = answer.json()
    if answer.is_success:
        body = {k: v for k, v in body.items() if k != "decision_id"}
    else:
        body = {k: body.get(k) for k in ("type", "status", "title", "detail", "reason")}
    return answer.status_code, answer.headers["content-type"], body


def test_a_cached_key_gets_the_same_answers_as_a_new_one(
    api: TestClient, db_url: str, load: Load, engine: Engine
) -> None:
    """A key seen in the last seconds takes the fast path (api/fastpath.py, ``fast_check``):
    every refusal and every decision must be what the route answers to a key not yet seen."""
    from xinyong.api import auth

    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    _, key = _key(engine, "caac")
    flight = {"action": "buy_flight_ticket"}
    asked: list[str | dict[str, str]] = [
        {"subject": PERSON_D, **flight, "at": "2025-01-01", "known_at": "2025-06-01"},
        {"subject": PERSON_D, **flight, "at": "2025-01-01", "purpose": ""},
        {**flight},  # no subject
        {"subject": PERSON_D},  # no action
        {"subject": PERSON_D, **flight, "at": "2025-13-01"},
        {"subject": PERSON_D, **flight, "at": "yesterday"},
        {"subject": PERSON_D, **flight, "known_at": ""},
        {"subject": "340405199011034462", **flight},  # a bad check digit
        {"subject": PERSON_D, "action": "fly"},  # an unknown action
        {"subject": PERSON_D, "action": "green_channel"},  # none of caac's measures
        f"subject=340405199011034462&subject={PERSON_D}&action=buy_flight_ticket",
    ]
    new_key = []
    for params in asked:
        auth._cache.clear()  # the key not yet seen: the route's dependencies answer
        new_key.append(_answer(api, key, params))
    cached = []
    for params in asked:
        _answer(api, key, {"subject": PERSON_D, **flight})
        assert auth.cached_client(key) is not None
        cached.append(_answer(api, key, params))
    assert [status for status, _, _ in new_key] == [200, 200] + [422] * 6 + [400, 403, 200]
    assert new_key[1][2]["outcome"] == "deny"  # type: ignore[index]
    assert cached == new_key


def test_a_cached_key_past_its_budget_is_429_problem(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODE_ENV, "sync")
    with engine.begin() as conn:
        _, key = create_client(
            conn, default_catalog(), authority="caac", role="agency", rate_limit=2
        )
    app = create_app(db_url)
    params = {"subject": PERSON_D, "action": "buy_flight_ticket"}
    try:
        with TestClient(app) as client:
            got = [
                client.get("/api/v1/check", params=params, headers={"X-API-Key": key})
                for _ in range(3)
            ]
    finally:
        if app.state.engine is not None:
            app.state.engine.dispose()
    assert [r.status_code for r in got] == [200, 200, 429]
    assert got[2].headers["content-type"].startswith("application/problem+json")
    assert int(got[2].headers["retry-after"]) >= 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == 2
