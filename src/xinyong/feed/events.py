"""Events: what the feed says about a change, written to the outbox in the change's transaction.

An event type has two dot-separated tokens (``record.added``), so a JetStream subject is
``<prefix>.<type>.<province>``: ``xinyong.events.restriction.added.520000``. A consumer filters
by family (``xinyong.events.restriction.>``) or by province (``xinyong.events.*.*.520000``).
Events whose subject has no known region go to province ``000000``.

The registry of event types is below, one line each; ``emit`` refuses any other type.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, insert, select

from xinyong.changes import Change, RestrictionChange
from xinyong.codes import regions
from xinyong.codes.identifiers import reason_of
from xinyong.errors import UnusableInput
from xinyong.feed.tables import feed_events, feed_settings
from xinyong.link.bulk import among, by_id, db_value, insert_rows
from xinyong.measures.reach import Way, reach_of, way_of
from xinyong.store.engine import utcnow
from xinyong.store.tables import records, subject_identifiers, subjects

if TYPE_CHECKING:
    from xinyong.catalog.model import Catalog, LiftRule

#: Every event type the feed carries, with what it means.
EVENT_TYPES: dict[str, str] = {
    "record.added": "记录新增 / a record was added",
    "record.corrected": "记录更正 / a record was corrected (a new version supersedes the old)",
    "list.notified": "列入告知 / a subject was notified of an intended list entry",
    "list.published": "名单公布 / a list entry was published",
    "list.extended": "名单延期 / a list entry was extended",
    "list.expired": "名单到期 / a list entry expired",
    "list.removed": "名单移出 / a list entry was removed",
    "restriction.added": "限制新增 / a fact of the restriction index (a list entry reaching a "
    "subject) was added, with the measures it carries",
    "restriction.lifted": "限制解除 / a fact of the restriction index went (lifted, removed or "
    "changed), with the measures it carried",
    "restriction.lifted_once": "单次解除 / a court's single lifting: one action permitted in a "
    "window (added or corrected)",
    "restriction.lifting_withdrawn": "单次解除撤销 / a single lifting was withdrawn",
    "objection.outcome": "异议结果 / an objection was decided",
    "repair.outcome": "信用修复结果 / a repair application was decided",
}

#: Subject kinds whose events are personal data.
PERSONAL_KINDS = frozenset({"individual"})
#: Province of events whose subject has no known region.
NO_REGION = "000000"


@dataclass(frozen=True)
class Event:
    """One event as it travels: the outbox row, the JetStream message body, a webhook body."""

    event_id: str
    event_type: str
    origin: str
    seq: int
    subject_code: str | None
    subject_kind: str | None
    region: str | None
    occurred_at: datetime
    payload: dict[str, Any]

    @property
    def personal(self) -> bool:
        """About an individual: by kind, or (kind unknown) by an 18-character citizen number."""
        if self.subject_kind is not None:
            return self.subject_kind in PERSONAL_KINDS
        return _looks_like_ric(self.subject_code)

    def subject(self, prefix: str) -> str:
        """The JetStream subject: ``<prefix>.<type>.<province>``."""
        return f"{prefix}.{self.event_type}.{self.region or NO_REGION}"

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "origin": self.origin,
            "seq": self.seq,
            "subject_code": self.subject_code,
            "subject_kind": self.subject_kind,
            "region": self.region,
            "occurred_at": self.occurred_at.isoformat(),
            "payload": self.payload,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        """An event from its JSON form; ``UnusableInput`` if it is not one."""
        try:
            event_type = str(data["type"])
            if event_type not in EVENT_TYPES:
                raise UnusableInput(f"未知事件类型 / unknown event type {event_type!r}")
            payload = data["payload"]
            if not isinstance(payload, dict):
                raise TypeError("payload")
            occurred = datetime.fromisoformat(str(data["occurred_at"]))
            return cls(
                event_id=str(data["event_id"]),
                event_type=event_type,
                origin=str(data["origin"]),
                seq=int(data["seq"]),
                subject_code=_opt_str(data.get("subject_code")),
                subject_kind=_opt_str(data.get("subject_kind")),
                region=_opt_str(data.get("region")),
                occurred_at=occurred,
                payload=payload,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UnusableInput(f"不是 xinyong 事件 / not a xinyong event: {exc}") from exc


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _looks_like_ric(code: str | None) -> bool:
    return code is not None and reason_of(code)[0] == "ric"


def region_of(code: str | None) -> str | None:
    """The province code of a subject code: a USCC's positions 3–8, a citizen number's 1–6 (15
    or 18 digits); None for an organisation code, which carries no region. The SQL twin is
    ``disclose.queries.region_of`` (docs/semantics.md)."""
    if not code:
        return None
    scheme, value, _problem = reason_of(code)
    if scheme == "ric":
        area = value[:6]
    elif scheme == "uscc":
        area = value[2:8]
    else:
        return None
    province = regions.province_of(area) if area.isdigit() else None
    return province.code if province is not None else None


def platform_id(conn: Connection) -> str:
    """This platform's id, the ``origin`` of its events; made once, on first use."""
    found = conn.execute(
        select(feed_settings.c.value).where(feed_settings.c.key == "platform_id")
    ).scalar()
    if found is not None:
        return str(found)
    new = f"p-{uuid.uuid4().hex[:12]}"
    conn.execute(insert(feed_settings).values(key="platform_id", value=new))
    return new


def set_platform_id(conn: Connection, value: str) -> None:
    """Name this platform (``national``, ``guizhou`` …) before it emits its first event."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise UnusableInput(
            f"平台标识只能含字母、数字、- 和 _ / a platform id is letters, digits, - and _: "
            f"{value!r}"
        )
    current = conn.execute(
        select(feed_settings.c.value).where(feed_settings.c.key == "platform_id")
    ).scalar()
    if current == value:
        return
    if current is not None and conn.execute(select(feed_events.c.id).limit(1)).first():
        raise UnusableInput(
            f"平台已以 {current} 发出事件，不能改名 / this platform already emitted events as "
            f"{current}; its id cannot change"
        )
    if current is None:
        conn.execute(insert(feed_settings).values(key="platform_id", value=value))
    else:
        conn.execute(
            feed_settings.update().where(feed_settings.c.key == "platform_id").values(value=value)
        )


class _Pending(NamedTuple):
    event_type: str
    subject_code: str | None
    subject_kind: str | None
    region: str | None
    #: The payload, or its JSON text when the step encoded it already (restriction events).
    payload: dict[str, Any] | str


def emit(
    conn: Connection,
    event_type: str,
    subject: str | None,
    payload: Mapping[str, Any],
    *,
    region: str | None = None,
) -> str:
    """Write one event to the outbox in the caller's transaction; returns its ``event_id``.

    ``subject`` is the subject's code (USCC or citizen number) or None; its kind is looked up in
    the store, and ``region`` (a province code) derived from the code unless given.
    """
    kind = None
    if subject is not None:
        kind = conn.execute(
            select(subjects.c.kind)
            .join(subject_identifiers, subject_identifiers.c.subject_id == subjects.c.id)
            .where(subject_identifiers.c.value == subject)
            .limit(1)
        ).scalar()
    if region is not None:
        province = regions.province_of(region) if region.isdigit() else None
        if province is None:
            raise UnusableInput(f"未知行政区划 / unknown region {region!r}")
        region = province.code
    pending = _Pending(event_type, subject, kind, region or region_of(subject), dict(payload))
    return _write(conn, [pending])[0]


def _write(conn: Connection, events: list[_Pending]) -> list[str]:
    """Append ``events`` to the outbox in order (``xinyong.link.bulk.insert_rows``)."""
    for event in events:
        if event.event_type not in EVENT_TYPES:
            raise UnusableInput(f"未知事件类型 / unknown event type {event.event_type!r}")
    if not events:
        return []
    origin = platform_id(conn)
    occurred = db_value(conn, feed_events.c.occurred_at, utcnow())
    ids = event_ids(len(events))
    encode = _PAYLOAD.encode
    insert_rows(
        conn,
        feed_events,
        _EVENT_COLUMNS,
        [
            (event_id, e.event_type, origin, e.subject_code, e.subject_kind, e.region,
             e.payload if isinstance(e.payload, str) else encode(e.payload), occurred)
            for event_id, e in zip(ids, events, strict=True)
        ],
    )  # fmt: skip
    return ids


def event_ids(count: int) -> list[str]:
    """``count`` new event ids: 32 hex digits laid out as a UUIDv7 (RFC 9562) — the time in
    milliseconds, then random bits, the batch's ids consecutive — so the outbox's unique index
    grows at its end instead of at random places, and ids stay globally unique."""
    millis = time.time_ns() // 1_000_000
    rand_a = secrets.randbits(12)
    rand_b = secrets.randbits(61)  # one bit spare: adding ``count`` never carries into the rest
    first = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return [f"{first + i:032x}" for i in range(count)]


_EVENT_COLUMNS = ("event_id", "event_type", "origin", "subject_code", "subject_kind", "region",
                  "payload", "occurred_at")  # fmt: skip


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


#: An event's payload as stored: JSON, dates and times in ISO form.
_PAYLOAD = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def feed_step(conn: Connection, change: Change) -> None:
    """The pipeline's last step: every record, list and restriction change becomes an event.

    Set-based: the change's records and the subjects named are read in a few queries (one per
    chunk of ids), the catalog's part of a restriction event is worked out once per list and way
    of reaching, and
    the events are written in one go by ``_write``.
    """
    subject_ids = set(change.subject_ids)
    subject_ids |= {c.subject_id for c in change.list_changes}
    restricted = {c.subject_id for c in change.restriction_changes}
    subject_ids |= restricted
    subject_ids |= {c.via_subject_id for c in change.restriction_changes if c.via_subject_id}
    rows = _records(conn, change.record_ids, change.record_keys)
    subject_ids |= {r["subject_id"] for r in rows if r["subject_id"] is not None}
    lifting_rows = [
        r for r in rows
        if r["subject_id"] is not None and _lift_rule(change.catalog, r["record_type"]) is not None
    ]  # fmt: skip
    restricted |= {r["subject_id"] for r in lifting_rows}
    who = _subjects(conn, subject_ids)
    nobody: tuple[str | None, str | None, str | None] = (None, None, None)
    pending: list[_Pending] = []
    for row in rows:
        known = who.get(row["subject_id"])
        code, kind, region = known if known else (row["subject_code"], None, None)
        if known is None:
            region = region_of(code)
        event_type = "record.added" if row["supersedes"] is None else "record.corrected"
        payload = {k: row[k] for k in _RECORD_FIELDS if k != "subject_id"}
        pending.append(_Pending(event_type, code, kind, region, payload))
    for lc in change.list_changes:
        code, kind, region = who.get(lc.subject_id, nobody)
        payload = {"list_id": lc.list_id, "entry_id": lc.entry_id, "reason": lc.reason}
        pending.append(_Pending(f"list.{lc.kind}", code, kind, region, payload))
    encode = _RestrictionPayloads(change.catalog, _identifiers(conn, restricted))
    for rc in change.restriction_changes:
        code, kind, region = who.get(rc.subject_id, nobody)
        via = who.get(rc.via_subject_id, nobody)[0] if rc.via_subject_id else None
        pending.append(_Pending(f"restriction.{rc.kind}", code, kind, region, encode(rc, via)))
    for row in lifting_rows:
        code, kind, region = who.get(row["subject_id"], nobody)
        event_type, payload = lifting_payload(change.catalog, row, encode.identifiers)
        pending.append(_Pending(event_type, code, kind, region, payload))
    _write(conn, pending)


def _lift_rule(catalog: Catalog, record_type: str) -> LiftRule | None:
    rtype = catalog.record_types.get(record_type)
    return rtype.lifts if rtype is not None else None


def lifting_payload(
    catalog: Catalog, row: Mapping[str, Any], identifiers: Mapping[int, list[tuple[str, str]]]
) -> tuple[str, dict[str, Any]]:
    """A single lifting's event (单次解除, a record of a type with ``lifts``), one per version of
    the record: ``restriction.lifting_withdrawn`` for a withdrawn version, else
    ``restriction.lifted_once``. The payload: ``action`` (the action its ``lifts.action_field``
    names), ``valid_from``, ``valid_to`` (the window); the fact (``record_id``, ``record_key``,
    ``version``, ``record_type``, ``document_no``, ``status``); ``lists``, the lists whose
    reasons it lifts, and ``measures``, the catalog's measures of those lists for that action
    that it lifts (not rewards: ``xinyong.measures.decisions.lifting_of``); ``identifiers``
    as on a restriction event; ``authority`` and ``legal_basis`` (citations of the ``lifts``
    rule). The replica applies it as ``check`` does."""
    rule = _lift_rule(catalog, row["record_type"])
    assert rule is not None  # feed_step passes lifting records only
    fields = row["fields"] or {}
    action = fields.get(rule.action_field)
    lists = sorted(rule.lists)
    measures = sorted(
        m.id for m in catalog.measures.values()
        if action in m.actions and m.effect != "prefer" and set(m.lists) & set(lists)
    )  # fmt: skip
    payload = {
        "action": action,
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "record_id": row["id"],
        "record_key": row["record_key"],
        "version": row["version"],
        "record_type": row["record_type"],
        "document_no": row["document_no"],
        "status": row["status"],
        "lists": lists,
        "measures": measures,
        "identifiers": [
            {"scheme": scheme, "value": value}
            for scheme, value in identifiers.get(row["subject_id"], [])
        ],
        "authority": catalog.record_types[row["record_type"]].authority,
        "legal_basis": [catalog.cite(ref) for ref in rule.legal_basis],
    }
    withdrawn = row["status"] == "withdrawn"
    return ("restriction.lifting_withdrawn" if withdrawn else "restriction.lifted_once"), payload


class _RestrictionPayloads:
    """A restriction event's payload as JSON text, one per fact that changed (an index row):
    ``valid_from``, ``valid_to``; the fact (``list_id``, ``entry_id``, ``record_key``, and for a
    person reached through an enterprise ``via_subject`` — its code —, ``role``,
    ``relation_record_id``); ``identifiers``, every code the subject is known by (what
    ``xinyong.store.queries.subject_id_for`` looks a code up among); then ``measures``, what the
    catalog says the fact carries (``xinyong.measures.reach``), in the catalog's order: each
    measure's ``measure_id``, ``effect``, ``actions``, ``implementing_agency`` and
    ``legal_basis``. The same text ``_PAYLOAD`` makes of that dict; the measures are encoded
    once per list and way of reaching, the identifiers once per subject."""

    def __init__(
        self, catalog: Catalog, identifiers: Mapping[int, list[tuple[str, str]]] | None = None
    ) -> None:
        self.catalog = catalog
        self.reach = reach_of(catalog)
        self.identifiers = identifiers or {}
        self.days: dict[date | None, str] = {}
        self.texts: dict[str | None, str] = {None: "null"}
        self.known_as: dict[int, str] = {}
        self.tails: dict[tuple[str | None, Way], str] = {}

    def __call__(self, rc: RestrictionChange, via_subject: str | None = None) -> str:
        days = self.days
        start = days.get(rc.valid_from) or days.setdefault(rc.valid_from, _day(rc.valid_from))
        end = days.get(rc.valid_to) or days.setdefault(rc.valid_to, _day(rc.valid_to))
        text = self._text
        known_as = self.known_as.get(rc.subject_id)
        if known_as is None:
            found = self.identifiers.get(rc.subject_id, [])
            known_as = self.known_as[rc.subject_id] = _PAYLOAD.encode(
                [{"scheme": scheme, "value": value} for scheme, value in found]
            )
        way = way_of(rc.subject_kind, rc.role)
        tail = self.tails.get((rc.list_id, way))
        if tail is None:
            tail = self.tails[(rc.list_id, way)] = _PAYLOAD.encode(self.measures(rc.list_id, way))
        return (
            f'{{"valid_from": {start}, "valid_to": {end}, "list_id": {text(rc.list_id)}, '
            f'"entry_id": {_number(rc.entry_id)}, '
            f'"record_key": {_PAYLOAD.encode(rc.record_key)}, '
            f'"via_subject": {_PAYLOAD.encode(via_subject)}, '
            f'"role": {text(rc.role)}, "relation_record_id": {_number(rc.relation_record_id)}, '
            f'"identifiers": {known_as}, "measures": {tail}}}'
        )

    def _text(self, value: str | None) -> str:
        """A list id or role as JSON (a few distinct values: kept)."""
        found = self.texts.get(value)
        if found is None:
            found = self.texts[value] = _PAYLOAD.encode(value)
        return found

    def measures(self, list_id: str | None, way: Way) -> list[dict[str, Any]]:
        """What the catalog says of the measures a fact of ``list_id`` reaching ``way`` carries."""
        return [
            {
                "measure_id": m.id,
                "effect": m.effect,
                "actions": list(m.actions),
                "implementing_agency": m.implementing_agency,
                "legal_basis": [self.catalog.cite(ref) for ref in m.legal_basis],
            }
            for m in (self.reach.measures(list_id, way) if list_id is not None else ())
        ]


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def _day(value: date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


_RECORD_FIELDS = (
    "id",
    "record_type",
    "source",
    "subject_id",
    "subject_name",
    "document_no",
    "decided_on",
    "valid_from",
    "valid_to",
    "status",
    "version",
    "supersedes",
    "record_key",
    "row_hash",
    "fields",
)
#: Ids per query.
FETCH_ROWS = 5000


def _records(
    conn: Connection, record_ids: Iterable[int], keys: Mapping[int, str]
) -> list[dict[str, Any]]:
    """The records, by id (``keys``: their ``record_key`` by id, where known: ``bulk.by_id``)."""
    ids = sorted(record_ids)
    found: list[dict[str, Any]] = []
    columns = [records.c[name] for name in _RECORD_FIELDS] + [records.c.subject_code]
    names = [c.name for c in columns]
    for start in range(0, len(ids), FETCH_ROWS):
        rows = by_id(conn, records, columns, ids[start : start + FETCH_ROWS], keys)
        found.extend({name: row._mapping[name] for name in names} for row in rows)
    found.sort(key=lambda r: r["id"])
    return found


def _subjects(
    conn: Connection, subject_ids: set[int]
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """Subject id → (primary code, kind, province)."""
    ids = sorted(subject_ids)
    out: dict[int, tuple[str | None, str | None, str | None]] = {}
    for start in range(0, len(ids), FETCH_ROWS):
        chunk = ids[start : start + FETCH_ROWS]
        result = conn.execute(
            select(subjects.c.id, subjects.c.primary_code, subjects.c.kind).where(
                among(conn, subjects.c.id, chunk)
            )
        )
        for sid, code, kind in result:
            out[sid] = (code, kind, region_of(code))
    return out


def _identifiers(conn: Connection, subject_ids: set[int]) -> dict[int, list[tuple[str, str]]]:
    """Subject id → its identifiers (scheme, value), in that order."""
    ids = sorted(subject_ids)
    out: dict[int, list[tuple[str, str]]] = {}
    t = subject_identifiers.c
    for start in range(0, len(ids), FETCH_ROWS):
        chunk = ids[start : start + FETCH_ROWS]
        query = select(t.subject_id, t.scheme, t.value).where(among(conn, t.subject_id, chunk))
        for sid, scheme, value in conn.execute(query.order_by(t.subject_id, t.scheme, t.value)):
            out.setdefault(sid, []).append((scheme, value))
    return out


def as_utc(at: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite hands them back naive)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def event_from_row(row: Mapping[Any, Any]) -> Event:
    """An ``Event`` from a ``feed_events`` row."""
    return Event(
        event_id=row["event_id"],
        event_type=row["event_type"],
        origin=row["origin"],
        seq=row["origin_seq"] if row["origin_seq"] is not None else row["id"],
        subject_code=row["subject_code"],
        subject_kind=row["subject_kind"],
        region=row["region"],
        occurred_at=as_utc(row["occurred_at"]),
        payload=row["payload"],
    )
