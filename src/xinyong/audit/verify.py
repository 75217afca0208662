"""Walking the chain: is every event as it was written, in its place, none missing?

``verify`` reads the head row first and then the events up to it, in order, one pass, streaming.
It stops at the first event that breaks the chain and says why:

``changed``   the event's content no longer gives its hash
``deleted``   an event is missing (a gap in the ids, a link to an event that is gone, or a tail
              cut off below the head)
``inserted``  an event sits between two events that were written one after the other
``reordered`` an event follows one that was written after it, or not right before it
``head``      the head row does not match the last event (head changed or missing, or events
              appended beside the chain)
``anchor``    an event's hash differs from one published earlier (see docs/audit.md)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select

from xinyong.audit.chain import GENESIS_HASH, event_hash
from xinyong.audit.tables import audit_events, audit_head

REASONS = ("changed", "deleted", "inserted", "reordered", "head", "anchor")


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of one walk. ``head_hash`` is the hash to anchor elsewhere."""

    ok: bool
    count: int
    head_hash: str
    first_broken: int | None = None
    reason: str | None = None
    explanation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "head_hash": self.head_hash,
            "first_broken": self.first_broken,
            "reason": self.reason,
            "explanation": self.explanation,
        }


def verify(conn: Connection, *, anchors: Mapping[int, str] | None = None) -> VerifyResult:
    """Check the whole chain; ``anchors`` maps event ids to hashes published earlier."""
    anchors = dict(anchors or {})
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    head_seq = 0 if head is None else int(head.seq)

    count, expected_prev, before_prev = 0, GENESIS_HASH, GENESIS_HASH
    rows = conn.execute(
        select(audit_events).where(audit_events.c.id <= head_seq).order_by(audit_events.c.id),
        execution_options={"yield_per": 2000},
    )
    for row in rows:
        expected_id = count + 1
        if row.id != expected_id:
            rows.close()
            return _broken(
                count, expected_prev, expected_id, "deleted",
                f"事件 {expected_id}–{row.id - 1} 缺失 / events {expected_id}–{row.id - 1} "
                "are missing (deleted)",
            )  # fmt: skip
        if _recompute(row) != row.hash:
            rows.close()
            if row.id > 1 and _recompute(row, prev_hash=before_prev) == row.hash:
                return _broken(
                    count, expected_prev, row.id - 1, "inserted",
                    f"事件 {row.id - 1} 是插入的：事件 {row.id} 原本紧随事件 {row.id - 2} / "
                    f"event {row.id - 1} was inserted: event {row.id} was written right after "
                    f"event {row.id - 2}",
                )  # fmt: skip
            return _broken(
                count, expected_prev, row.id, "changed",
                f"事件 {row.id} 的内容与其哈希不符 / event {row.id}'s content does not match "
                "its hash (changed after it was written)",
            )  # fmt: skip
        if row.prev_hash != expected_prev:
            rows.close()
            first, reason, why = _diagnose_link(conn, row, expected_prev, before_prev)
            return _broken(count, expected_prev, first, reason, why)
        if row.id in anchors and anchors.pop(row.id) != row.hash:
            rows.close()
            return _broken(
                count, expected_prev, row.id, "anchor",
                f"事件 {row.id} 的哈希与先前公布的不同 / event {row.id}'s hash differs from "
                "the one anchored earlier (the chain was rewritten from there on)",
            )  # fmt: skip
        count += 1
        before_prev, expected_prev = expected_prev, row.hash

    if count < head_seq:
        return _broken(
            count, expected_prev, count + 1, "deleted",
            f"事件 {count + 1}–{head_seq} 缺失（链尾被截断）/ events {count + 1}–{head_seq} "
            "are missing (the tail was cut off)",
        )  # fmt: skip
    if head is not None and head.hash != expected_prev:
        return _broken(
            count, expected_prev, count, "head",
            f"链头哈希与最后一个事件 {count} 不符 / the head hash does not match the last "
            f"event {count}",
        )  # fmt: skip
    beyond = conn.execute(select(func.max(audit_events.c.id))).scalar_one_or_none() or 0
    latest = conn.execute(select(audit_head.c.seq)).scalar_one_or_none() or 0
    if beyond > latest:
        why = (
            "链头记录缺失 / the head row is missing"
            if head is None
            else f"事件 {latest + 1} 起不在链上 / events from {latest + 1} on are outside the chain"
        )
        return _broken(count, expected_prev, latest + 1, "head", why)
    if anchors:
        gone = min(anchors)
        return _broken(
            count, expected_prev, gone, "anchor",
            f"先前公布的事件 {gone} 已不存在 / the anchored event {gone} no longer exists",
        )  # fmt: skip
    return VerifyResult(ok=True, count=count, head_hash=expected_prev)


def _recompute(row: Row[Any], *, prev_hash: str | None = None) -> str:
    return event_hash(
        at=row.at,
        actor=row.actor,
        role=row.role,
        purpose=row.purpose,
        subject=row.subject,
        action=row.action,
        resource=row.resource,
        outcome=row.outcome,
        detail=row.detail,
        prev_hash=row.prev_hash if prev_hash is None else prev_hash,
    )


def _diagnose_link(
    conn: Connection, row: Row[Any], expected_prev: str, before_prev: str
) -> tuple[int, str, str]:
    """``row`` is intact but does not follow the event before it: say what happened."""
    previous = row.id - 1
    if previous >= 1 and row.prev_hash == before_prev:
        return (
            previous,
            "inserted",
            f"事件 {previous} 是插入的：事件 {row.id} 原本紧随事件 {previous - 1} / event "
            f"{previous} was inserted: event {row.id} was written right after event {previous - 1}",
        )
    follows = conn.execute(
        select(audit_events.c.id).where(audit_events.c.hash == row.prev_hash)
    ).scalar_one_or_none()
    if follows is None:
        after = conn.execute(
            select(audit_events.c.prev_hash).where(audit_events.c.id == row.id + 1)
        ).scalar_one_or_none()
        if after == expected_prev:
            return (
                row.id,
                "inserted",
                f"事件 {row.id} 是伪造插入的：事件 {row.id + 1} 原本紧随事件 {previous} / event "
                f"{row.id} was forged and inserted: event {row.id + 1} was written right after "
                f"event {previous}",
            )
        return (
            row.id,
            "deleted",
            f"事件 {row.id} 所接续的事件已不存在 / the event that event {row.id} follows no "
            "longer exists (deleted, or this event is forged)",
        )
    return (
        row.id,
        "reordered",
        f"事件 {row.id} 原本紧随事件 {follows}，而非事件 {previous} / event {row.id} was "
        f"written right after event {follows}, not after event {previous} (reordered)",
    )


def _broken(
    count: int, head_hash: str, first_broken: int, reason: str, explanation: str
) -> VerifyResult:
    assert reason in REASONS
    return VerifyResult(
        ok=False,
        count=count,
        head_hash=head_hash,
        first_broken=first_broken,
        reason=reason,
        explanation=explanation,
    )
