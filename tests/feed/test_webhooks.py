"""Webhooks against a real HTTP server on 127.0.0.1 that fails the first N times."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.catalog import Catalog
from xinyong.cli import app
from xinyong.feed import emit
from xinyong.feed.subscriptions import route_pending, subscribe
from xinyong.feed.webhooks import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    deliver_due,
    deliveries,
    sign,
    verify,
)
from xinyong.store.engine import utcnow

COMPANY = "911101015366008218"
FLIGHT = {"action": "buy_flight_ticket", "measure_id": "consumption_restriction_flight"}


class Receiver:
    """A subscriber's endpoint: fails the first ``fail`` requests, verifies every signature."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.secret = ""
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(
                    receiver.secret,
                    self.headers[TIMESTAMP_HEADER],
                    body,
                    self.headers[SIGNATURE_HEADER],
                )
                receiver.requests.append(
                    {"verified": ok, "event_id": self.headers[EVENT_HEADER], "body": body}
                )
                status = 503 if len(receiver.requests) <= receiver.fail else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    r = Receiver(fail=getattr(request, "param", 0))
    yield r
    r.close()


def _setup(engine: Engine, catalog: Catalog, url: str) -> str:
    with engine.begin() as conn:
        _sub, secret = subscribe(
            conn,
            catalog,
            name="airline",
            webhook_url=url,
            purpose="售票核验",
            legal_basis="ndrc_aviation_2018",
            agreement_ref="民航-2018-001",
            measures=["consumption_restriction_flight"],
        )
        emit(conn, "restriction.added", COMPANY, FLIGHT)
        route_pending(conn)
    return secret


@pytest.mark.parametrize("receiver", [3], indirect=True)
def test_retried_with_backoff_until_delivered(
    engine: Engine, catalog: Catalog, receiver: Receiver
) -> None:
    receiver.secret = _setup(engine, catalog, receiver.url)
    policy = RetryPolicy(base=10, factor=2, max_attempts=5)
    now = utcnow()
    assert deliver_due(engine, now=now, policy=policy).failed == 1
    assert deliver_due(engine, now=now, policy=policy).as_json() == {
        "delivered": 0,
        "failed": 0,
        "dead": 0,
    }, "not retried before its backoff has passed"
    with engine.connect() as conn:
        (d,) = deliveries(conn)
    assert d.state == "pending" and d.attempts == 1 and d.last_status == 503
    assert d.next_attempt_at == now + timedelta(seconds=10)
    for step, wait in enumerate((10, 20, 40), start=1):
        now += timedelta(seconds=wait)
        got = deliver_due(engine, now=now, policy=policy)
        assert (got.failed, got.delivered) == ((1, 0) if step < 3 else (0, 1))
    with engine.connect() as conn:
        (d,) = deliveries(conn)
    assert d.state == "delivered" and d.attempts == 4
    assert len(receiver.requests) == 4
    assert all(r["verified"] for r in receiver.requests), "every attempt is signed afresh"
    assert {r["event_id"] for r in receiver.requests} == {d.event_id}
    body = json.loads(receiver.requests[-1]["body"])
    assert body["type"] == "restriction.added" and body["subject_code"] == COMPANY


@pytest.mark.parametrize("receiver", [100], indirect=True)
def test_dead_lettered_after_the_limit_and_listed(
    engine: Engine, catalog: Catalog, receiver: Receiver, db_url: str
) -> None:
    receiver.secret = _setup(engine, catalog, receiver.url)
    policy = RetryPolicy(base=1, max_attempts=3)
    now = utcnow()
    for _ in range(3):
        deliver_due(engine, now=now, policy=policy)
        now += timedelta(hours=1)
    assert deliver_due(engine, now=now, policy=policy).as_json()["failed"] == 0
    with engine.connect() as conn:
        (dead,) = deliveries(conn, state="dead")
    assert dead.attempts == 3 and dead.last_error == "HTTP 503"
    assert len(receiver.requests) == 3

    result = CliRunner().invoke(app, ["feed", "webhooks", "--dead", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    (listed,) = json.loads(result.stdout)
    assert listed["state"] == "dead" and listed["subscriber"] == "airline"


def test_unreachable_endpoint_is_a_failed_attempt(sqlite_engine: Engine, catalog: Catalog) -> None:
    _setup(sqlite_engine, catalog, "http://127.0.0.1:9/closed")
    got = deliver_due(sqlite_engine, policy=RetryPolicy(timeout=2))
    assert got.failed == 1
    with sqlite_engine.connect() as conn:
        (d,) = deliveries(conn)
    assert d.last_status is None and "ConnectError" in (d.last_error or "")


def test_verify_refuses_tampering_replay_and_junk() -> None:
    body = b'{"type": "record.added"}'
    ts = 1_800_000_000
    good = sign("s3cret", ts, body)
    assert verify("s3cret", str(ts), body, good, now=ts + 10)
    assert not verify("s3cret", str(ts), body + b" ", good, now=ts), "body changed"
    assert not verify("other", str(ts), body, good, now=ts), "wrong secret"
    assert not verify("s3cret", str(ts + 1), body, good, now=ts), "timestamp changed"
    assert not verify("s3cret", str(ts), body, good, now=ts + 301), "too old: a replay"
    assert not verify("s3cret", "yesterday", body, good, now=ts)
    assert not verify("s3cret", str(ts), body, "sha256=" + "0" * 64, now=ts)
    assert not verify("s3cret", str(ts), body, "", now=ts)
