"""Webhooks for subscribers without NATS: signed, retried with backoff, dead-lettered.

Each delivery is an HTTP POST of the event's JSON with three headers::

    X-Xinyong-Event-Id:   the event id (the same delivery may arrive twice: deduplicate on it)
    X-Xinyong-Timestamp:  seconds since the epoch when this attempt was signed
    X-Xinyong-Signature:  sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

A receiver verifies with :func:`verify` (or the same three lines in any language): recompute the
HMAC over the timestamp, a dot and the raw body, compare in constant time, and refuse timestamps
older than five minutes so a captured request cannot be replayed later.

A 2xx answer delivers. Anything else (an error status, a refused connection, a timeout) is
retried after ``base · factor^(attempts-1)`` seconds, capped; after ``max_attempts`` the delivery
is dead-lettered and shows in :func:`deliveries` (``xinyong feed webhooks --dead``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, select, update

from xinyong.feed.events import as_utc, event_from_row
from xinyong.feed.tables import feed_deliveries, feed_events, feed_subscribers
from xinyong.store.engine import utcnow

SIGNATURE_HEADER = "X-Xinyong-Signature"
TIMESTAMP_HEADER = "X-Xinyong-Timestamp"
EVENT_HEADER = "X-Xinyong-Event-Id"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the subscriber's secret over ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether a webhook request is genuine and fresh: what a receiver runs on each request."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 2.0
    factor: float = 2.0
    cap: float = 3600.0
    max_attempts: int = 8
    timeout: float = 10.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return float(min(self.cap, self.base * self.factor ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Round:
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def as_json(self) -> dict[str, int]:
        return {"delivered": self.delivered, "failed": self.failed, "dead": self.dead}


def deliver_due(
    engine: Engine,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    limit: int = 200,
) -> Round:
    """Attempt every pending delivery whose time has come, once each; commits per delivery."""
    at = now or utcnow()
    with engine.connect() as conn:
        due = (
            conn.execute(
                select(
                    feed_deliveries.c.id.label("delivery_id"),
                    feed_deliveries.c.attempts,
                    feed_subscribers.c.webhook_url,
                    feed_subscribers.c.secret,
                    feed_events,
                )
                .join(feed_subscribers, feed_subscribers.c.id == feed_deliveries.c.subscriber_id)
                .join(feed_events, feed_events.c.id == feed_deliveries.c.event_id)
                .where(
                    feed_deliveries.c.state == "pending", feed_deliveries.c.next_attempt_at <= at
                )
                .order_by(feed_deliveries.c.next_attempt_at, feed_deliveries.c.id)
                .limit(limit)
            )
            .mappings()
            .all()
        )
    delivered = failed = dead = 0
    with httpx.Client(timeout=policy.timeout) as client:
        for row in due:
            body = json.dumps(event_from_row(row).as_json(), ensure_ascii=False).encode()
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                EVENT_HEADER: row["event_id"],
                TIMESTAMP_HEADER: str(ts),
                SIGNATURE_HEADER: sign(row["secret"], ts, body),
            }
            status: int | None = None
            error: str | None = None
            try:
                status = client.post(row["webhook_url"], content=body, headers=headers).status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            attempts = row["attempts"] + 1
            values: dict[str, Any] = {"attempts": attempts, "last_status": status}
            if error is None:
                values |= {"state": "delivered", "delivered_at": utcnow(), "last_error": None}
                delivered += 1
            elif attempts >= policy.max_attempts:
                values |= {"state": "dead", "last_error": error}
                dead += 1
            else:
                values |= {
                    "last_error": error,
                    "next_attempt_at": at + timedelta(seconds=policy.delay(attempts)),
                }
                failed += 1
            with engine.begin() as conn:
                conn.execute(
                    update(feed_deliveries)
                    .where(feed_deliveries.c.id == row["delivery_id"])
                    .values(**values)
                )
    return Round(delivered, failed, dead)


@dataclass(frozen=True)
class Delivery:
    id: int
    subscriber: str
    event_id: str
    event_type: str
    reason: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscriber": self.subscriber,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "reason": self.reason,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_status": self.last_status,
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }


def deliveries(
    conn: Connection,
    *,
    state: str | None = None,
    subscriber: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Deliveries for the operator console, newest first: all, or one state (``dead`` = the
    dead letters), or one subscriber's."""
    query = (
        select(
            feed_deliveries,
            feed_subscribers.c.name,
            feed_events.c.event_id.label("event_uuid"),
            feed_events.c.event_type,
        )
        .join(feed_subscribers, feed_subscribers.c.id == feed_deliveries.c.subscriber_id)
        .join(feed_events, feed_events.c.id == feed_deliveries.c.event_id)
        .order_by(feed_deliveries.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(feed_deliveries.c.state == state)
    if subscriber is not None:
        query = query.where(feed_subscribers.c.name == subscriber)
    return [
        Delivery(
            id=r["id"],
            subscriber=r["name"],
            event_id=r["event_uuid"],
            event_type=r["event_type"],
            reason=r["reason"],
            state=r["state"],
            attempts=r["attempts"],
            next_attempt_at=as_utc(r["next_attempt_at"]),
            last_status=r["last_status"],
            last_error=r["last_error"],
            delivered_at=as_utc(r["delivered_at"]) if r["delivered_at"] else None,
        )
        for r in conn.execute(query).mappings()
    ]
