"""What each audience may see, in one place. Tests walk the whole matrix.

Audiences (``Audience``): ``public`` (anyone, no audit), ``agency`` (an implementing agency),
``source`` (the department that sent a record), ``subject`` (the subject itself) and
``operator`` (the platform's staff). Everyone but the public is audited on every read.

A record is shown to an audience when all of these hold:

1. its record type's ``disclosure`` class is among ``DISCLOSURE_FOR[audience]`` (a source
   department also sees every record it sent itself);
2. its status is among ``STATUSES_FOR[audience]``: the public sees records in force and under
   objection; a repaired record stays visible to authorities that may still see it by law,
   never to the public; a withdrawn record only to the subject, its source and the operator;
3. for the public only: the disclosure period has not ended on the query date, and an
   individual's record is public only where its instrument publishes individuals by name
   (``PUBLIC_FOR_INDIVIDUALS``: judgment defaulters, consumption restriction orders, major tax
   violations, the railway and aviation lists). Other penalties on individuals are in principle
   not displayed (58号, per the catalog's note on ``admin_penalty``).

Fields: the public never sees a citizen ID number whole (``3501**********123X``), nor an
individual's address or phone; enterprises are shown as the law publishes them, their unified
social credit code in full (a legal representative's ID number inside their records is still
masked). What is masked goes by what a value is, not by its length (:mod:`.masking`). The other
audiences see the fields in full, and are audited. Labels for all these codes: :mod:`.labels`.
"""

from __future__ import annotations

from typing import Literal, get_args

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

#: Audiences for whom a record stops showing when its disclosure period ends.
PERIOD_BOUND: frozenset[str] = frozenset({"public"})

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
PRIVATE_FIELD_PARTS: tuple[str, ...] = ("address", "residence", "domicile", "phone", "mobile")

#: Audiences whose reads write an audit event.
AUDITED: frozenset[str] = frozenset(AUDIENCES) - {"public"}


def check_audience(audience: str) -> str:
    from xinyong.errors import UnusableInput

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
) -> bool:
    """Whether ``audience`` sees a record with these properties (the whole policy, one function)."""
    if status not in STATUSES_FOR[audience]:
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


def is_private_field(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in PRIVATE_FIELD_PARTS)
