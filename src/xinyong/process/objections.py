"""Objections (异议): filed by whoever a record concerns, decided by the authority that sent it.

- ``file_objection`` — against a record, or against a list entry (then against the records that
  put the subject on that list). Evidence files are kept in the database (name, size, sha256 and
  the bytes). Each record objected to gets a new version with status ``under_objection``
  (异议处理中), which every view shows; whether its measures stop meanwhile is the rule set's call
  (:mod:`xinyong.process.policy`). The objection is routed to the record's source authority and
  is due on the rule's deadline, counted in Chinese working days.
- ``decide_objection`` — by that authority. Upheld: the record is withdrawn, or corrected (the
  wrong version is marked ``corrected``, the new one carries the corrected fields). Rejected: the
  mark is lifted, with reasons. :func:`xinyong.process.cases.move` does the rest: the changed
  records through the pipeline, the audit event and the feed event ``objection.outcome``.
- ``list_objections`` — all, by state, subject or authority, or only the overdue ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any, Literal

from sqlalchemy import Connection, insert, select

from xinyong.catalog.model import Catalog, FieldType
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.process.cases import (
    OBJECTIONS,
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
from xinyong.process.policy import objection_rule
from xinyong.process.records import current_version, new_version, record_by_id
from xinyong.process.tables import objection_files
from xinyong.store.queries import StoredRecord
from xinyong.store.tables import records

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
FilerRole = Literal["subject", "wrongly_matched", "agent"]
Remedy = Literal["withdraw", "correct"]


@dataclass(frozen=True)
class Evidence:
    """One evidence file as uploaded: its name and bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class Objection(Case):
    case_kind = OBJECTIONS

    id: int
    subject_code: str
    record_id: int | None
    record_key: str | None
    list_id: str | None
    filed_by: str
    filer_role: str
    reason: str
    authority: str
    filed_on: date
    due_on: date
    deadline_rule: str
    state: str
    remedy: str | None
    corrections: dict[str, Any] | None
    decided_by: str | None
    decided_on: date | None
    decision_reason: str | None
    files: list[dict[str, Any]] = field(default_factory=list)


def file_objection(
    conn: Connection,
    *,
    catalog: Catalog,
    subject_code: str,
    reason: str,
    filed_by: str,
    filer_role: FilerRole = "subject",
    record_id: int | None = None,
    list_id: str | None = None,
    evidence: Sequence[Evidence] = (),
    at: date | None = None,
) -> Objection:
    """File an objection against ``record_id`` or against the subject's entry on ``list_id``."""
    today = at or date.today()
    code = normalise_code(subject_code)
    reason, filed_by = required("reason", reason), required("filed_by", filed_by)
    if filer_role not in ("subject", "wrongly_matched", "agent"):
        raise UnusableInput(f"未知的异议人身份 / unknown filer role {filer_role!r}")
    if (record_id is None) == (list_id is None):
        raise UnusableInput("须指定一条记录或一个名单 / name a record or a list, not both or none")
    files = [_checked_file(item) for item in evidence]
    if record_id is not None:
        targets = [_current(conn, record_by_id(conn, record_id))]
        if filer_role != "agent" and targets[0].subject_code != code:
            raise Forbidden(
                f"记录 {record_id} 不是关于 {code} 的 / record {record_id} is not about {code}"
            )
        authority = targets[0].source
    else:
        assert list_id is not None
        targets, authority = _list_targets(conn, catalog, list_id, code)
    for target in targets:
        if target.status == "under_objection":
            raise Conflict(
                f"记录 {target.id} 已有异议在处理中 / record {target.id} is already under objection"
            )
        if target.status == "withdrawn":
            raise Conflict(f"记录 {target.id} 已撤销 / record {target.id} is withdrawn")
    rules = [objection_rule(t.record_type) for t in targets]
    due = due_after(today, *(rule.deadline for rule in rules))
    marked = [new_version(conn, target, status="under_objection") for target in targets]
    objection_id = open_case(
        conn,
        OBJECTIONS,
        {
            "record_id": targets[0].id if record_id is not None else None,
            "record_key": _key(conn, targets[0].id) if record_id is not None else None,
            "list_id": list_id,
            "subject_code": code,
            "filed_by": filed_by,
            "filer_role": filer_role,
            "reason": reason,
            "authority": authority,
            "filed_at": datetime.now(UTC),
            "filed_on": today,
            "due_on": due,
            "deadline_rule": rules[0].describe(catalog),
        },
        verb="file",
        actor=filed_by,
        role=filer_role,
        purpose="异议申请 / objection",
        catalog=catalog,
        at=today,
        records=marked,
        detail={
            "records": [t.id for t in targets],
            "list": list_id,
            "due_on": due.isoformat(),
            "files": [{k: f[k] for k in ("name", "size", "sha256")} for f in files],
        },
    )
    if files:
        conn.execute(insert(objection_files), [{"objection_id": objection_id, **f} for f in files])
    return get_objection(conn, objection_id)


def decide_objection(
    conn: Connection,
    objection_id: int,
    *,
    catalog: Catalog,
    upheld: bool,
    authority: str,
    decided_by: str,
    reason: str,
    remedy: Remedy | None = None,
    corrections: Mapping[str, str] | None = None,
    at: date | None = None,
) -> Objection:
    """The source authority's decision. Upheld needs a ``remedy``; ``correct`` needs
    ``corrections`` (field → value, checked against the record type)."""
    current = get_objection(conn, objection_id)
    today = decision_date(at, current.filed_on)
    state = "upheld" if upheld else "rejected"
    may_move(OBJECTIONS, current, authority=authority, to=state)
    reason, decided_by = required("reason", reason), required("decided_by", decided_by)
    if upheld and remedy not in ("withdraw", "correct"):
        raise UnusableInput(
            "支持异议须选择撤销或更正 / an upheld objection needs --withdraw or --correct"
        )
    if not upheld and (remedy is not None or corrections):
        raise UnusableInput("驳回异议不能更正记录 / a rejected objection changes no record")
    targets = _marked_records(conn, catalog, current)
    checked: dict[str, Any] = {}
    if upheld and remedy == "correct":
        if not corrections:
            raise UnusableInput("更正须给出字段和值 / a correction needs field=value pairs")
        if len(targets) != 1:
            raise UnusableInput("名单异议只能撤销 / a list objection can only withdraw records")
        checked = _checked_corrections(catalog, targets[0].record_type, corrections)
    if not upheld:
        new_ids = [new_version(conn, t, status="active") for t in targets]
    elif remedy == "withdraw":
        new_ids = [new_version(conn, t, status="withdrawn") for t in targets]
    else:
        new_ids = [
            new_version(conn, t, status="active", corrections=checked, old_status="corrected")
            for t in targets
        ]
    move(
        conn,
        OBJECTIONS,
        current,
        to=state,
        authority=authority,
        verb="decide",
        actor=decided_by,
        role="source",
        purpose="异议处理 / objection decision",
        catalog=catalog,
        at=today,
        values={
            "remedy": remedy if upheld else None,
            "corrections": checked or None,
            "decided_by": decided_by,
            "decided_at": datetime.now(UTC),
            "decided_on": today,
            "decision_reason": reason,
        },
        records=new_ids,
        outcome=f"{state}:{remedy}" if upheld else state,
        detail={"late": current.overdue(today)},
        payload={"remedy": remedy if upheld else None},
    )
    return get_objection(conn, objection_id)


def get_objection(conn: Connection, objection_id: int) -> Objection:
    return _objection(conn, get_case(conn, OBJECTIONS, objection_id))


def list_objections(
    conn: Connection,
    *,
    state: str | None = None,
    subject_code: str | None = None,
    authority: str | None = None,
    overdue_on: date | None = None,
) -> list[Objection]:
    """Objections oldest first; ``overdue_on``: only those still open after their deadline."""
    query = select_cases(
        OBJECTIONS,
        state=state,
        subject_code=subject_code,
        authority=authority,
        overdue_on=overdue_on,
    )
    return [_objection(conn, row) for row in conn.execute(query)]


def _objection(conn: Connection, row: Any) -> Objection:
    files = [
        {"name": f.name, "size": f.size, "sha256": f.sha256}
        for f in conn.execute(
            select(objection_files.c.name, objection_files.c.size, objection_files.c.sha256)
            .where(objection_files.c.objection_id == row.id)
            .order_by(objection_files.c.id)
        )
    ]
    return from_row(Objection, row, files=files)


def _checked_file(item: Evidence) -> dict[str, Any]:
    name = PurePath(item.name.replace("\\", "/")).name.strip()
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise UnusableInput(f"证据文件名无效 / bad evidence file name {item.name!r}")
    if not item.content:
        raise UnusableInput(f"证据文件为空 / evidence file {name} is empty")
    if len(item.content) > MAX_EVIDENCE_BYTES:
        raise UnusableInput(
            f"证据文件 {name} 超过 {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB / "
            "evidence file too large"
        )
    return {
        "name": name,
        "size": len(item.content),
        "sha256": hashlib.sha256(item.content).hexdigest(),
        "content": item.content,
    }


def _key(conn: Connection, record_id: int) -> str:
    return str(
        conn.execute(select(records.c.record_key).where(records.c.id == record_id)).scalar_one()
    )


def _current(conn: Connection, record: StoredRecord) -> StoredRecord:
    """The current version of ``record``'s key (an objection is about the record, not a version)."""
    if record.superseded_at is None:
        return record
    return current_version(conn, _key(conn, record.id))


def _list_targets(
    conn: Connection, catalog: Catalog, list_id: str, code: str
) -> tuple[list[StoredRecord], str]:
    definition = catalog.lists.get(list_id)
    if definition is None:
        raise NotFound(f"名单 {list_id} 不存在 / no list {list_id}")
    types = sorted({c.record_type for c in definition.criteria})
    rows = conn.execute(
        select(records.c.id).where(
            records.c.subject_code == code,
            records.c.record_type.in_(types),
            records.c.superseded_at.is_(None),
            records.c.status.in_(("active", "under_objection")),
        )
    ).scalars()
    targets = [record_by_id(conn, rid) for rid in rows]
    if not targets:
        raise NotFound(
            f"{code} 没有列入 {list_id} 的记录 / no record puts {code} on list {list_id}"
        )
    return targets, definition.authority


def _marked_records(conn: Connection, catalog: Catalog, objection: Objection) -> list[StoredRecord]:
    """The current versions this objection marked ``under_objection``."""
    if objection.record_key is not None:
        found = [current_version(conn, objection.record_key)]
    else:
        assert objection.list_id is not None
        found, _ = _list_targets(conn, catalog, objection.list_id, objection.subject_code)
    marked = [r for r in found if r.status == "under_objection"]
    if not marked:
        raise Conflict(
            f"异议 {objection.id} 所涉记录已不在异议状态（可能已被来源部门更新）/ the records of "
            f"objection {objection.id} are no longer under objection "
            "(the source may have resent them)"
        )
    return marked


def _checked_corrections(
    catalog: Catalog, record_type: str, corrections: Mapping[str, str]
) -> dict[str, Any]:
    rtype = catalog.record_types[record_type]
    out: dict[str, Any] = {}
    for name, value in corrections.items():
        spec = rtype.field(name)
        text = str(value).strip()
        if spec.type is FieldType.DATE:
            try:
                out[name] = date.fromisoformat(text).isoformat()
            except ValueError as error:
                raise UnusableInput(
                    f"{name}: 日期应为 YYYY-MM-DD / a date is YYYY-MM-DD"
                ) from error
        elif spec.type is FieldType.ENUM:
            found = spec.lookup(text)
            if found is None:
                raise UnusableInput(f"{name}: {text!r} 不是可选值 / not one of the field's values")
            out[name] = found.id
        elif spec.type in (FieldType.SUBJECT_CODE, FieldType.RIC, FieldType.USCC):
            out[name] = normalise_code(text) if text else None
        else:
            out[name] = text
    return out
