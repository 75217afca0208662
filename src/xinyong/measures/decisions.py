"""Decisions: may this subject do this, on this day, as known on that day — and why.

``check(conn, subject, action, at=None, known_at=None)`` → :class:`Decision`. One indexed lookup
on the restriction index (``restrictions`` by subject), filtered in valid time
(``valid_from <= at <= valid_to``) and recorded time (the rows known on ``known_at``; default:
the current rows). Each row is a fact (a list entry reaching the subject); ``expand`` gives it
the measures of the action it carries, from the catalog (``xinyong.measures.reach``), in the
order the index listed them before it was kept per fact: by entry (as first read), then the
catalog's measure order, then the facts of that entry. Each (fact, measure) becomes a
:class:`Reason` with its measure, list, records, legal basis, authority, end date and way out,
in Chinese and English.

How several reasons combine (``combine``):

1. The outcome is the strongest effect among the reasons, in the order
   **deny > review > prefer > permit**: a punishment that denies beats one that asks for a
   manual review, which beats a reward (a subject on a red and a black list is not preferred);
   no reason at all is ``permit``.
2. ``until`` is taken over the reasons that carry the winning effect: the **latest** end date
   among them, since the outcome holds until the last of them ends; if any of them has no end
   date (it lasts until performance, lifting or removal), ``until`` is ``None``.
3. ``permit`` has no ``until``.

A court's single lifting (单次解除, a record of a type with ``lifts`` in the catalog) that covers
the action on the day replaces each reason it lifts by a ``permit`` reason naming the
lifting decision, its article and its window (``valid_from`` to ``until``) — for the reasons that
come from the court's lists the type's ``lifts`` names; the other reasons
stand, so the subject is permitted that action in that window only (``apply_liftings``).

Every decision gets a ``decision_id`` (a UUID), names the catalog version it was taken under, and
is written to the ``decisions`` table in the caller's transaction (``log=False`` to skip, e.g.
for a dry run), so that it can be looked up (``replay``) and explained later.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any, Literal, NamedTuple, Protocol

from sqlalchemy import Connection, Select, bindparam, insert, or_, select

from xinyong.audit import record as record_event
from xinyong.catalog.model import Catalog, LegalRef, LiftRule, Measure
from xinyong.codes.identifiers import Identifier, identify
from xinyong.errors import NotFound, UnusableInput
from xinyong.measures.reach import reach_of, way_of
from xinyong.measures.tables import decisions, restrictions
from xinyong.metrics import count_check
from xinyong.store.engine import utcnow
from xinyong.store.queries import subject_id_for
from xinyong.store.tables import records, subjects

Outcome = Literal["permit", "deny", "review", "prefer"]

#: Strongest first. The documented order in which effects combine.
PRECEDENCE: tuple[Outcome, ...] = ("deny", "review", "prefer", "permit")

OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "permit": ("准许", "permit"),
    "deny": ("拒绝", "deny"),
    "review": ("人工审查", "review"),
    "prefer": ("优先 / 便利", "prefer"),
    "invalid": ("代码无效", "invalid"),
}


@dataclass(frozen=True)
class Basis:
    """One legal basis: instrument, article, and how it is cited."""

    instrument: str
    article: str | None
    paragraph: int | None
    item: int | None
    citation: str
    title_zh: str
    title_en: str
    summary_zh: str | None = None
    summary_en: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WayOut:
    """How the subject gets out from under a restriction, and who decides."""

    objection_zh: str
    objection_en: str
    decided_by: str
    repair_available: bool
    conditions_zh: tuple[str, ...] = ()
    conditions_en: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "objection_zh": self.objection_zh,
            "objection_en": self.objection_en,
            "decided_by": self.decided_by,
            "repair_available": self.repair_available,
            "conditions_zh": list(self.conditions_zh),
            "conditions_en": list(self.conditions_en),
        }


@dataclass(frozen=True)
class Reason:
    """Why a measure bears on the decision: which rule, record and article, and until when."""

    measure: str
    measure_zh: str
    measure_en: str
    effect: str
    list: str
    list_zh: str
    list_en: str
    records: tuple[int, ...]
    legal_basis: tuple[Basis, ...]
    authority: str
    authority_zh: str
    authority_en: str
    listed_by: str
    valid_from: date | None
    until: date | None
    via_subject: str | None = None
    via_role: str | None = None
    way_out: WayOut | None = None

    @property
    def text_zh(self) -> str:
        basis = "；".join(b.citation for b in self.legal_basis)
        via = (
            f"（作为 {self.via_subject} 的{_ROLE_ZH.get(self.via_role or '', '')}）"
            if self.via_subject
            else ""
        )
        end = self.until.isoformat() if self.until else "解除或移出为止"
        return f"{self.list_zh}{via}：{self.measure_zh}，依据 {basis}，至 {end}"

    @property
    def text_en(self) -> str:
        basis = "; ".join(b.citation for b in self.legal_basis)
        via = f" (as {self.via_role} of {self.via_subject})" if self.via_subject else ""
        end = self.until.isoformat() if self.until else "lifted or removed"
        return f"{self.list_en}{via}: {self.measure_en}, under {basis}, until {end}"

    def as_json(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "list": self.list,
            "records": list(self.records),
            "legal_basis": [b.as_json() for b in self.legal_basis],
            "authority": self.authority,
            "effect": self.effect,
            "measure_name": {"zh": self.measure_zh, "en": self.measure_en},
            "list_name": {"zh": self.list_zh, "en": self.list_en},
            "authority_name": {"zh": self.authority_zh, "en": self.authority_en},
            "listed_by": self.listed_by,
            "valid_from": _iso(self.valid_from),
            "until": _iso(self.until),
            "via": {"subject": self.via_subject, "role": self.via_role}
            if self.via_subject
            else None,
            "text": {"zh": self.text_zh, "en": self.text_en},
            "way_out": self.way_out.as_json() if self.way_out else None,
        }


_ROLE_ZH = {
    "legal_representative": "法定代表人",
    "principal": "主要负责人",
    "actual_controller": "实际控制人",
}


@dataclass(frozen=True)
class Decision:
    """The answer to one check. ``as_json()`` is what ``xinyong check --json`` prints."""

    decision_id: str
    catalog_version: str
    subject: str
    action: str
    at: date
    known_at: datetime | None
    outcome: Outcome
    until: date | None
    reasons: tuple[Reason, ...] = field(default=())
    subject_id: int | None = None
    #: The instruments applied (measures' and lists' legal bases), in force on ``at``.
    instruments: tuple[str, ...] = ()

    @property
    def way_out(self) -> list[dict[str, Any]]:
        return [r.way_out.as_json() for r in self.reasons if r.way_out and r.effect != "prefer"]

    def as_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "catalog_version": self.catalog_version,
            "subject": self.subject,
            "action": self.action,
            "at": self.at.isoformat(),
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "outcome": self.outcome,
            "until": _iso(self.until),
            "reasons": [r.as_json() for r in self.reasons],
            "way_out": self.way_out,
            "instruments": list(self.instruments),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class Bearing(Protocol):
    """What ``combine`` reads of a reason: its effect and its end (None: open-ended)."""

    @property
    def effect(self) -> str: ...

    @property
    def until(self) -> date | None: ...


def combine(reasons: Sequence[Bearing]) -> tuple[Outcome, date | None]:
    """The outcome and ``until`` of several reasons, by the rule in this module's doc (any
    reasons with an ``effect`` and an ``until``: an agency's replica combines its rows so)."""
    effects = {r.effect for r in reasons}
    outcome: Outcome = next((o for o in PRECEDENCE if o in effects), "permit")
    if outcome == "permit":
        return outcome, None
    ends = [r.until for r in reasons if r.effect == outcome]
    if any(end is None for end in ends):
        return outcome, None
    return outcome, max(e for e in ends if e is not None)


def known_at_from(value: date | datetime | None) -> datetime | None:
    """A ``--known-at`` value as a UTC instant: a date means the end of that day (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.max, tzinfo=UTC)


def require_action(catalog: Catalog, action: str) -> None:
    if action not in catalog.actions:
        known = ", ".join(sorted(catalog.actions))
        raise UnusableInput(f"未知行为 / unknown action {action!r} (known: {known})")


def check(
    conn: Connection,
    subject: str,
    action: str,
    at: date | None = None,
    known_at: date | datetime | None = None,
    *,
    catalog: Catalog,
    actor: str | None = None,
    log: bool = True,
    audit: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide whether ``subject`` (a code) may do ``action`` on ``at`` as known on ``known_at``.

    Raises ``InvalidCode`` (a subclass naming the failed check) for a malformed code and
    ``UnusableInput`` for an action the catalog does not know. A well-formed code the store does
    not know is ``permit`` with no reasons. The decision is logged in ``conn``'s transaction,
    and so is ``audit`` (``xinyong.audit.record``'s keyword arguments without ``subject``,
    ``resource`` and ``outcome``, which come from the decision, as ``Checker.check`` takes them):
    if either cannot be written, the transaction fails and no decision is given. A busy caller
    on a long-lived engine uses ``xinyong.measures.checker.Checker`` instead (prepared lookups,
    logging in batches).
    """
    require_action(catalog, action)
    ident = identify(subject)
    day = at or date.today()
    known = known_at_from(known_at)
    sid = subject_id_for(conn, ident)
    rows = index_rows_for(conn, catalog, sid, action, day, known) if sid is not None else []
    lifted = liftable_lists(catalog)
    liftings = (
        liftings_for(conn, catalog, [sid], action, day, known).get(sid, [])
        if sid is not None and any(row.list_id in lifted for row in rows)
        else []
    )
    decision = decide(catalog, ident, action, day, known, sid, rows, liftings)
    if log:
        log_decision(conn, decision, actor=actor)
    if audit is not None:
        record_event(
            conn,
            subject=decision.subject,
            resource=decision.decision_id,
            outcome=decision.outcome,
            **audit,
        )
    if log:
        count_check(action, decision.outcome)
    return decision


def check_audit(
    *, actor: str, role: str, purpose: str, action: str, at: date | None, authority: str | None
) -> dict[str, Any]:
    """The ``audit`` argument of one check (``check``, ``Checker.check``) as every face gives it:
    action ``check:<action>``, the day decided on and the caller's authority in ``detail``."""
    detail: dict[str, Any] = {"at": (at or date.today()).isoformat()}
    if authority is not None:
        detail["authority"] = authority
    return {
        "actor": actor,
        "role": role,
        "purpose": purpose,
        "action": f"check:{action}",
        "detail": detail,
    }


class Fact(NamedTuple):
    """One index row as the check reads it (in id order), with its record's type and the
    linking subject's code."""

    list_id: str
    subject_kind: str
    entry_id: int
    record_id: int
    relation_record_id: int | None
    valid_from: date | None
    valid_to: date | None
    via_subject_id: int | None
    role: str | None
    record_type: str | None
    via_code: str | None


def expand(catalog: Catalog, action: str, facts: Sequence[Fact]) -> list[IndexRow]:
    """Each fact's measures of ``action`` (``reach``), as ``IndexRow``s in the module doc's
    order."""
    reach = reach_of(catalog)
    groups: dict[int, list[tuple[Fact, tuple[Measure, ...]]]] = {}
    for fact in facts:
        found = reach.for_action(fact.list_id, way_of(fact.subject_kind, fact.role), action)
        if found:
            groups.setdefault(fact.entry_id, []).append((fact, found))
    out: list[IndexRow] = []
    for group in groups.values():
        if len(group) == 1:
            fact, found = group[0]
            out.extend(_row(fact, m) for m in found)
            continue
        order = reach.position
        pairs = [(order[m.id], n, fact, m) for n, (fact, found) in enumerate(group) for m in found]
        out.extend(_row(fact, m) for _, _, fact, m in sorted(pairs, key=lambda p: p[:2]))
    return out


def _row(fact: Fact, measure: Measure) -> IndexRow:
    return IndexRow(
        measure.id, measure.effect, fact.list_id, fact.record_id, fact.relation_record_id,
        fact.valid_from, fact.valid_to, fact.via_subject_id, fact.role, fact.record_type,
        fact.via_code,
    )  # fmt: skip


class IndexRow(NamedTuple):
    """One measure behind a decision (a fact of the index and one of its measures), with its
    record's type and the linking subject's code."""

    measure_id: str
    effect: str
    list_id: str
    record_id: int
    relation_record_id: int | None
    valid_from: date | None
    valid_to: date | None
    via_subject_id: int | None
    role: str | None
    record_type: str | None
    via_code: str | None


class Lifting(NamedTuple):
    """A court's single lifting in force on the day for the action asked about."""

    record_id: int
    record_type: str
    document_no: str | None
    valid_from: date | None
    valid_to: date | None


def liftable_lists(catalog: Catalog) -> frozenset[str]:
    """The lists some single lifting may lift (``lifts.lists`` of every type)."""
    return frozenset(n for rt in catalog.record_types.values() if rt.lifts for n in rt.lifts.lists)


def liftings_for(
    conn: Connection,
    catalog: Catalog,
    subject_ids: Collection[int],
    action: str,
    at: date,
    known_at: datetime | None,
) -> dict[int, list[Lifting]]:
    """The single liftings of these subjects for ``action`` whose window holds ``at``, in the
    versions known on ``known_at`` (withdrawn ones left out), by subject."""
    fields_of = lifting_fields(catalog)
    found: dict[int, list[Lifting]] = {}
    if not fields_of or not subject_ids:
        return found
    query = _liftings_query(known_at is not None)
    params = {"subject_ids": sorted(subject_ids), "types": sorted(fields_of), "at": at}
    if known_at is not None:
        params["known_at"] = known_at
    for row in conn.execute(query, params):
        if lifts_action(fields_of, row.record_type, row.fields, action):
            found.setdefault(row.subject_id, []).append(
                Lifting(row.id, row.record_type, row.document_no, row.valid_from, row.valid_to)
            )
    return found


def lifting_fields(catalog: Catalog) -> dict[str, str]:
    """Record type → the field naming the action its single liftings lift."""
    return {rt.id: rt.lifts.action_field for rt in catalog.record_types.values() if rt.lifts}


def lifts_action(
    fields_of: Mapping[str, str], record_type: str, fields: Mapping[str, Any] | None, action: str
) -> bool:
    """Whether a single lifting's record (its type and fields) permits ``action``: its action
    field (``fields_of``, from :func:`lifting_fields`) names it."""
    return (fields or {}).get(fields_of[record_type]) == action


@functools.cache
def _liftings_query(as_known: bool) -> Select[Any]:
    """``liftings_for``'s statement, built once (the check of a restricted subject runs it: built
    per call, its expression cost more than the query)."""
    r = records.c
    at = bindparam("at", type_=r.valid_from.type)
    query = select(
        r.subject_id, r.id, r.record_type, r.document_no, r.valid_from, r.valid_to, r.fields
    ).where(
        r.subject_id.in_(bindparam("subject_ids", expanding=True)),
        r.record_type.in_(bindparam("types", expanding=True)),
        r.status != "withdrawn",
        r.valid_from <= at,
        r.valid_to >= at,
    )
    if as_known:
        known = bindparam("known_at", type_=r.recorded_at.type)
        query = query.where(
            r.recorded_at <= known, or_(r.superseded_at.is_(None), r.superseded_at > known)
        )
    else:
        query = query.where(r.superseded_at.is_(None))
    return query.order_by(r.id)


def lifting_of(
    catalog: Catalog, list_id: str, effect: str, liftings: Sequence[Lifting]
) -> Lifting | None:
    """The lifting that lifts a reason from ``list_id`` with ``effect`` (a reward never is)."""
    if effect == "prefer":
        return None
    return next((f for f in liftings if list_id in _lift_rule(catalog, f.record_type).lists), None)


def apply_liftings(
    catalog: Catalog, reasons: Sequence[Reason], liftings: Sequence[Lifting]
) -> tuple[Reason, ...]:
    """Each reason from a list a lifting lifts becomes that lifting's ``permit`` reason."""
    out: list[Reason] = []
    for reason in reasons:
        lifting = lifting_of(catalog, reason.list, reason.effect, liftings)
        out.append(reason if lifting is None else _lifted(catalog, reason, lifting))
    return tuple(out)


def _lift_rule(catalog: Catalog, record_type: str) -> LiftRule:
    rule = catalog.record_types[record_type].lifts
    assert rule is not None  # liftings_for reads only types with a rule
    return rule


def _lifted(catalog: Catalog, reason: Reason, lifting: Lifting) -> Reason:
    rtype = catalog.record_types[lifting.record_type]
    rule = _lift_rule(catalog, lifting.record_type)
    authority = catalog.authorities.get(rtype.authority)
    number = lifting.document_no or str(lifting.record_id)
    return replace(
        reason,
        measure_zh=f"{reason.measure_zh}——已由{rtype.name_zh}（{number}）单次解除",
        measure_en=f"{reason.measure_en} — lifted once by {rtype.name_en} ({number})",
        effect="permit",
        records=(lifting.record_id,),
        legal_basis=tuple(_basis(catalog, ref) for ref in rule.legal_basis),
        authority=rtype.authority,
        authority_zh=authority.name_zh if authority else rtype.authority,
        authority_en=authority.name_en if authority else rtype.authority,
        valid_from=lifting.valid_from,
        until=lifting.valid_to,
        way_out=None,
    )


def decide(
    catalog: Catalog,
    ident: Identifier,
    action: str,
    day: date,
    known: datetime | None,
    subject_id: int | None,
    rows: list[IndexRow],
    liftings: Sequence[Lifting] = (),
) -> Decision:
    """The decision the index rows give, after the single ``liftings`` in force (a new
    ``decision_id``; not logged): the rows whose measure and list are in force on ``day``
    (:mod:`xinyong.catalog.law`; the index holds what the records say, the law of the day says
    whether it applies)."""
    reasons = tuple(reason_for(catalog, row) for row in rows if in_force_on(catalog, row, day))
    if liftings:
        reasons = apply_liftings(catalog, reasons, liftings)
    outcome, until = combine(reasons)
    return Decision(
        decision_id=str(uuid.uuid4()),
        catalog_version=catalog.version,
        subject=ident.value,
        action=action,
        at=day,
        known_at=known,
        outcome=outcome,
        until=until,
        reasons=reasons,
        subject_id=subject_id,
        instruments=instruments_applied(catalog, reasons),
    )


def in_force_on(catalog: Catalog, row: IndexRow, day: date) -> bool:
    """Whether the measure and the list behind an index row hold on ``day`` (an id the catalog
    does not know is kept: the footprint check refuses such a catalog before it gets here)."""
    measure = catalog.measures.get(row.measure_id)
    list_def = catalog.lists.get(row.list_id)
    return all(rule is None or rule.governs(None, day) for rule in (measure, list_def))


def instruments_applied(catalog: Catalog, reasons: Sequence[Reason]) -> tuple[str, ...]:
    """The instruments a decision applied: each reason's own bases (a single lifting's), its
    measure's and list's legal bases, each instrument once, in order."""
    found: dict[str, None] = {}
    for reason in reasons:
        for basis in reason.legal_basis:
            found.setdefault(basis.instrument, None)
        measure = catalog.measures.get(reason.measure)
        list_def = catalog.lists.get(reason.list)
        for rule in (measure, list_def):
            for ref in rule.legal_basis if rule is not None else ():
                found.setdefault(ref.instrument, None)
    return tuple(found)


def lookup(conn: Connection, subject_id: int, at: date, known_at: datetime | None) -> list[Any]:
    """The facts behind a decision: the one indexed lookup (by subject; in id order)."""
    r = restrictions.c
    query = select(restrictions).where(
        r.subject_id == subject_id,
        or_(r.valid_from.is_(None), r.valid_from <= at),
        or_(r.valid_to.is_(None), r.valid_to >= at),
    )
    if known_at is None:
        query = query.where(r.superseded_at.is_(None))
    else:
        query = query.where(
            r.recorded_at <= known_at, or_(r.superseded_at.is_(None), r.superseded_at > known_at)
        )
    return list(conn.execute(query.order_by(r.id)))


def index_rows_for(
    conn: Connection,
    catalog: Catalog,
    subject_id: int,
    action: str,
    at: date,
    known_at: datetime | None,
) -> list[IndexRow]:
    """``lookup`` with each row's record type and linking subject's code, expanded to the
    measures of ``action`` (``expand``)."""
    lists = reach_of(catalog).lists_for(action)
    rows = [r for r in lookup(conn, subject_id, at, known_at) if r.list_id in lists]
    if not rows:
        return []
    codes = _codes(conn, {r.via_subject_id for r in rows if r.via_subject_id is not None})
    types = _record_types(conn, {r.record_id for r in rows}, {r.record_key for r in rows})
    facts = [
        Fact(
            row.list_id, row.subject_kind, row.entry_id, row.record_id, row.relation_record_id,
            row.valid_from, row.valid_to, row.via_subject_id, row.role,
            types.get(row.record_id),
            codes.get(row.via_subject_id) if row.via_subject_id else None,
        )
        for row in rows
    ]  # fmt: skip
    return expand(catalog, action, facts)


def _codes(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        r.id: r.primary_code or str(r.id)
        for r in conn.execute(
            select(subjects.c.id, subjects.c.primary_code).where(subjects.c.id.in_(ids))
        )
    }


def _record_types(conn: Connection, ids: set[int], keys: set[str]) -> dict[int, str]:
    """Record types by id; ``keys`` (the records' keys) confine the lookup to their partitions."""
    query = select(records.c.id, records.c.record_type).where(
        records.c.id.in_(ids), records.c.record_key.in_(keys)
    )
    return dict(conn.execute(query).all())


def reason_for(catalog: Catalog, row: IndexRow) -> Reason:
    """The reason one index row gives, in Chinese and English."""
    static = _static_reason(catalog, row.measure_id, row.list_id, row.record_type)
    return Reason(
        **static,
        effect=row.effect,
        records=tuple(r for r in (row.record_id, row.relation_record_id) if r is not None),
        valid_from=row.valid_from,
        until=row.valid_to,
        via_subject=(row.via_code or str(row.via_subject_id)) if row.via_subject_id else None,
        via_role=row.role,
    )


#: The parts of a reason that depend only on the catalog, its measure, list and record type.
_STATIC: dict[tuple[int, str, str, str | None], dict[str, Any]] = {}


def _static_reason(
    catalog: Catalog, measure_id: str, list_id: str, record_type: str | None
) -> dict[str, Any]:
    key = (id(catalog), measure_id, list_id, record_type)
    found = _STATIC.get(key)
    if found is not None and found["_catalog"] is catalog:
        return {k: v for k, v in found.items() if k != "_catalog"}
    measure = catalog.measures.get(measure_id)
    list_def = catalog.lists.get(list_id)
    bases: list[Basis] = []
    if measure is not None:
        bases.extend(_basis(catalog, ref) for ref in measure.legal_basis)
    agency_id = measure.implementing_agency if measure else ""
    agency = catalog.authorities.get(agency_id)
    listed_by = list_def.authority if list_def else ""
    static: dict[str, Any] = {
        "measure": measure_id,
        "measure_zh": measure.name_zh if measure else measure_id,
        "measure_en": measure.name_en if measure else measure_id,
        "list": list_id,
        "list_zh": list_def.name_zh if list_def else list_id,
        "list_en": list_def.name_en if list_def else list_id,
        "legal_basis": tuple(bases),
        "authority": agency_id,
        "authority_zh": agency.name_zh if agency else agency_id,
        "authority_en": agency.name_en if agency else agency_id,
        "listed_by": listed_by,
        "way_out": _way_out(catalog, record_type, listed_by),
    }
    if len(_STATIC) > 10_000:
        _STATIC.clear()
    _STATIC[key] = {**static, "_catalog": catalog}
    return static


def _basis(catalog: Catalog, ref: LegalRef) -> Basis:
    inst = catalog.instruments[ref.instrument]
    art = catalog.article(ref)
    return Basis(
        instrument=ref.instrument,
        article=ref.article,
        paragraph=ref.paragraph,
        item=ref.item,
        citation=catalog.cite(ref),
        title_zh=inst.title_zh,
        title_en=inst.title_en,
        summary_zh=art.summary_zh if art else None,
        summary_en=art.summary_en if art else None,
    )


def _way_out(catalog: Catalog, record_type: str | None, listed_by: str) -> WayOut:
    rtype = catalog.record_types.get(record_type or "")
    repair = rtype.repair if rtype else None
    decider = (repair.decided_by if repair and repair.decided_by else None) or listed_by
    authority = catalog.authorities.get(decider)
    name_zh = authority.name_zh if authority else decider
    name_en = authority.name_en if authority else decider
    return WayOut(
        objection_zh=f"认为信息有误的，可向{name_zh}提出异议或申请纠正；异议期间可申请核查",
        objection_en=f"if the information is wrong, object to or ask {name_en} to correct it",
        decided_by=decider,
        repair_available=bool(repair and repair.available),
        conditions_zh=tuple(repair.conditions_zh) if repair else (),
        conditions_en=tuple(repair.conditions_en) if repair else (),
    )


def log_decision(conn: Connection, decision: Decision, *, actor: str | None = None) -> None:
    """Write a decision to the ``decisions`` table (in the caller's transaction)."""
    conn.execute(insert(decisions), [decision_row(decision, actor=actor)])


def decision_row(decision: Decision, *, actor: str | None = None) -> dict[str, Any]:
    return {
        "decision_id": decision.decision_id,
        "catalog_version": decision.catalog_version,
        "subject": decision.subject,
        "subject_id": decision.subject_id,
        "action": decision.action,
        "at": decision.at,
        "known_at": decision.known_at,
        "outcome": decision.outcome,
        "until": decision.until,
        "reasons": [r.as_json() for r in decision.reasons],
        "actor": actor,
        "decided_at": utcnow(),
    }


def logged(conn: Connection, decision_id: str) -> dict[str, Any]:
    """A logged decision as it was taken (``NotFound`` if there is none)."""
    row = conn.execute(select(decisions).where(decisions.c.decision_id == decision_id)).first()
    if row is None:
        raise NotFound(f"没有这项决定 / no decision {decision_id}")
    return dict(row._mapping)


def replay(conn: Connection, decision_id: str, *, catalog: Catalog) -> Decision:
    """Take a logged decision again with the same inputs, as known when it was first taken."""
    row = logged(conn, decision_id)
    return check(
        conn,
        row["subject"],
        row["action"],
        row["at"],
        row["known_at"] or row["decided_at"],
        catalog=catalog,
        log=False,
    )
