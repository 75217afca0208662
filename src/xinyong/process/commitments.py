"""Credit commitments (信用承诺): signed, fulfilled, or breached — and a breach becomes a record.

- ``sign_commitment`` — a subject promises (e.g. to supply the missing documents by a date so an
  approval can go ahead now, 容缺受理). Kinds are the ``commitment_kind`` values of the catalog's
  ``commitment_breach`` record type.
- ``fulfil_commitment`` — the promise was kept.
- ``breach_commitment`` — the accepting authority finds it broken: a ``commitment_breach`` record
  is written as a one-row batch of that authority (with provenance, like any ingested row) and
  goes through ``pipeline.apply_records`` in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong import audit, pipeline
from xinyong.catalog.model import Catalog
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.ingest.load import content_hash, record_identity
from xinyong.process.objections import normalise_code
from xinyong.process.tables import commitments
from xinyong.store.tables import batches, provenance, records

BREACH_TYPE = "commitment_breach"


@dataclass(frozen=True)
class Commitment:
    id: int
    subject_code: str
    subject_name: str
    kind: str
    matter: str
    authority: str
    signed_on: date
    due_on: date | None
    state: str
    breached_on: date | None
    breach: str | None
    breach_record_id: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject_code": self.subject_code,
            "subject_name": self.subject_name,
            "kind": self.kind,
            "matter": self.matter,
            "authority": self.authority,
            "signed_on": self.signed_on.isoformat(),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "state": self.state,
            "breached_on": self.breached_on.isoformat() if self.breached_on else None,
            "breach": self.breach,
            "breach_record_id": self.breach_record_id,
        }


def commitment_kinds(catalog: Catalog) -> dict[str, str]:
    """Kind id → Chinese label, from the catalog's breach record type."""
    spec = catalog.record_types[BREACH_TYPE].field("commitment_kind")
    return {v.id: v.label_zh for v in spec.enum or ()}


def sign_commitment(
    conn: Connection,
    *,
    catalog: Catalog,
    subject_code: str,
    subject_name: str,
    kind: str,
    matter: str,
    authority: str,
    due_on: date | None = None,
    at: date | None = None,
) -> Commitment:
    today = at or date.today()
    code = normalise_code(subject_code)
    kinds = commitment_kinds(catalog)
    spec = catalog.record_types[BREACH_TYPE].field("commitment_kind")
    found = spec.lookup(kind)
    if found is None:
        raise UnusableInput(f"未知承诺类型 / unknown commitment kind {kind!r} ({', '.join(kinds)})")
    if authority not in catalog.authorities:
        raise UnusableInput(f"未知部门 / unknown authority {authority!r}")
    if due_on is not None and due_on < today:
        raise UnusableInput(f"履约期限 {due_on} 早于签署日 / due date before the signing date")
    name, matter = _required("subject_name", subject_name), _required("matter", matter)
    commitment_id = conn.execute(
        insert(commitments).returning(commitments.c.id),
        {
            "subject_code": code,
            "subject_name": name,
            "kind": found.id,
            "matter": matter,
            "authority": authority,
            "signed_on": today,
            "due_on": due_on,
            "state": "open",
            "recorded_at": datetime.now(UTC),
        },
    ).scalar_one()
    audit.record(
        conn,
        actor=authority,
        role="agency",
        purpose="信用承诺 / credit commitment",
        subject=code,
        action="commitment.sign",
        resource=f"commitment:{commitment_id}",
        outcome="open",
    )
    return get_commitment(conn, int(commitment_id))


def fulfil_commitment(
    conn: Connection, commitment_id: int, *, authority: str, at: date | None = None
) -> Commitment:
    current = _open(conn, commitment_id, authority)
    conn.execute(
        update(commitments).where(commitments.c.id == commitment_id).values(state="fulfilled")
    )
    audit.record(
        conn,
        actor=authority,
        role="agency",
        purpose="信用承诺履行 / commitment fulfilled",
        subject=current.subject_code,
        action="commitment.fulfil",
        resource=f"commitment:{commitment_id}",
        outcome="fulfilled",
    )
    return get_commitment(conn, commitment_id)


def breach_commitment(
    conn: Connection,
    commitment_id: int,
    *,
    catalog: Catalog,
    authority: str,
    breach: str,
    found_by: str,
    at: date | None = None,
) -> Commitment:
    """Record a breach: a ``commitment_breach`` record from ``authority``, through the pipeline."""
    today = at or date.today()
    current = _open(conn, commitment_id, authority)
    breach, found_by = _required("breach", breach), _required("found_by", found_by)
    fields: dict[str, Any] = {
        "subject_name": current.subject_name,
        "subject_code": current.subject_code,
        "document_no": f"承诺-{current.id}",
        "decided_on": today.isoformat(),
        "commitment_kind": current.kind,
        "signed_on": current.signed_on.isoformat(),
        "matter": current.matter,
        "breach": breach,
        "found_by": found_by,
    }
    now = datetime.now(UTC)
    row_hash = content_hash(fields)
    record_key = record_identity(BREACH_TYPE, authority, fields, row_hash)
    batch_id = conn.execute(
        insert(batches).returning(batches.c.id),
        {
            "record_type": BREACH_TYPE,
            "source": authority,
            "file_name": f"commitment:{current.id}",
            "file_sha256": hashlib.sha256(
                json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
            ).hexdigest(),
            "catalog_version": catalog.version,
            "started_at": now,
            "finished_at": now,
            "state": "done",
            "accepted": 1,
        },
    ).scalar_one()
    record_id = conn.execute(
        insert(records).returning(records.c.id),
        {
            "record_type": BREACH_TYPE,
            "source": authority,
            "subject_id": None,
            "subject_code": current.subject_code,
            "subject_name": current.subject_name,
            "document_no": fields["document_no"],
            "decided_on": today,
            "valid_from": today,
            "valid_to": None,
            "fields": fields,
            "status": "active",
            "version": 1,
            "supersedes": None,
            "recorded_at": now,
            "superseded_at": None,
            "record_key": record_key,
            "row_hash": row_hash,
        },
    ).scalar_one()
    conn.execute(
        insert(provenance),
        {
            "record_id": record_id,
            "record_key": record_key,
            "batch_id": batch_id,
            "source": authority,
            "row_number": 1,
        },
    )
    pipeline.apply_records(conn, [int(record_id)], catalog=catalog, at=today)
    conn.execute(
        update(commitments)
        .where(commitments.c.id == commitment_id)
        .values(
            state="breached",
            breached_on=today,
            breach=breach,
            breach_record_id=record_id,
            breach_record_key=record_key,
        )
    )
    audit.record(
        conn,
        actor=found_by,
        role="agency",
        purpose="违反信用承诺 / commitment breach",
        subject=current.subject_code,
        action="commitment.breach",
        resource=f"commitment:{commitment_id}",
        outcome="breached",
        detail={"record": int(record_id), "authority": authority},
    )
    return get_commitment(conn, commitment_id)


def get_commitment(conn: Connection, commitment_id: int) -> Commitment:
    row = conn.execute(select(commitments).where(commitments.c.id == commitment_id)).first()
    if row is None:
        raise NotFound(f"承诺 {commitment_id} 不存在 / no commitment {commitment_id}")
    return Commitment(
        id=row.id,
        subject_code=row.subject_code,
        subject_name=row.subject_name,
        kind=row.kind,
        matter=row.matter,
        authority=row.authority,
        signed_on=row.signed_on,
        due_on=row.due_on,
        state=row.state,
        breached_on=row.breached_on,
        breach=row.breach,
        breach_record_id=row.breach_record_id,
    )


def list_commitments(conn: Connection, *, subject_code: str | None = None) -> list[Commitment]:
    query = select(commitments.c.id).order_by(commitments.c.id)
    if subject_code is not None:
        query = query.where(commitments.c.subject_code == subject_code)
    return [get_commitment(conn, cid) for cid in conn.execute(query).scalars()]


def _open(conn: Connection, commitment_id: int, authority: str) -> Commitment:
    current = get_commitment(conn, commitment_id)
    if current.authority != authority:
        raise Forbidden(
            f"承诺 {commitment_id} 由 {current.authority} 受理，不是 {authority} / commitment "
            f"{commitment_id} was accepted by {current.authority}, not {authority}"
        )
    if current.state != "open":
        raise Conflict(f"承诺 {commitment_id} 已是 {current.state} / commitment is {current.state}")
    return current


def _required(name: str, value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise UnusableInput(f"{name} 不能为空 / {name} must not be empty")
    return text
