"""What each audience may see, in one place. Tests walk the whole matrix.

Audiences (``Audience``): ``public`` (anyone, no audit), ``agency`` (an implementing agency),
``source`` (the department that sent a record), ``subject`` (the subject itself) and
``operator`` (the platform's staff). Everyone but the public is audited on every read.

A record is shown to an audience when all of these hold:

1. its record type's ``disclosure`` class is among ``DISCLOSURE_FOR[audience]`` (a source
   department also sees every record it sent itself);
2. its status is among ``STATUSES_FOR[audience]``: the public sees records in force and under
   objection; a repaired record is never shown to the public, and to implementing agencies
   only while the repair rule in force on the query date lets authorities keep sharing it
   (NDRC order No. 58 stopped only public display; order No. 36, from 2026-04-01 as reported,
   ends sharing and use too: ``RepairRule.ends_sharing``, read through
   :func:`xinyong.catalog.periods.repair_ends_sharing`); the source department, the subject and
   the operator still see it (the finding, the subject's own file, the audit trail); a
   withdrawn record only to the subject, its source and the operator;
3. for the public only: the disclosure period has not ended on the query date, and an
   individual's record is public only where its instrument publishes individuals by name
   (``PUBLIC_FOR_INDIVIDUALS``: judgment defaulters, consumption restriction orders, major tax
   violations, the railway and aviation lists). Other penalties on individuals are in principle
   not displayed (58号, per the catalog's note on ``admin_penalty``).

A record shows only from the day it holds (``valid_from``, else ``decided_on``), and only if the
catalog in force knows its type (:func:`shows_record` applies all of this to a stored record).
The public knows an individual only through a record it may see: with none, the person's file
does not exist for the public (:func:`file_exists`) — no page, no search hit, no report.

List entries in force (:func:`may_see_entry`): a list is published as a whole by its legal
basis, so an audience sees an entry whose record is in a status it may see, whatever the record
type's own disclosure class (the A-grade taxpayers list publishes what tax credit ratings, shared
among authorities only, say); the public sees individuals' entries only on the instruments that
publish people by name. The record's own details still follow :func:`may_see`. The list pages
filter with the same rule in SQL (:func:`entry_shown_sql`).

Fields: the public never sees a citizen ID number whole (``3501**********123X``), nor an
individual's address or phone; enterprises are shown as the law publishes them, their unified
social credit code in full (a legal representative's ID number inside their records is still
masked). What is masked goes by what a value is, not by its length (:mod:`.masking`). The other
audiences see the fields in full, and are audited. Labels for all these codes: :mod:`.labels`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from sqlalchemy import ColumnElement, and_, or_

from xinyong.catalog import periods
from xinyong.catalog.model import Catalog
from xinyong.errors import UnusableInput
from xinyong.store.queries import StoredRecord

Audience = Literal["public", "agency", "source", "subject", "operator"]
AUDIENCES: tuple[str, ...] = get_args(Audience)

DISCLOSURE_FOR: dict[str, frozenset[str]] = {
    "public": frozenset({"public"}),
    "agency": frozenset({"public", "shared"}),
    "source": frozenset({"public", "shared"}),
    "subject": frozenset({"public", "shared", "subject_only"}),
    "operator": frozenset({"public", "shared", "subject_only"}),
}

STATUSES_FOR: dict[str, frozenset[str]] = {
    "public": frozenset({"active", "under_objection"}),
    "agency": frozenset({"active", "under_objection", "repaired"}),
    "source": frozenset({"active", "under_objection", "repaired", "withdrawn"}),
    "subject": frozenset({"active", "under_objection", "repaired", "withdrawn"}),
    "operator": frozenset({"active", "under_objection", "repaired", "withdrawn"}),
}

#: Audiences who stop seeing a repaired record where the repair rule ends sharing (order No. 36).
SHARING_ENDS_FOR: frozenset[str] = frozenset({"agency"})

#: Audiences for whom a record stops showing when its disclosure period ends.
PERIOD_BOUND: frozenset[str] = frozenset({"public"})

#: Audiences who, asking about a past (or future) date, see only what they may see on that date
#: AND today: a past date never re-publishes a record whose period ended, a repaired or withdrawn
#: record, or a list entry that has ended. The others keep their own history.
TODAY_BOUND: frozenset[str] = frozenset({"public"})

#: Record types whose instruments publish individuals by name (and masked ID number).
PUBLIC_FOR_INDIVIDUALS: frozenset[str] = frozenset(
    {
        "judgment_defaulter",
        "consumption_restriction_order",
        "major_tax_violation",
        "railway_safety_violation",
        "aviation_safety_violation",
    }
)

#: Audiences that see identifiers and private fields unmasked.
UNMASKED: frozenset[str] = frozenset({"agency", "source", "subject", "operator"})

#: Field names (or parts of names) that hold an individual's address or phone: never public.
#: The Chinese parts catch a department's own columns, which ingest keeps under their headers.
PRIVATE_FIELD_PARTS: tuple[str, ...] = (
    "address",
    "residence",
    "domicile",
    "phone",
    "mobile",
    "住址",
    "地址",
    "住所",
    "电话",
    "手机",
    "联系方式",
)

#: Audiences whose reads write an audit event.
AUDITED: frozenset[str] = frozenset(AUDIENCES) - {"public"}


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise UnusableInput(
            f"未知的查看者 / unknown audience {audience!r} ({', '.join(AUDIENCES)})"
        )
    return audience


def may_see(
    audience: str,
    *,
    disclosure: str,
    record_type: str,
    status: str,
    subject_kind: str,
    period_open: bool,
    own_record: bool = False,
    repair_ends_sharing: bool = False,
) -> bool:
    """Whether ``audience`` sees a record with these properties (the whole policy, one function).
    ``repair_ends_sharing``: a repair under the rule in force ends sharing among authorities."""
    if status not in STATUSES_FOR[audience]:
        return False
    if status == "repaired" and repair_ends_sharing and audience in SHARING_ENDS_FOR:
        return False
    if disclosure not in DISCLOSURE_FOR[audience] and not (audience == "source" and own_record):
        return False
    if status == "withdrawn" and audience == "source" and not own_record:
        return False
    if audience in PERIOD_BOUND and not period_open:
        return False
    if audience == "public" and subject_kind == "individual":
        return record_type in PUBLIC_FOR_INDIVIDUALS
    return True


def shows_record(
    audience: str,
    catalog: Catalog,
    record: StoredRecord,
    *,
    subject_kind: str,
    at: date,
    source: str | None = None,
) -> bool:
    """Whether ``audience`` sees this stored record on ``at`` (``source``: the authority a
    ``source`` audience reads as, which sees its own records in full)."""
    start = record.valid_from or record.decided_on
    if start is not None and start > at:
        return False
    rtype = catalog.record_types.get(record.record_type)
    if rtype is None:
        return False
    return may_see(
        audience,
        disclosure=rtype.disclosure,
        record_type=record.record_type,
        status=record.status,
        subject_kind=subject_kind,
        period_open=periods.disclosure(rtype, record, at).is_open(at),
        own_record=source is not None and record.source == source,
        repair_ends_sharing=periods.repair_ends_sharing(rtype, at),
    )


def file_exists(audience: str, *, subject_kind: str, records_shown: int) -> bool:
    """Whether the subject's file exists for ``audience``: the public knows an individual only
    through a record it may see."""
    return not (audience == "public" and subject_kind == "individual" and records_shown == 0)


def may_see_entry(audience: str, *, record_type: str, status: str, subject_kind: str) -> bool:
    """Whether ``audience`` sees a list entry in force whose record has this type and status."""
    if status not in STATUSES_FOR[audience]:
        return False
    if audience == "public" and subject_kind == "individual":
        return record_type in PUBLIC_FOR_INDIVIDUALS
    return True


def entry_shown_sql(
    audience: str,
    *,
    record_type: ColumnElement[str],
    status: ColumnElement[str],
    individual: ColumnElement[bool],
) -> ColumnElement[bool]:
    """:func:`may_see_entry` as a SQL condition over a query's columns."""
    condition = status.in_(sorted(STATUSES_FOR[audience]))
    if audience != "public":
        return condition
    return and_(
        condition,
        or_(~individual, record_type.in_(sorted(PUBLIC_FOR_INDIVIDUALS))),
    )


def is_private_field(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in PRIVATE_FIELD_PARTS)
