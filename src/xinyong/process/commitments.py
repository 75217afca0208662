"""Credit commitments (信用承诺): signed, fulfilled, or breached — and a breach becomes a record.

- ``sign_commitment`` — a subject promises (e.g. to supply the missing documents by a date so an
  approval can go ahead now, 容缺受理). Kinds are the ``commitment_kind`` values of the catalog's
  ``commitment_breach`` record type.
- ``fulfil_commitment`` — the accepting authority finds the promise kept.
- ``breach_commitment`` — the accepting authority finds it broken: a ``commitment_breach`` record
  is written as a one-row batch of that authority (``records.new_record``: with provenance, like
  any ingested row) and goes through the pipeline in the same transaction.

Only the accepting authority may fulfil or breach, and only an open commitment
(:mod:`xinyong.process.cases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from xinyong.catalog.model import Catalog
from xinyong.errors import UnusableInput
from xinyong.process.cases import (
    COMMITMENTS,
    Case,
    from_row,
    get_case,
    may_move,
    move,
    normalise_code,
    open_case,
    required,
    select_cases,
)
from xinyong.process.records import new_record

BREACH_TYPE = "commitment_breach"


@dataclass(frozen=True)
class Commitment(Case):
    case_kind = COMMITMENTS

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
    name, matter = required("subject_name", subject_name), required("matter", matter)
    commitment_id = open_case(
        conn,
        COMMITMENTS,
        {
            "subject_code": code,
            "subject_name": name,
            "kind": found.id,
            "matter": matter,
            "authority": authority,
            "signed_on": today,
            "due_on": due_on,
            "recorded_at": datetime.now(UTC),
        },
        verb="sign",
        actor=authority,
        role="agency",
        purpose="信用承诺 / credit commitment",
        catalog=catalog,
        at=today,
    )
    return get_commitment(conn, commitment_id)


def fulfil_commitment(
    conn: Connection,
    commitment_id: int,
    *,
    catalog: Catalog,
    authority: str,
    at: date | None = None,
) -> Commitment:
    """The accepting authority finds the promise kept."""
    current = get_commitment(conn, commitment_id)
    move(
        conn,
        COMMITMENTS,
        current,
        to="fulfilled",
        authority=authority,
        verb="fulfil",
        actor=authority,
        role="agency",
        purpose="信用承诺履行 / commitment fulfilled",
        catalog=catalog,
        at=at or date.today(),
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
    current = get_commitment(conn, commitment_id)
    may_move(COMMITMENTS, current, authority=authority, to="breached")
    breach, found_by = required("breach", breach), required("found_by", found_by)
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
    record_id, record_key = new_record(
        conn,
        record_type=BREACH_TYPE,
        source=authority,
        fields=fields,
        origin=f"commitment:{current.id}",
        catalog_version=catalog.version,
        on=today,
    )
    move(
        conn,
        COMMITMENTS,
        current,
        to="breached",
        authority=authority,
        verb="breach",
        actor=found_by,
        role="agency",
        purpose="违反信用承诺 / commitment breach",
        catalog=catalog,
        at=today,
        values={
            "breached_on": today,
            "breach": breach,
            "breach_record_id": record_id,
            "breach_record_key": record_key,
        },
        records=[record_id],
    )
    return get_commitment(conn, commitment_id)


def get_commitment(conn: Connection, commitment_id: int) -> Commitment:
    return from_row(Commitment, get_case(conn, COMMITMENTS, commitment_id))


def list_commitments(conn: Connection, *, subject_code: str | None = None) -> list[Commitment]:
    """A subject's commitments (or all), in the order they were signed."""
    query = select_cases(COMMITMENTS, subject_code=subject_code, by_due_date=False)
    return [from_row(Commitment, row) for row in conn.execute(query)]
