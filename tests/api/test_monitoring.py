"""Liveness, readiness and ``/metrics``: what an operator's monitoring relies on."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.measures import conftest as measures
from tests.measures.conftest import PERSON_D, Load, defaulter

from xinyong.api.app import create_app
from xinyong.api.monitoring import JsonLogFormatter
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client
from xinyong.measures.writer import MODE_ENV
from xinyong.settings import load as load_settings

load = measures.load
KEY = "metrics-key-for-the-test"


@pytest.fixture()
def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv(MODE_ENV, "sync")
    monkeypatch.setenv("XINYONG_METRICS_KEY", KEY)
    app = create_app(db_url)
    with TestClient(app) as client:
        yield client
    if app.state.engine is not None:
        app.state.engine.dispose()


def _value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` in a Prometheus text page (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', metric))
        if metric.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_health_and_ready_on_a_current_store(api: TestClient) -> None:
    assert api.get("/api/v1/health").json()["status"] == "ok"
    ready = api.get("/api/v1/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


def test_not_ready_says_why(sqlite_url: str, tmp_path: Path) -> None:
    """An empty database (never initialised), a missing one and one that cannot be reached:
    503, with the reasons."""
    (tmp_path / "xinyong.db").touch()
    with TestClient(create_app(sqlite_url)) as client:
        answer = client.get("/api/v1/ready")
        assert client.get("/api/v1/health").status_code == 200, "alive all the same"
    assert answer.status_code == 503
    (reason,) = answer.json()["reasons"]
    assert "schema not current" in reason and "xinyong init" in reason
    with TestClient(create_app(f"sqlite:///{tmp_path / 'none.db'}")) as client:
        answer = client.get("/api/v1/ready")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["数据库不可达 / database unreachable"]
    gone = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(gone)) as client:
        answer = client.get("/api/v1/ready")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["数据库不可达 / database unreachable"]
    assert "nobody" not in answer.text, "no host or user names to the public"


def test_metrics_count_checks_by_action_and_outcome(
    api: TestClient, load: Load, engine: Engine
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    with engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="caac", role="agency")
    auth = {"Authorization": f"Bearer {KEY}"}
    before = api.get("/metrics", headers=auth).text
    for _ in range(2):
        answer = api.get(
            "/api/v1/check",
            params={"subject": PERSON_D, "action": "buy_flight_ticket", "at": "2025-01-01"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.json()["outcome"] == "deny"
    page = api.get("/metrics", headers=auth)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    after = page.text
    name = "xinyong_checks_total"
    labels = {"action": "buy_flight_ticket", "outcome": "deny"}
    assert _value(after, name, **labels) - _value(before, name, **labels) == 2
    route = {"method": "GET", "route": "/api/v1/check"}
    assert _value(after, "xinyong_http_request_duration_seconds_count", **route) >= 2
    assert PERSON_D not in after, "series per route template, never per subject"
    assert _value(after, "xinyong_ingest_rows_total", result="accepted") >= 1
    assert "xinyong_feed_lag_seconds" in after
    assert "xinyong_audit_queue_depth" in after


def test_metrics_are_hidden_from_strangers(api: TestClient) -> None:
    """The test client is not on the loopback address: without the key, nothing is there."""
    assert api.get("/metrics").status_code == 404
    assert api.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert api.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_metrics_without_a_key_only_on_loopback(db_url: str) -> None:
    app = create_app(db_url, settings=load_settings({}))
    with TestClient(app, client=("127.0.0.1", 5000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(app) as remote:
        assert remote.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    if app.state.engine is not None:
        app.state.engine.dispose()


def test_request_log_lines_are_json_with_the_route(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="xinyong.access"):
        api.get("/api/v1/subjects/91350100M000100Y43")
    (record,) = [r for r in caplog.records if r.name == "xinyong.access"]
    line = json.loads(JsonLogFormatter().format(record))
    assert line["logger"] == "xinyong.access" and line["level"] == "info"
    assert line["route"] == "/api/v1/subjects/{subject_id}"
    assert line["path"] == "/api/v1/subjects/91350100M000100Y43"
    assert line["method"] == "GET" and isinstance(line["status"], int) and line["ms"] >= 0


def test_a_worker_whose_first_request_is_the_scrape_reports_the_stores_figures(
    db_url: str, load: Load
) -> None:
    """Each worker opens the database on first use; a scrape reaches any one of them. Before,
    a worker that had served nothing else left ingest rows and feed lag out (the smoke test
    failed when the other worker had taken the ingest and the check)."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    fresh = create_app(db_url, settings=load_settings({}))
    try:
        with TestClient(fresh, client=("127.0.0.1", 5000)) as local:
            page = local.get("/metrics")
        assert page.status_code == 200
        assert _value(page.text, "xinyong_ingest_rows_total", result="accepted") >= 1
        assert "xinyong_feed_lag_seconds" in page.text
    finally:
        if fresh.state.engine is not None:
            fresh.state.engine.dispose()
