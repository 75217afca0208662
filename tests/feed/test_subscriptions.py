"""Purpose-bound subscriptions and watch lists: who receives what, and what never leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from xinyong.catalog import Catalog
from xinyong.errors import NotFound, UnusableInput
from xinyong.feed import emit
from xinyong.feed.subscriptions import route_pending, subscribe, watch
from xinyong.feed.tables import feed_deliveries, feed_events, feed_subscribers

PERSON = "110101199003074514"
COMPANY = "911101015366008218"
GZ_COMPANY = "91520102131049875B"
AddSubject = Callable[[Engine, str, str], int]
FLIGHT = {
    "action": "buy_flight_ticket",
    "measure_id": "consumption_restriction_flight",
    "effect": "deny",
}


def _subscribe(engine: Engine, catalog: Catalog, name: str, **kw: Any) -> str:
    args: dict[str, Any] = {
        "webhook_url": f"http://127.0.0.1:9/{name}",
        "purpose": "售票核验 / ticket checks",
        "legal_basis": "ndrc_aviation_2018",
        "agreement_ref": "民航-2018-001",
    } | kw
    with engine.begin() as conn:
        _sub, secret = subscribe(conn, catalog, name=name, **args)
    return secret


def _received(engine: Engine) -> dict[str, list[tuple[str, str | None, str]]]:
    with engine.begin() as conn:
        route_pending(conn)
        rows = conn.execute(
            select(
                feed_subscribers.c.name,
                feed_events.c.event_type,
                feed_events.c.subject_code,
                feed_deliveries.c.reason,
            )
            .join(feed_subscribers, feed_subscribers.c.id == feed_deliveries.c.subscriber_id)
            .join(feed_events, feed_events.c.id == feed_deliveries.c.event_id)
            .order_by(feed_deliveries.c.id)
        ).all()
    out: dict[str, list[tuple[str, str | None, str]]] = {}
    for name, event_type, code, reason in rows:
        out.setdefault(name, []).append((event_type, code, reason))
    return out


def test_personal_events_leave_only_under_an_agreement_covering_individuals(
    engine: Engine, catalog: Catalog, add_subject: AddSubject
) -> None:
    add_subject(engine, "individual", PERSON)
    add_subject(engine, "enterprise", COMPANY)
    _subscribe(engine, catalog, "scorer", measures=["consumption_restriction_flight"])
    _subscribe(
        engine,
        catalog,
        "airline",
        measures=["consumption_restriction_flight"],
        covers_individuals=True,
    )
    with engine.begin() as conn:
        emit(conn, "restriction.added", PERSON, FLIGHT)
        emit(conn, "restriction.added", COMPANY, FLIGHT)
        emit(conn, "record.added", COMPANY, {"record_type": "admin_penalty"})
    got = _received(engine)
    assert got["scorer"] == [("restriction.added", COMPANY, "measure")], (
        "nothing about an individual reaches a subscriber whose agreement does not cover them"
    )
    assert got["airline"] == [
        ("restriction.added", PERSON, "measure"),
        ("restriction.added", COMPANY, "measure"),
    ], "a subscriber receives only its measures' events, not the records of others"


def test_purpose_binds_lists_and_record_types(engine: Engine, catalog: Catalog) -> None:
    _subscribe(engine, catalog, "airline", measures=["consumption_restriction_flight"])
    _subscribe(
        engine,
        catalog,
        "market",
        legal_basis="public_credit_catalog_2024",
        record_types=["admin_penalty"],
    )
    with engine.begin() as conn:
        emit(conn, "list.published", COMPANY, {"list_id": "consumption_restricted"})
        emit(conn, "list.published", COMPANY, {"list_id": "judgment_defaulters"})
        emit(conn, "record.added", COMPANY, {"record_type": "admin_penalty"})
        emit(conn, "record.added", COMPANY, {"record_type": "admin_license"})
        emit(conn, "restriction.added", COMPANY, {**FLIGHT, "measure_id": "other"})
    got = _received(engine)
    assert got["airline"] == [("list.published", COMPANY, "list")]
    assert got["market"] == [("record.added", COMPANY, "record_type")]


def test_watch_list_alerts_on_any_change_to_watched_subjects(
    engine: Engine, catalog: Catalog, add_subject: AddSubject
) -> None:
    add_subject(engine, "individual", PERSON)
    _subscribe(engine, catalog, "bank", legal_basis="public_credit_catalog_2024")
    with engine.begin() as conn:
        assert watch(conn, "bank", [GZ_COMPANY, PERSON], "贷款合同 / loan contract 2026-001") == 2
        assert watch(conn, "bank", [GZ_COMPANY], "again") == 0
    with engine.begin() as conn:
        emit(conn, "objection.outcome", GZ_COMPANY, {"objection_id": 1})
        emit(conn, "record.added", GZ_COMPANY, {"record_type": "admin_license"})
        emit(conn, "record.added", COMPANY, {"record_type": "admin_license"})
        emit(conn, "record.added", PERSON, {"record_type": "admin_license"})
    got = _received(engine)
    assert got["bank"] == [
        ("objection.outcome", GZ_COMPANY, "watch"),
        ("record.added", GZ_COMPANY, "watch"),
    ], "watched enterprise alerts; the individual stays filtered without an agreement"


def test_routing_is_once_per_event(engine: Engine, catalog: Catalog) -> None:
    _subscribe(engine, catalog, "airline", measures=["consumption_restriction_flight"])
    with engine.begin() as conn:
        emit(conn, "restriction.added", COMPANY, FLIGHT)
    assert len(_received(engine)["airline"]) == 1
    assert len(_received(engine)["airline"]) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"legal_basis": "no_such_instrument"}, "no instrument"),
        ({"legal_basis": "ndrc_aviation_2018:999"}, "has no article"),
        ({"legal_basis": ""}, "no instrument"),
        ({"measures": ["no_such_measure"]}, "unknown measure"),
        ({"lists": ["no_such_list"]}, "unknown list"),
        ({"record_types": ["social_media_posts"]}, "unknown record type"),
        ({"webhook_url": "ftp://x/y"}, "http"),
        ({"webhook_url": "not a url"}, "http"),
        ({"purpose": "  "}, "purpose"),
        ({"agreement_ref": ""}, "agreement"),
    ],
)
def test_subscribe_refuses_bad_agreements(
    sqlite_engine: Engine, catalog: Catalog, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnusableInput, match=message):
        _subscribe(sqlite_engine, catalog, "x", **change)


def test_subscribe_records_the_legal_basis_and_refuses_duplicates(
    sqlite_engine: Engine, catalog: Catalog
) -> None:
    secret = _subscribe(
        sqlite_engine, catalog, "airline", measures=["consumption_restriction_flight"]
    )
    assert len(secret) == 64
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(feed_subscribers)).mappings().one()
    assert row["legal_instrument"] == "ndrc_aviation_2018"
    assert row["agreement_ref"] == "民航-2018-001"
    assert "consumption_restricted" in row["lists"], "a measure brings the lists it follows"
    with pytest.raises(UnusableInput, match="already exists"):
        _subscribe(sqlite_engine, catalog, "airline")
    with pytest.raises(UnusableInput, match="1–100"):
        _subscribe(sqlite_engine, catalog, " ")


def test_watch_refuses_bad_codes_and_missing_interest(
    sqlite_engine: Engine, catalog: Catalog
) -> None:
    _subscribe(sqlite_engine, catalog, "bank", legal_basis="public_credit_catalog_2024")
    with sqlite_engine.begin() as conn:
        with pytest.raises(UnusableInput, match="check"):
            watch(conn, "bank", ["11010119900307451X"], "loan")
        with pytest.raises(UnusableInput):
            watch(conn, "bank", ["全角１２３"], "loan")
        with pytest.raises(UnusableInput, match="lawful interest"):
            watch(conn, "bank", [PERSON], "  ")
        with pytest.raises(NotFound):
            watch(conn, "nobody", [PERSON], "loan")
