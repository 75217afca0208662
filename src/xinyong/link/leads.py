"""Leads: a person confirms or rejects a candidate subject for a record that carries only a name.

A record without a valid code stays unlinked; linking offers ranked candidate subjects as
``link_leads`` rows (state ``open``). Only a named person, giving a reason, turns a lead into a
link: ``confirm_lead`` attaches the record to the lead's subject, closes the record's other open
leads as ``rejected``, writes an audit event (purpose ``confirm_lead``) and returns the record
ids its caller runs through ``xinyong.pipeline`` in the same transaction, so the lists and
measures the record carries follow at once (linking sits below the pipeline and never runs it).
``reject_lead`` closes one lead, audited the same way (``reject_lead``).

Nothing here links on a name by itself: a name only ever ranks candidates for a person to judge.

- ``list_leads(conn, *, open_only=False, record_id=None, limit=200) -> list[Lead]``
- ``confirm_lead(conn, lead_id, *, actor, reason, role="operator")`` → ``LeadDecision`` (its
  ``record_ids`` go through the pipeline next)
- ``reject_lead(conn, lead_id, *, actor, reason, role="operator")`` → ``LeadDecision``

Unknown lead: ``NotFound``; a lead already decided, or whose record is no longer current or
already linked: ``Conflict``; no actor or no reason: ``UnusableInput``; a role other than
``operator`` or ``department``: ``Forbidden``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from xinyong import audit
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.store.engine import utcnow
from xinyong.store.tables import link_leads, records, subject_names, subjects

#: Who may decide a lead: the platform's operators and the department that sent the record.
DECIDING_ROLES = frozenset({"operator", "department"})
#: Longest reason kept (the audit event keeps the same text).
MAX_REASON = 2000


@dataclass(frozen=True)
class Lead:
    """A candidate subject for an unlinked record, with the record and subject it joins."""

    id: int
    record_id: int
    record_type: str
    record_name: str
    document_no: str | None
    subject_id: int
    subject_code: str | None
    subject_kind: str
    subject_names: tuple[str, ...]
    confidence: float
    method: str
    state: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "lead": self.id,
            "record": self.record_id,
            "record_type": self.record_type,
            "record_name": self.record_name,
            "document_no": self.document_no,
            "subject": self.subject_id,
            "subject_code": self.subject_code,
            "subject_kind": self.subject_kind,
            "subject_names": list(self.subject_names),
            "confidence": self.confidence,
            "method": self.method,
            "state": self.state,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LeadDecision:
    """What a decision did: the lead (now closed), the others it closed, the audit event."""

    lead: Lead
    closed: tuple[int, ...]  # other leads of the record closed as rejected (confirm only)
    audit_event: int
    #: Records now linked, for the caller to run through the pipeline (confirm only).
    record_ids: tuple[int, ...] = ()
    #: Subjects the pipeline touched, once the caller has run it (confirm only).
    subjects: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            **self.lead.as_json(),
            "closed_leads": list(self.closed),
            "subjects": list(self.subjects),
            "audit_event": self.audit_event,
        }


def _query() -> Any:
    return (
        select(
            link_leads,
            records.c.record_type,
            records.c.subject_name.label("record_name"),
            records.c.document_no,
            subjects.c.primary_code,
            subjects.c.kind,
        )
        .join(records, records.c.id == link_leads.c.record_id)
        .join(subjects, subjects.c.id == link_leads.c.subject_id)
    )


def _names(conn: Connection, subject_ids: list[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    if subject_ids:
        query = (
            select(subject_names.c.subject_id, subject_names.c.name)
            .where(subject_names.c.subject_id.in_(subject_ids))
            .order_by(subject_names.c.id)
        )
        for sid, name in conn.execute(query):
            out.setdefault(sid, []).append(name)
    return {sid: tuple(names) for sid, names in out.items()}


def _leads(conn: Connection, query: Any) -> list[Lead]:
    rows = conn.execute(query).all()
    names = _names(conn, sorted({r.subject_id for r in rows}))
    return [
        Lead(
            id=r.id,
            record_id=r.record_id,
            record_type=r.record_type,
            record_name=r.record_name,
            document_no=r.document_no,
            subject_id=r.subject_id,
            subject_code=r.primary_code,
            subject_kind=r.kind,
            subject_names=names.get(r.subject_id, ()),
            confidence=r.confidence,
            method=r.method,
            state=r.state,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            reason=r.reason,
        )
        for r in rows
    ]


def list_leads(
    conn: Connection, *, open_only: bool = False, record_id: int | None = None, limit: int = 200
) -> list[Lead]:
    """Leads by record, best candidate first; only open ones with ``open_only``."""
    query = _query().order_by(
        link_leads.c.record_id, link_leads.c.confidence.desc(), link_leads.c.id
    )
    if open_only:
        query = query.where(link_leads.c.state == "open")
    if record_id is not None:
        query = query.where(link_leads.c.record_id == record_id)
    return _leads(conn, query.limit(limit))


def get_lead(conn: Connection, lead_id: int) -> Lead:
    found = _leads(conn, _query().where(link_leads.c.id == lead_id))
    if not found:
        raise NotFound(f"线索 {lead_id} 不存在 / no lead {lead_id}")
    return found[0]


def _check(lead_id: int, actor: str, reason: str, role: str) -> tuple[str, str]:
    if role not in DECIDING_ROLES:
        raise Forbidden(
            f"只有运营方或来源部门可以处理线索 / only an operator or the source department may "
            f"decide a lead (role {role!r})"
        )
    actor, reason = actor.strip(), reason.strip()
    if not actor or not reason:
        raise UnusableInput(
            f"处理线索 {lead_id} 须写明处理人和理由 / deciding lead {lead_id} needs a named "
            "person (--actor) and a reason (--reason)"
        )
    if len(reason) > MAX_REASON:
        raise UnusableInput(f"理由过长 / the reason is longer than {MAX_REASON} characters")
    return actor, reason


def _open_lead(conn: Connection, lead_id: int) -> Lead:
    """The lead, locked for this transaction where the database can; it must still be open."""
    locked = select(link_leads.c.id).where(link_leads.c.id == lead_id)
    if conn.dialect.name == "postgresql":
        locked = locked.with_for_update()
    conn.execute(locked)
    lead = get_lead(conn, lead_id)
    if lead.state != "open":
        by = f"（{lead.decided_by}）" if lead.decided_by else ""
        raise Conflict(
            f"线索 {lead_id} 已处理为 {lead.state}{by} / lead {lead_id} is already {lead.state}"
        )
    return lead


def _close(
    conn: Connection, lead_ids: list[int], state: str, actor: str, reason: str, now: datetime
) -> None:
    if lead_ids:
        conn.execute(
            update(link_leads)
            .where(link_leads.c.id.in_(lead_ids), link_leads.c.state == "open")
            .values(state=state, decided_by=actor, decided_at=now, reason=reason)
        )


def confirm_lead(
    conn: Connection,
    lead_id: int,
    *,
    actor: str,
    reason: str,
    role: str = "operator",
) -> LeadDecision:
    """Link the lead's record to the lead's subject, on a named person's word and reason.

    In the caller's transaction: the record gets its subject, the lead becomes ``confirmed``,
    the record's other open leads ``rejected`` and an audit event is appended. The caller then
    runs the decision's ``record_ids`` through the pipeline (lists, measures, feed) in the same
    transaction.
    """
    actor, reason = _check(lead_id, actor, reason, role)
    lead = _open_lead(conn, lead_id)
    record = conn.execute(
        select(records.c.subject_id, records.c.superseded_at).where(records.c.id == lead.record_id)
    ).one()
    if record.superseded_at is not None:
        raise Conflict(
            f"记录 {lead.record_id} 已被更正，请处理新版本的线索 / record {lead.record_id} has "
            "been superseded by a correction: decide the new version's leads"
        )
    if record.subject_id is not None:
        raise Conflict(
            f"记录 {lead.record_id} 已关联主体 {record.subject_id} / record {lead.record_id} is "
            f"already linked to subject {record.subject_id}"
        )
    now = utcnow()
    conn.execute(
        update(records).where(records.c.id == lead.record_id).values(subject_id=lead.subject_id)
    )
    _close(conn, [lead_id], "confirmed", actor, reason, now)
    others = list(
        conn.execute(
            select(link_leads.c.id).where(
                link_leads.c.record_id == lead.record_id,
                link_leads.c.state == "open",
                link_leads.c.id != lead_id,
            )
        ).scalars()
    )
    _close(conn, others, "rejected", actor, f"另一线索已确认 / lead {lead_id} confirmed", now)
    event = audit.record(
        conn,
        actor=actor,
        role=role,
        purpose="confirm_lead",
        subject=lead.subject_code,
        action="lead.confirm",
        resource=f"link_lead:{lead_id}",
        outcome="confirmed",
        detail={
            "record": lead.record_id,
            "subject": lead.subject_id,
            "confidence": lead.confidence,
            "reason": reason,
            "closed_leads": others,
        },
        at=now,
    )
    return LeadDecision(
        lead=get_lead(conn, lead_id),
        closed=tuple(others),
        audit_event=event.id,
        record_ids=(lead.record_id,),
    )


def reject_lead(
    conn: Connection, lead_id: int, *, actor: str, reason: str, role: str = "operator"
) -> LeadDecision:
    """Close one lead as ``rejected`` (the record stays unlinked), audited."""
    actor, reason = _check(lead_id, actor, reason, role)
    lead = _open_lead(conn, lead_id)
    now = utcnow()
    _close(conn, [lead_id], "rejected", actor, reason, now)
    event = audit.record(
        conn,
        actor=actor,
        role=role,
        purpose="reject_lead",
        subject=lead.subject_code,
        action="lead.reject",
        resource=f"link_lead:{lead_id}",
        outcome="rejected",
        detail={"record": lead.record_id, "subject": lead.subject_id, "reason": reason},
        at=now,
    )
    return LeadDecision(lead=get_lead(conn, lead_id), closed=(), audit_event=event.id)
