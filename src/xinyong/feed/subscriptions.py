"""Subscribers: who receives which events, on what agreement, and their watch lists.

A subscriber (an airline, a bank, a procurement office, a market institution) has an agreement
whose legal basis is an instrument of the catalog (refused if the catalog does not know it). The
agreement bounds what it receives, by purpose:

- the measures it implements: their ``restriction.*`` events, and the ``list.*`` events of the
  lists those measures follow;
- lists and record types the agreement names: their ``list.*`` and ``record.*`` events;
- its watch list: any event about a subject it registered, with the lawful interest stated.

Nothing about an individual leaves unless the agreement covers individuals
(``covers_individuals``): such events are filtered out before any other rule is asked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from xinyong.catalog.model import Catalog
from xinyong.codes.identifiers import identify
from xinyong.errors import InvalidCode, NotFound, UnusableInput
from xinyong.feed.events import Event, event_from_row
from xinyong.feed.tables import feed_deliveries, feed_events, feed_subscribers, feed_watch
from xinyong.store.engine import utcnow


def _measure_id(item: object) -> str:
    """A measure named in a restriction event's ``measures``: an id, or an object with one."""
    return str(item.get("measure_id")) if isinstance(item, dict) else str(item)


@dataclass(frozen=True)
class Subscriber:
    id: int
    name: str
    webhook_url: str
    purpose: str
    legal_instrument: str
    legal_article: str | None
    agreement_ref: str
    measures: frozenset[str]
    lists: frozenset[str]
    record_types: frozenset[str]
    covers_individuals: bool
    watched: frozenset[str]

    def wants(self, event: Event) -> str | None:
        """Why this subscriber receives ``event`` (``watch``, ``measure``, ``list``,
        ``record_type``), or None if its agreement does not cover it."""
        if event.personal and not self.covers_individuals:
            return None
        if event.subject_code is not None and event.subject_code in self.watched:
            return "watch"
        family = event.event_type.split(".", 1)[0]
        payload = event.payload
        if family == "restriction" and payload.get("measure_id") in self.measures:
            return "measure"  # an event of contract 1: one per action and measure
        carried = payload.get("measures") if family == "restriction" else None
        if isinstance(carried, list) and self.measures.intersection(map(_measure_id, carried)):
            # a fact carrying a measure the subscriber implements (``measure_id`` of each), or a
            # single lifting of one (ids)
            return "measure"
        if family == "list" and payload.get("list_id") in self.lists:
            return "list"
        if family == "record" and payload.get("record_type") in self.record_types:
            return "record_type"
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "webhook_url": self.webhook_url,
            "purpose": self.purpose,
            "legal_basis": {"instrument": self.legal_instrument, "article": self.legal_article},
            "agreement_ref": self.agreement_ref,
            "measures": sorted(self.measures),
            "lists": sorted(self.lists),
            "record_types": sorted(self.record_types),
            "covers_individuals": self.covers_individuals,
            "watched": sorted(self.watched),
        }


def subscribe(
    conn: Connection,
    catalog: Catalog,
    *,
    name: str,
    webhook_url: str,
    purpose: str,
    legal_basis: str,
    agreement_ref: str,
    measures: Sequence[str] = (),
    lists: Sequence[str] = (),
    record_types: Sequence[str] = (),
    covers_individuals: bool = False,
) -> tuple[Subscriber, str]:
    """Register a subscriber; returns it and the webhook secret (shown once, keep it).

    ``legal_basis`` is ``INSTRUMENT`` or ``INSTRUMENT:ARTICLE`` from the catalog; an unknown one,
    unknown measures, lists or record types, or a URL that is not http(s) are refused.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise UnusableInput("订阅者名称须为 1–100 个字符 / a subscriber name is 1–100 characters")
    _check_url(webhook_url)
    for label, text in (("用途 / purpose", purpose), ("协议编号 / agreement", agreement_ref)):
        if not text.strip():
            raise UnusableInput(f"{label} 不能为空 / must not be empty")
    instrument, article = _legal_basis(catalog, legal_basis)
    _known(catalog.measures, measures, "措施 / measure")
    _known(catalog.lists, lists, "名单 / list")
    _known(catalog.record_types, record_types, "记录类型 / record type")
    followed = set(lists) | {lst for m in measures for lst in catalog.measures[m].lists}
    if conn.execute(select(feed_subscribers.c.id).where(feed_subscribers.c.name == name)).first():
        raise UnusableInput(f"订阅者已存在 / subscriber {name!r} already exists")
    secret = secrets.token_hex(32)
    conn.execute(
        insert(feed_subscribers).values(
            name=name,
            webhook_url=webhook_url,
            secret=secret,
            purpose=purpose.strip(),
            legal_instrument=instrument,
            legal_article=article,
            agreement_ref=agreement_ref.strip(),
            measures=sorted(set(measures)),
            lists=sorted(followed),
            record_types=sorted(set(record_types)),
            covers_individuals=covers_individuals,
            created_at=utcnow(),
        )
    )
    return subscriber(conn, name), secret


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnusableInput(f"webhook 地址须为 http(s) URL / a webhook URL is http(s): {url!r}")


def _legal_basis(catalog: Catalog, text: str) -> tuple[str, str | None]:
    instrument_id, _, article = text.strip().partition(":")
    instrument = catalog.instruments.get(instrument_id)
    if instrument is None:
        raise UnusableInput(
            f"目录中没有法律依据 {instrument_id!r}（见 xinyong catalog show instruments）/ no "
            f"instrument {instrument_id!r} in the catalog"
        )
    if article and instrument.articles and article not in instrument.articles:
        raise UnusableInput(
            f"{instrument_id} 没有条款 {article!r} / {instrument_id} has no article {article!r}"
        )
    return instrument_id, article or None


def _known(section: dict[str, Any], ids: Iterable[str], label: str) -> None:
    for item in ids:
        if item not in section:
            raise UnusableInput(f"目录中没有{label} {item!r} / unknown {label.split(' / ')[1]}")


def watch(conn: Connection, name: str, codes: Sequence[str], lawful_interest: str) -> int:
    """Add subject codes to a subscriber's watch list; returns how many were new.

    Each code must be a valid USCC, citizen number or organisation code, and the lawful interest
    (a loan contract, a procurement) must be stated."""
    sub = subscriber(conn, name)
    if not lawful_interest.strip():
        raise UnusableInput("须说明合法利益 / state the lawful interest in these subjects")
    values: list[str] = []
    for code in codes:
        try:
            values.append(identify(code).value)
        except InvalidCode as exc:
            raise UnusableInput(f"{code!r}: {exc.bilingual()}") from exc
    new = [v for v in dict.fromkeys(values) if v not in sub.watched]
    if new:
        now = utcnow()
        conn.execute(
            insert(feed_watch),
            [
                {
                    "subscriber_id": sub.id,
                    "subject_code": v,
                    "lawful_interest": lawful_interest.strip(),
                    "created_at": now,
                }
                for v in new
            ],
        )
    return len(new)


def subscribers(conn: Connection) -> list[Subscriber]:
    """Every active subscriber with its watch list."""
    watched: dict[int, set[str]] = {}
    for sid, code in conn.execute(select(feed_watch.c.subscriber_id, feed_watch.c.subject_code)):
        watched.setdefault(sid, set()).add(code)
    rows = conn.execute(
        select(feed_subscribers)
        .where(feed_subscribers.c.active.is_(True))
        .order_by(feed_subscribers.c.id)
    ).mappings()
    return [
        Subscriber(
            id=r["id"],
            name=r["name"],
            webhook_url=r["webhook_url"],
            purpose=r["purpose"],
            legal_instrument=r["legal_instrument"],
            legal_article=r["legal_article"],
            agreement_ref=r["agreement_ref"],
            measures=frozenset(r["measures"]),
            lists=frozenset(r["lists"]),
            record_types=frozenset(r["record_types"]),
            covers_individuals=bool(r["covers_individuals"]),
            watched=frozenset(watched.get(r["id"], ())),
        )
        for r in rows
    ]


def subscriber(conn: Connection, name: str) -> Subscriber:
    for sub in subscribers(conn):
        if sub.name == name:
            return sub
    raise NotFound(f"没有订阅者 / no subscriber {name!r}")


def route_pending(conn: Connection, *, limit: int = 5000) -> int:
    """Turn events not yet routed into deliveries for the subscribers that may receive them.

    Returns how many events were routed (with or without a delivery)."""
    rows = (
        conn.execute(
            select(feed_events)
            .where(feed_events.c.routed_at.is_(None))
            .order_by(feed_events.c.id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    if not rows:
        return 0
    subs = subscribers(conn)
    now = utcnow()
    deliveries = []
    for row in rows:
        event = event_from_row(row)
        for sub in subs:
            reason = sub.wants(event)
            if reason is not None:
                deliveries.append(
                    {
                        "subscriber_id": sub.id,
                        "event_id": row["id"],
                        "reason": reason,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    if deliveries:
        conn.execute(insert(feed_deliveries), deliveries)
    conn.execute(
        update(feed_events)
        .where(feed_events.c.id.in_([r["id"] for r in rows]))
        .values(routed_at=now)
    )
    return len(rows)
