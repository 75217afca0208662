"""The agency console's check and screen are reads of the subject's file, audited the way the
API's check is (``decisions.check_audit`` → ``check(…, audit=)``; ``screen(…, audit=)``): in
the subject's "who looked" list, and with no answer when the event cannot be written (issue 16).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from tests.measures.conftest import PERSON_C, PERSON_D, Load, defaulter

from xinyong.api.app import create_app
from xinyong.audit import events as audit_events
from xinyong.audit import list_events
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client
from xinyong.measures.decisions import check_audit
from xinyong.measures.writer import MODE_ENV

ACTION = "buy_train_seat_premium"  # a measure China Railway implements on defaulters


@pytest.fixture()
def console(db_url: str, load: Load, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """China Railway's console on a store where PERSON_D was listed a month ago; its engine is
    closed afterwards."""
    listed_on = (date.today() - timedelta(days=30)).isoformat()
    load(
        "judgment_defaulter",
        [defaulter(PERSON_D, "王五", "（2026）浙0106执9号", 决定日期=listed_on)],
    )
    monkeypatch.setenv(MODE_ENV, "sync")  # the API's checks logged at once, to compare
    app = create_app(db_url, demo_logins=True, secret=b"test-secret")
    with TestClient(app) as client:
        token = _csrf(client.get("/login").text)
        logged = client.post(
            "/login",
            data={"login": "agency:china_railway", "password": "demo", "csrf": token, "next": "/"},
            follow_redirects=False,
        )
        assert logged.status_code == 303
        yield client
    app.state.engine.dispose()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _events(engine: Engine, code: str) -> list[Any]:
    with engine.connect() as conn:
        return list_events(conn, subject=code)


def _check(client: TestClient, subject: str, purpose: str = "") -> Any:
    token = _csrf(client.get("/agency").text)
    return client.post(
        "/agency/check",
        data={"subject": subject, "action": ACTION, "purpose": purpose, "csrf": token},
    )


def _screen(client: TestClient, codes: list[str]) -> Any:
    token = _csrf(client.get("/agency").text)
    return client.post(
        "/agency/screen",
        data={"action": ACTION, "purpose": "批量售票核查", "csrf": token},
        files={"file": ("buyers.csv", ("code\n" + "\n".join(codes) + "\n").encode(), "text/csv")},
    )


def _refuse_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("audit log unavailable"))

    monkeypatch.setattr(audit_events, "_append", refused)


def test_a_console_check_is_audited_as_the_api_check_is(
    console: TestClient, engine: Engine
) -> None:
    page = _check(console, PERSON_D, purpose="售票核查")
    assert page.status_code == 200, page.text[:500]
    assert 'class="decision deny"' in page.text
    (event,) = _events(engine, PERSON_D)
    expected = check_audit(
        actor=event.actor,
        role="agency",
        purpose="售票核查",
        action=ACTION,
        at=date.today(),
        authority="china_railway",
    )
    assert {k: getattr(event, k) for k in expected} == expected
    assert event.outcome == "deny" and event.resource in page.text  # the decision id shown

    # The API's check by China Railway's key writes the same event but for who and when.
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="china_railway", role="agency")
    api = console.get(
        "/api/v1/check",
        params={"subject": PERSON_D, "action": ACTION, "purpose": "售票核查"},
        headers={"X-API-Key": key},
    )
    assert api.status_code == 200, api.text
    _, by_api = _events(engine, PERSON_D)
    same = ("role", "purpose", "subject", "action", "outcome", "detail")
    assert {k: getattr(by_api, k) for k in same} == {k: getattr(event, k) for k in same}

    assert _check(console, PERSON_C).status_code == 200  # a permit is a read too
    (unknown,) = _events(engine, PERSON_C)
    assert (unknown.outcome, unknown.purpose) == ("permit", "控制台核查 / console check")


def test_a_console_check_without_its_audit_gives_no_decision(
    console: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_audit(monkeypatch)
    page = _check(console, PERSON_D)
    assert page.status_code == 503
    assert 'class="decision' not in page.text and "no decision given" in page.text
    monkeypatch.undo()
    assert _events(engine, PERSON_D) == []


def test_a_console_screen_audits_each_subject_or_answers_nothing(
    console: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _screen(console, [PERSON_D, PERSON_C, "123"])
    assert got.status_code == 200, got.text[:500]
    assert [r["outcome"] for r in csv.DictReader(io.StringIO(got.text))] == [
        "deny",
        "permit",
        "invalid",
    ]
    (event,) = _events(engine, PERSON_D)
    assert (event.role, event.purpose) == ("agency", "批量售票核查")
    assert (event.action, event.outcome) == (f"screen:{ACTION}", "deny")

    _refuse_audit(monkeypatch)
    refused = _screen(console, [PERSON_D])
    assert refused.status_code == 400
    assert not refused.headers["content-type"].startswith("text/csv")
    monkeypatch.undo()
    assert len(_events(engine, PERSON_D)) == 1
