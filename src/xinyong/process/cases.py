"""Cases (办件): what objections, repair applications and credit commitments have in common.

A case is one row of its kind's table: about one subject, handled by one authority, due on a
date, in a state of its kind's :mod:`~xinyong.process.lifecycle`. The three modules over this one
(``objections``, ``repair``, ``commitments``) keep only their own rules; opening a case and
moving it happen here, the same way for every kind, in the caller's transaction:

``open_case``
    the row in its first state; the records it marked run through the pipeline; an audit event
    ``<kind>.<verb>`` (``objection.file``, ``repair.apply``, ``commitment.sign``).
``may_move`` (before the kind changes anything) and ``move`` (after)
    1. only the case's authority may move it — ``Forbidden`` otherwise. The acting authority is
       the one the caller authenticated (the API's token, the CLI's ``--authority``), never a
       name taken from a request body;
    2. only a move the lifecycle allows — ``Conflict`` otherwise (so a second decision is
       refused, and of two deciders at once only the first wins: the row changes only while it
       is still in the state it was read in);
    3. the records the move changed run through :func:`xinyong.pipeline.apply_records`, once;
    4. an audit event ``<kind>.<verb>`` with the authority, the records and the detail given;
    5. the kind's feed event, if it has one (``objection.outcome``, ``repair.outcome``), with
       ``<kind>_id``, ``outcome`` (the new state) and ``records`` (the changed record ids).

Due dates count Chinese working days (``due_after``); ``select_cases`` lists any kind alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection, Select, Table, insert, select, update

from xinyong import audit, pipeline
from xinyong.catalog.model import Catalog, Duration
from xinyong.codes.identifiers import identify
from xinyong.errors import Conflict, Forbidden, InvalidCode, NotFound, UnusableInput
from xinyong.feed import emit
from xinyong.process.lifecycle import COMMITMENT, OBJECTION, REPAIR, Lifecycle
from xinyong.process.policy import deadline_after
from xinyong.process.tables import commitments, objections, repairs


@dataclass(frozen=True)
class CaseKind:
    """A kind of case: its lifecycle, its table and the feed event its moves emit (if any)."""

    lifecycle: Lifecycle
    table: Table
    outcome_event: str | None = None

    @property
    def name(self) -> str:
        return self.lifecycle.name


OBJECTIONS = CaseKind(OBJECTION, objections, outcome_event="objection.outcome")
REPAIRS = CaseKind(REPAIR, repairs, outcome_event="repair.outcome")
COMMITMENTS = CaseKind(COMMITMENT, commitments)


class Case:
    """What every case offers; the frozen dataclasses ``Objection``, ``Repair`` and
    ``Commitment`` mix it in and name their ``case_kind``."""

    case_kind: ClassVar[CaseKind]
    #: Columns kept for the store's own use, not shown in ``as_json``.
    internal: ClassVar[tuple[str, ...]] = ("record_key",)
    __dataclass_fields__: ClassVar[dict[str, Any]]

    id: int
    subject_code: str
    authority: str
    state: str
    due_on: date | None

    def overdue(self, today: date) -> bool:
        """Still in its first state after its due date (the due date itself is still in time)."""
        return (
            self.state == self.case_kind.lifecycle.start
            and self.due_on is not None
            and today > self.due_on
        )

    def as_json(self, today: date | None = None) -> dict[str, Any]:
        """Every field (dates as ISO text), and with ``today`` whether it is ``overdue``."""
        data = {
            f.name: _json_value(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in self.internal
        }
        if today is not None:
            data["overdue"] = self.overdue(today)
        return data


C = TypeVar("C", bound=Case)


def from_row(cls: type[C], row: Any, **given: Any) -> C:
    """A case's dataclass from its table row: each field from the column of its name, unless
    ``given``."""
    values = row._mapping
    return cls(
        **{
            f.name: given[f.name] if f.name in given else values[f.name]
            for f in dataclasses.fields(cls)
            if f.init and (f.name in given or f.name in values)
        }
    )


def normalise_code(code: str) -> str:
    """A subject code as stored (``identify``), or ``UnusableInput`` naming why it is invalid."""
    try:
        return identify(code).value
    except InvalidCode as error:
        raise UnusableInput(f"{code!r}: {error.bilingual()}") from error


def required(name: str, value: str) -> str:
    """``value`` stripped; ``UnusableInput`` if nothing is left."""
    text = (value or "").strip()
    if not text:
        raise UnusableInput(f"{name} 不能为空 / {name} must not be empty")
    return text


def due_after(start: date, *periods: Duration) -> date:
    """The latest of the deadlines ``periods`` after ``start`` (working days, or calendar days
    rolled to a working day: :func:`xinyong.process.policy.deadline_after`)."""
    return max(deadline_after(start, period) for period in periods)


def get_case(conn: Connection, kind: CaseKind, case_id: int) -> Any:
    """The row of case ``case_id``; ``NotFound`` if there is none."""
    row = conn.execute(select(kind.table).where(kind.table.c.id == case_id)).first()
    if row is None:
        life = kind.lifecycle
        raise NotFound(f"{life.noun_zh} {case_id} 不存在 / no {life.noun_en} {case_id}")
    return row


def select_cases(
    kind: CaseKind,
    *,
    state: str | None = None,
    subject_code: str | None = None,
    authority: str | None = None,
    overdue_on: date | None = None,
    by_due_date: bool = True,
) -> Select[Any]:
    """Cases of ``kind``, oldest due date first (else by id), filtered alike; ``overdue_on``:
    only those still in their first state after their due date."""
    table, life = kind.table, kind.lifecycle
    order = (table.c.due_on, table.c.id) if by_due_date else (table.c.id,)
    query = select(table).order_by(*order)
    if state is not None:
        if state not in life.states:
            raise UnusableInput(
                f"{life.noun_zh}没有 {state} 状态 / no {life.noun_en} state is called "
                f"{state!r} ({', '.join(life.states)})"
            )
        query = query.where(table.c.state == state)
    if subject_code is not None:
        query = query.where(table.c.subject_code == subject_code)
    if authority is not None:
        query = query.where(table.c.authority == authority)
    if overdue_on is not None:
        query = query.where(table.c.state == life.start, table.c.due_on < overdue_on)
    return query


def open_case(
    conn: Connection,
    kind: CaseKind,
    values: Mapping[str, Any],
    *,
    verb: str,
    actor: str,
    role: str,
    purpose: str,
    catalog: Catalog,
    at: date,
    records: Sequence[int] = (),
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Insert a case of ``kind`` (``values`` are its columns but ``state``) in its first state,
    run the ``records`` it changed through the pipeline, audit it; returns its id."""
    start = kind.lifecycle.start
    table = kind.table
    case_id = int(
        conn.execute(insert(table).returning(table.c.id), {**values, "state": start}).scalar_one()
    )
    if records:
        pipeline.apply_records(conn, list(records), catalog=catalog, at=at)
    audit.record(
        conn,
        actor=actor,
        role=role,
        purpose=purpose,
        subject=values["subject_code"],
        action=f"{kind.name}.{verb}",
        resource=f"{kind.name}:{case_id}",
        outcome=start,
        detail={"authority": values["authority"], **(detail or {})},
    )
    return case_id


def decision_date(at: date | None, filed_on: date) -> date:
    """The business date of a decision: ``at`` (default today), never in the future nor before
    the case was filed (``UnusableInput``)."""
    today = date.today()
    when = at or today
    if when > today or when < filed_on:
        raise UnusableInput(
            f"决定日期 {when} 须在受理日 {filed_on} 与今天 {today} 之间 / the decision date {when} "
            f"must lie between the filing date {filed_on} and today {today}"
        )
    return when


def may_move(kind: CaseKind, case: Case, *, authority: str, to: str) -> None:
    """Refuse a move by any authority but the case's (``Forbidden``) or one its lifecycle does
    not allow (``Conflict``). Call it before changing anything for the move."""
    if authority != case.authority:
        life = kind.lifecycle
        raise Forbidden(
            f"{life.noun_zh} {case.id} 由 {case.authority} 办理，不是 {authority} / "
            f"{life.noun_en} {case.id} is for {case.authority} to handle, not {authority}"
        )
    kind.lifecycle.check(case.id, case.state, to)


def move(
    conn: Connection,
    kind: CaseKind,
    case: Case,
    *,
    to: str,
    authority: str,
    verb: str,
    actor: str,
    role: str,
    purpose: str,
    catalog: Catalog,
    at: date,
    values: Mapping[str, Any] | None = None,
    records: Sequence[int] = (),
    outcome: str | None = None,
    detail: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Move ``case`` to state ``to`` (with its other changed columns ``values``): run the
    ``records`` the move changed through the pipeline, update the row, audit it (``outcome``:
    ``to`` unless given) and emit the kind's feed event (with ``payload`` added)."""
    may_move(kind, case, authority=authority, to=to)
    table = kind.table
    if records:
        pipeline.apply_records(conn, list(records), catalog=catalog, at=at)
    changed = conn.execute(
        update(table)
        .where(table.c.id == case.id, table.c.state == case.state)
        .values(**(values or {}), state=to)
    ).rowcount
    if changed != 1:  # moved meanwhile by another transaction
        kind.lifecycle.check(case.id, get_case(conn, kind, case.id).state, to)
        raise Conflict(f"{kind.lifecycle.noun_zh} {case.id} 已变更 / {kind.name} {case.id} changed")
    audit.record(
        conn,
        actor=actor,
        role=role,
        purpose=purpose,
        subject=case.subject_code,
        action=f"{kind.name}.{verb}",
        resource=f"{kind.name}:{case.id}",
        outcome=outcome or to,
        detail={"authority": authority, "records": list(records), **(detail or {})},
    )
    if kind.outcome_event is not None:
        emit(
            conn,
            kind.outcome_event,
            case.subject_code,
            {
                f"{kind.name}_id": case.id,
                "outcome": to,
                "records": list(records),
                **(payload or {}),
            },
        )


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
