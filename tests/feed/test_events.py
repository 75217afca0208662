"""The outbox: emit, feed_step, the event's JSON form and its region."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from xinyong.catalog import Catalog
from xinyong.changes import Change, ListChange, RestrictionChange
from xinyong.errors import UnusableInput
from xinyong.feed import Event, emit, feed_step, platform_id, set_platform_id
from xinyong.feed.events import event_from_row, region_of
from xinyong.feed.tables import feed_events
from xinyong.store.tables import subject_identifiers

PERSON = "110101199003074514"
COMPANY = "911101015366008218"
TODAY = date(2026, 11, 23)
AddSubject = Callable[[Engine, str, str], int]
#: What a restriction event says of the fact it comes from.
ENTRY_KEYS = ("list_id", "entry_id", "record_key", "via_subject", "role", "relation_record_id")


def _events(engine: Engine) -> list[Event]:
    with engine.connect() as conn:
        rows = conn.execute(select(feed_events).order_by(feed_events.c.id)).mappings().all()
    return [event_from_row(r) for r in rows]


def test_emit_writes_in_the_callers_transaction(engine: Engine, add_subject: AddSubject) -> None:
    add_subject(engine, "individual", PERSON)
    with engine.begin() as conn:
        event_id = emit(conn, "objection.outcome", PERSON, {"objection_id": 7, "outcome": "upheld"})
    (event,) = _events(engine)
    assert event.event_id == event_id
    assert event.subject_kind == "individual" and event.personal
    assert event.region == "110000"
    assert event.payload == {"objection_id": 7, "outcome": "upheld"}

    with pytest.raises(RuntimeError), engine.begin() as conn:
        emit(conn, "record.added", COMPANY, {"record_type": "admin_penalty"})
        raise RuntimeError("the change fails")
    assert len(_events(engine)) == 1, "a rolled-back change leaves no event behind"


def test_emit_refuses_unknown_types_and_regions(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(UnusableInput, match="unknown event type"):
            emit(conn, "record.deleted", COMPANY, {})
        with pytest.raises(UnusableInput, match="unknown region"):
            emit(conn, "record.added", COMPANY, {}, region="999999")
        with pytest.raises(UnusableInput, match="unknown region"):
            emit(conn, "record.added", COMPANY, {}, region="贵州")
        emit(conn, "record.added", None, {}, region="520102")
    (event,) = _events(engine)
    assert event.region == "520000" and event.subject("xinyong.events").endswith(".520000")


def test_feed_step_turns_list_and_restriction_changes_into_events(
    engine: Engine, catalog: Catalog, add_subject: AddSubject
) -> None:
    person = add_subject(engine, "individual", PERSON)
    company = add_subject(engine, "enterprise", COMPANY)
    change = Change(record_ids=[], catalog=catalog, at=TODAY, subject_ids={person, company})
    change.list_changes.append(ListChange(person, "consumption_restricted", 1, "published"))
    change.restriction_changes += [
        # the person, as the company's legal representative (relation record 9), from entry 1
        RestrictionChange(
            person,
            "individual",
            "added",
            TODAY,
            list_id="consumption_restricted",
            entry_id=1,
            record_key="key-1",
            via_subject_id=company,
            role="legal_representative",
            relation_record_id=9,
        ),
        RestrictionChange(
            company, "enterprise", "lifted", list_id="consumption_restricted", entry_id=1
        ),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(subject_identifiers).values(subject_id=company, scheme="orgcode",
                                               value=COMPANY[8:17])
        )  # fmt: skip
        feed_step(conn, change)
    events = _events(engine)
    assert [e.event_type for e in events] == [
        "list.published",
        "restriction.added",
        "restriction.lifted",
    ]
    added = events[1]
    assert added.subject_code == PERSON and added.subject_kind == "individual"
    # One event per fact, with the measures it carries (a person reached as representative).
    implied = [
        m
        for m in catalog.measures_for("consumption_restricted")
        if "legal_representative" in m.role_linked and "individual" in m.applies_to
    ]
    assert [m["measure_id"] for m in added.payload["measures"]] == [m.id for m in implied]
    flight = next(
        m for m in added.payload["measures"] if m["measure_id"] == "consumption_restriction_flight"
    )
    assert flight["effect"] == "deny" and flight["actions"] == ["buy_flight_ticket"]
    assert flight["implementing_agency"] == "caac"
    assert flight["legal_basis"], "the measure's legal basis travels with the event"
    assert "action" not in added.payload and "measure_id" not in added.payload
    assert added.payload["valid_from"] == TODAY.isoformat()
    # The fact the restriction comes from, and every code its subject is known by.
    assert {k: added.payload[k] for k in ENTRY_KEYS} == {
        "list_id": "consumption_restricted", "entry_id": 1, "record_key": "key-1",
        "via_subject": COMPANY, "role": "legal_representative", "relation_record_id": 9,
    }  # fmt: skip
    assert added.payload["identifiers"] == [{"scheme": "ric", "value": PERSON}]
    lifted = events[2]
    assert lifted.subject_code == COMPANY and not lifted.personal
    assert lifted.payload["entry_id"] == 1 and lifted.payload["via_subject"] is None
    assert lifted.payload["identifiers"] == [
        {"scheme": "orgcode", "value": COMPANY[8:17]},
        {"scheme": "uscc", "value": COMPANY},
    ]
    assert len({e.seq for e in events}) == 3


def test_event_json_round_trip_and_junk(engine: Engine) -> None:
    with engine.begin() as conn:
        emit(
            conn, "record.added", COMPANY, {"record_type": "admin_penalty", "on": date(2026, 1, 2)}
        )
    (event,) = _events(engine)
    assert Event.from_json(event.as_json()) == event
    assert event.payload["on"] == "2026-01-02"
    for junk in (
        {},
        {"type": "record.added"},
        {**event.as_json(), "type": "x.y"},
        {**event.as_json(), "payload": []},
        {**event.as_json(), "seq": "abc"},
    ):
        with pytest.raises(UnusableInput):
            Event.from_json(junk)


def test_region_of_codes() -> None:
    assert region_of(PERSON) == "110000"
    assert region_of(COMPANY) == "110000"
    assert region_of("91520102131049875B") == "520000"
    assert region_of("123") is None and region_of(None) is None and region_of("") is None
    assert region_of("91999900100000000A") is None
    assert region_of("11010119900307451") is None


def test_platform_id_is_stable_and_cannot_change_after_events(engine: Engine) -> None:
    with engine.begin() as conn:
        set_platform_id(conn, "guizhou")
        assert platform_id(conn) == "guizhou"
        with pytest.raises(UnusableInput):
            set_platform_id(conn, "贵州 省")
        emit(conn, "record.added", COMPANY, {})
        with pytest.raises(UnusableInput, match="cannot change"):
            set_platform_id(conn, "national")
    assert _events(engine)[0].origin == "guizhou"


def test_ingest_writes_record_events(engine: Engine, catalog: Catalog) -> None:
    from pathlib import Path

    from xinyong.ingest import ingest_file

    root = Path(__file__).resolve().parents[2]
    result = ingest_file(
        engine, root / "examples/admin_license.csv", "admin_license", "samr", catalog=catalog
    )
    records = [e for e in _events(engine) if e.event_type.startswith("record.")]
    assert len(records) == result.accepted > 0
    assert {e.event_type for e in records} == {"record.added"}
    assert all(e.payload["record_type"] == "admin_license" for e in records)


def test_restriction_payload_text_is_the_encoded_payload(catalog: Catalog) -> None:
    from xinyong.feed.events import _PAYLOAD, _RestrictionPayloads

    known_as = {1: [("ric", PERSON)], 2: [("orgcode", COMPANY[8:17]), ("uscc", COMPANY)]}
    encode = _RestrictionPayloads(catalog, known_as)
    entries = [
        (None, None, None, None, None, None, None),
        ("consumption_restricted", 7, 'k"ey', None, None, None, None),
        ("consumption_restricted", 7, "key", 2, "actual_controller", 12, COMPANY),
        ("no_such_list", 7, "key", None, None, None, None),
    ]
    for valid_from, valid_to in ((TODAY, None), (None, TODAY), (TODAY, date(2027, 1, 31))):
        for kind in ("individual", "enterprise"):
            for subject in (1, 2, 3):
                for list_id, entry_id, key, via_id, role, relation, via in entries:
                    rc = RestrictionChange(subject, kind, "added", valid_from, valid_to, list_id,
                                           entry_id, key, via_id, role, relation)  # fmt: skip
                    carried = [
                        m for m in catalog.measures_for(list_id or "")
                        if (role in m.role_linked and "individual" in m.applies_to)
                        or (role is None and kind in m.applies_to)
                    ]  # fmt: skip
                    expected = {
                        "valid_from": valid_from.isoformat() if valid_from else None,
                        "valid_to": valid_to.isoformat() if valid_to else None,
                        "list_id": list_id,
                        "entry_id": entry_id,
                        "record_key": key,
                        "via_subject": via,
                        "role": role,
                        "relation_record_id": relation,
                        "identifiers": [
                            {"scheme": s, "value": v} for s, v in known_as.get(subject, [])
                        ],
                        "measures": [
                            {
                                "measure_id": m.id,
                                "effect": m.effect,
                                "actions": list(m.actions),
                                "implementing_agency": m.implementing_agency,
                                "legal_basis": [catalog.cite(r) for r in m.legal_basis],
                            }
                            for m in carried
                        ],
                    }
                    assert encode(rc, via) == _PAYLOAD.encode(expected)


def test_event_ids_are_unique_time_ordered_uuids() -> None:
    import uuid

    from xinyong.feed.events import event_ids

    first, second = event_ids(1000), event_ids(1000)
    assert len(set(first + second)) == 2000
    assert first == sorted(first) and all(len(i) == 32 for i in first)
    assert all(uuid.UUID(hex=i).version == 7 for i in first + second)
    assert event_ids(0) == []


def test_a_single_lifting_travels_as_its_own_event_and_the_replica_permits_as_check(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """A court's lifting (单次解除) loaded through the pipeline becomes a
    ``restriction.lifted_once`` event with its action, window, lists, decision and article; a
    replica fed the outbox's restriction events decides the lifted trip as ``check`` does, and
    an airline implementing the flight measure receives the event."""
    from xinyong.feed.federation import entity_of
    from xinyong.feed.replica import Replica
    from xinyong.feed.subscriptions import Subscriber
    from xinyong.ingest import ingest_file
    from xinyong.measures.decisions import check

    root = Path(__file__).resolve().parents[2]
    person = "510107197809022207"
    for name, record_type in (
        ("judgment_defaulter.gbk.csv", "judgment_defaulter"),
        ("consumption_restriction_single_lifting.csv", "consumption_restriction_single_lifting"),
    ):
        ingest_file(engine, root / "examples" / name, record_type, "court", catalog=catalog)
    events = [e for e in _events(engine) if e.event_type.startswith("restriction.")]
    (lifting,) = [e for e in events if e.event_type == "restriction.lifted_once"]
    p = lifting.payload
    assert lifting.subject_code == person and lifting.region == "510000"
    assert (p["action"], p["valid_from"], p["valid_to"]) == (
        "buy_flight_ticket", "2025-08-10", "2025-08-12"
    )  # fmt: skip
    assert p["document_no"] == "（2024）川0107执456号之一"
    assert p["lists"] == ["consumption_restricted", "judgment_defaulters"]
    assert "consumption_restriction_flight" in p["measures"]
    assert "法释〔2015〕17号 第八条" in p["legal_basis"]
    assert {"scheme": "ric", "value": person} in p["identifiers"]
    airline = Subscriber(1, "airline", "https://a.example", "售票核验", "ndrc_aviation_2018",
                         None, "a-1", frozenset({"consumption_restriction_flight"}), frozenset(),
                         frozenset(), True, frozenset())  # fmt: skip
    assert airline.wants(lifting) == "measure"
    # A fact's event is wanted for a measure it carries; a peer keys it by the fact.
    added = [e for e in events if e.event_type == "restriction.added"]
    assert all(airline.wants(e) == "measure" for e in added if e.subject_code == person)
    assert len({entity_of(e) for e in added}) == len(added)
    with Replica(tmp_path / "r.db") as replica, engine.connect() as conn:
        replica.apply(list(enumerate(events, 1)))
        for day in (date(2025, 8, 9), date(2025, 8, 11), date(2025, 8, 13)):
            for action in ("buy_flight_ticket", "stay_star_hotel"):
                want = check(conn, person, action, day, catalog=catalog, log=False)
                got = replica.check(person, action, at=day)
                assert (got.decision, got.until) == (want.outcome, want.until), (action, day)
        assert replica.check(person, "buy_flight_ticket", at=date(2025, 8, 11)).decision == (
            "permit"
        )
