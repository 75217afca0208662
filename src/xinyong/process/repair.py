"""Credit repair (信用修复): apply, review, decide within the deadline.

The record type's ``repair`` rule in the catalog says whether repair exists, from when it may be
applied for (any time, or only after the minimum disclosure period), who decides and on what
conditions; this module only carries those rules out.

- ``apply_repair`` — refuses a record whose type has no repair, a record not active, and an
  application before the minimum period ends; the applicant states which of the catalog's
  conditions are met (all of them are required) and may name a signed commitment. Due in
  ``DECISION_DEADLINE`` working days (2025 plan: Credit China answers within 10 working days).
- ``decide_repair`` — by the deciding authority. Granted: a new version with status
  ``repaired`` flows through the pipeline (its publication ends; the lists and measures it
  carried go, and the feed step publishes that); the record stays for the authorities that may
  still see it. Refused: with reasons; the record is unchanged. Either way
  :func:`xinyong.process.cases.move` writes the audit event and the feed event
  ``repair.outcome``, as for an objection's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from xinyong.catalog.law import governing
from xinyong.catalog.model import Catalog, Duration, LegalRef, RepairRule
from xinyong.catalog.periods import disclosure
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.process.cases import (
    REPAIRS,
    Case,
    decision_date,
    due_after,
    from_row,
    get_case,
    may_move,
    move,
    normalise_code,
    open_case,
    required,
    select_cases,
)
from xinyong.process.records import current_version, new_version, record_by_id
from xinyong.process.tables import commitments, repairs
from xinyong.store.queries import StoredRecord
from xinyong.store.tables import records

#: Credit China forwards, the authority decides and the applicant hears within 10 working days.
DECISION_DEADLINE = Duration(amount=10, unit="wd")
DEADLINE_BASIS = LegalRef(instrument="credit_repair_plan_2025")


@dataclass(frozen=True)
class Repair(Case):
    case_kind = REPAIRS

    id: int
    record_id: int
    record_key: str
    subject_code: str
    applied_by: str
    statement: str
    conditions_met: list[str]
    commitment_id: int | None
    authority: str
    applied_on: date
    due_on: date
    state: str
    decided_by: str | None
    decided_on: date | None
    decision_reason: str | None


def earliest_repair(catalog: Catalog, record: StoredRecord, at: date | None = None) -> date | None:
    """The first day repair of ``record`` may be applied for (None: not known, so any time), by
    the catalog's rule as :mod:`xinyong.catalog.periods` reads it on ``at`` (default today)."""
    return disclosure(catalog.record_types[record.record_type], record, at).earliest_repair


def repair_rule(catalog: Catalog, record_type: str, at: date | None = None) -> RepairRule:
    """The record type's repair rule in force on ``at`` (default today: its newest version
    once in force; :mod:`xinyong.catalog.law`); ``Conflict`` where there is no repair."""
    newest = catalog.record_types[record_type].repair
    rule = None if newest is None else governing(newest, None, at or date.today())
    if rule is None or not rule.available or rule.earliest == "not_applicable":
        raise Conflict(
            f"记录类型 {record_type} 不适用信用修复 / record type {record_type} cannot be repaired"
            + (f" ({rule.note})" if rule is not None and rule.note else "")
        )
    return rule


def apply_repair(
    conn: Connection,
    *,
    catalog: Catalog,
    record_id: int,
    subject_code: str,
    applied_by: str,
    statement: str,
    conditions_met: Sequence[str],
    commitment_id: int | None = None,
    at: date | None = None,
) -> Repair:
    """Apply for repair of a record about ``subject_code``.

    ``conditions_met``: the catalog's conditions (``conditions_zh`` or ``conditions_en`` wording,
    or their 1-based numbers) the applicant attests; every condition must be among them."""
    today = at or date.today()
    code = normalise_code(subject_code)
    applied_by, statement = required("applied_by", applied_by), required("statement", statement)
    record = record_by_id(conn, record_id)
    key = str(
        conn.execute(select(records.c.record_key).where(records.c.id == record_id)).scalar_one()
    )
    record = current_version(conn, key)
    if record.subject_code != code:
        raise Forbidden(
            f"记录 {record_id} 不是关于 {code} 的 / record {record_id} is not about {code}"
        )
    rule = repair_rule(catalog, record.record_type, today)
    if record.status != "active":
        raise Conflict(
            f"记录 {record.id} 状态为 {record.status}，不能申请修复 / record {record.id} is "
            f"{record.status}; only an active record can be repaired"
        )
    pending = conn.execute(
        select(repairs.c.id).where(
            repairs.c.record_key == key, repairs.c.state == REPAIRS.lifecycle.start
        )
    ).first()
    if pending is not None:
        raise Conflict(f"已有待决的修复申请 {pending.id} / repair {pending.id} is already pending")
    earliest = earliest_repair(catalog, record, today)
    if earliest is not None and today < earliest:
        raise Conflict(
            f"最短公示期届满后方可申请，自 {earliest} 起 / the minimum disclosure period has not "
            f"passed; apply from {earliest}"
        )
    met = _conditions(rule, conditions_met)
    if commitment_id is not None:
        row = conn.execute(
            select(commitments.c.subject_code).where(commitments.c.id == commitment_id)
        ).first()
        if row is None or row.subject_code != code:
            raise NotFound(
                f"承诺 {commitment_id} 不存在或不属于 {code} / no such commitment of {code}"
            )
    authority = rule.decided_by or record.source
    due = due_after(today, DECISION_DEADLINE)
    repair_id = open_case(
        conn,
        REPAIRS,
        {
            "record_id": record.id,
            "record_key": key,
            "subject_code": code,
            "applied_by": applied_by,
            "statement": statement,
            "conditions_met": met,
            "commitment_id": commitment_id,
            "authority": authority,
            "applied_at": datetime.now(UTC),
            "applied_on": today,
            "due_on": due,
        },
        verb="apply",
        actor=applied_by,
        role="subject",
        purpose="信用修复申请 / repair application",
        catalog=catalog,
        at=today,
        detail={"record": record.id, "due_on": due.isoformat()},
    )
    return get_repair(conn, repair_id)


def decide_repair(
    conn: Connection,
    repair_id: int,
    *,
    catalog: Catalog,
    granted: bool,
    authority: str,
    decided_by: str,
    reason: str,
    at: date | None = None,
) -> Repair:
    """The deciding authority's decision; a grant flows through the pipeline."""
    current = get_repair(conn, repair_id)
    today = decision_date(at, current.applied_on)
    state = "granted" if granted else "refused"
    may_move(REPAIRS, current, authority=authority, to=state)
    reason, decided_by = required("reason", reason), required("decided_by", decided_by)
    changed = []
    if granted:
        record = current_version(conn, current.record_key)
        if record.status != "active":
            raise Conflict(
                f"记录 {record.id} 状态已变为 {record.status} / "
                f"record {record.id} is now {record.status}"
            )
        changed.append(new_version(conn, record, status="repaired"))
    move(
        conn,
        REPAIRS,
        current,
        to=state,
        authority=authority,
        verb="decide",
        actor=decided_by,
        role="source",
        purpose="信用修复决定 / repair decision",
        catalog=catalog,
        at=today,
        values={
            "decided_by": decided_by,
            "decided_at": datetime.now(UTC),
            "decided_on": today,
            "decision_reason": reason,
        },
        records=changed,
        detail={"late": current.overdue(today)},
    )
    return get_repair(conn, repair_id)


def get_repair(conn: Connection, repair_id: int) -> Repair:
    return _repair(get_case(conn, REPAIRS, repair_id))


def list_repairs(
    conn: Connection,
    *,
    state: str | None = None,
    subject_code: str | None = None,
    authority: str | None = None,
    overdue_on: date | None = None,
) -> list[Repair]:
    """Repair applications oldest first; ``overdue_on``: only those pending after their deadline."""
    query = select_cases(
        REPAIRS,
        state=state,
        subject_code=subject_code,
        authority=authority,
        overdue_on=overdue_on,
    )
    return [_repair(row) for row in conn.execute(query)]


def _repair(row: Any) -> Repair:
    return from_row(Repair, row, conditions_met=list(row.conditions_met or []))


def _conditions(rule: RepairRule, attested: Sequence[str]) -> list[str]:
    """The rule's conditions (in Chinese) the applicant attests; refuses unknown or missing ones."""
    wanted = list(rule.conditions_zh)
    met: set[str] = set()
    for item in attested:
        text = item.strip()
        if text.isdigit() and 1 <= int(text) <= len(wanted):
            met.add(wanted[int(text) - 1])
        elif text in wanted:
            met.add(text)
        elif text in rule.conditions_en:
            met.add(wanted[rule.conditions_en.index(text)])
        else:
            raise UnusableInput(
                f"{text!r} 不是修复条件之一 / not one of the repair conditions: {'; '.join(wanted)}"
            )
    missing = [c for c in wanted if c not in met]
    if missing:
        raise Conflict(f"修复条件未满足 / conditions not met: {'; '.join(missing)}")
    return [c for c in wanted if c in met]
