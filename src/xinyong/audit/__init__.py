"""The audit log: every read of non-public data and every decision, append-only, hash-chained.

- ``record(conn, *, actor, role, purpose, subject, action, resource=None, outcome=None,
  detail=None, at=None) -> AuditEvent`` — append in the caller's transaction.
- ``record_many(conn, events) -> list[AuditEvent]`` — several ``record`` calls' arguments,
  appended in order under one lock.
- ``events.append_prepared(conn, prepared)`` — the same for events already checked by
  ``prepare_event``, returning the new head (``events.Head``): the decision writer's group
  commit; ``events.append_after(conn, head, prepared, also)`` the same on PostgreSQL in one
  self-committing statement when the chain still ends at ``head``;
  ``events.append_locked(conn, prepared, also)`` that statement after the head's row lock, in
  the caller's transaction (another process appended since).
- ``verify(conn, *, anchors=None) -> VerifyResult`` — walk the chain: ok, count, head hash,
  first broken event and why.
- ``events_for_subject(conn, subject) -> list[AuditEvent]`` — a subject's 查询记录.
- ``list_events(conn, *, subject=None, limit=None)`` — events in chain order.
- Tables ``audit_events`` and ``audit_head`` in ``xinyong.audit.tables``.

How the chain works and its limits: docs/audit.md.
"""

from xinyong.audit.chain import GENESIS_HASH
from xinyong.audit.events import (
    AuditEvent,
    events_for_subject,
    list_events,
    record,
    record_many,
)
from xinyong.audit.verify import VerifyResult, verify

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "VerifyResult",
    "events_for_subject",
    "list_events",
    "record",
    "record_many",
    "verify",
]
