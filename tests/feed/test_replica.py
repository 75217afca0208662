"""An agency's replica without the server: rows per entry, lifts per entry, ``until``, lookups by
every identifier the platform's check accepts, events that name no entry, and the upgrade of a
file made by the version that kept one row per measure."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.codes import ric, uscc
from xinyong.errors import UnusableInput
from xinyong.feed.events import Event
from xinyong.feed.replica import SCHEMA_VERSION, Replica, entry_key

PERSON = "110101199003074514"
PERSON_15 = "110101900307451"  # the same citizen number in its 15-digit form
OTHER_PERSON = "34031119770425075X"
COMPANY = "911101015366008218"
ORGCODE = COMPANY[8:17]  # the organisation code inside the USCC
#: A USCC of another registration that embeds the same organisation code.
OTHER_USCC = "92110101" + ORGCODE + uscc.check_character("92110101" + ORGCODE)
FLIGHT = ("buy_flight_ticket", "consumption_restriction_flight")
TRAIN = ("buy_train_ticket_soft_sleeper", "consumption_restriction_train")
DAY = date(2026, 6, 1)

_seq = count(1)


def _event(
    kind: str,
    code: str,
    *,
    action: str = FLIGHT[0],
    measure: str = FLIGHT[1],
    effect: str | None = "deny",
    entry: int | None = None,
    valid_from: str | None = "2026-01-01",
    valid_to: str | None = None,
    identifiers: list[tuple[str, str]] | None = None,
    via: tuple[str, str, int] | None = None,
    origin: str = "national",
    seq: int | None = None,
) -> Event:
    payload: dict[str, Any] = {
        "action": action,
        "measure_id": measure,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "effect": effect,
        "implementing_agency": "caac",
        "legal_basis": ["法释〔2015〕17号"],
    }
    if entry is not None:
        payload |= {
            "list_id": "consumption_restricted",
            "entry_id": entry,
            "record_key": f"key-{entry}",
            "via_subject": via[0] if via else None,
            "role": via[1] if via else None,
            "relation_record_id": via[2] if via else None,
            "identifiers": [{"scheme": s, "value": v} for s, v in identifiers or []],
        }
    n = seq if seq is not None else next(_seq)
    return Event(
        event_id=f"e{n}-{origin}",
        event_type=f"restriction.{kind}",
        origin=origin,
        seq=n,
        subject_code=code,
        subject_kind=None,
        region=None,
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        payload=payload,
    )


def _apply(replica: Replica, *events: Event) -> int:
    return replica.apply([(e.seq, e) for e in events])


def _decide(replica: Replica, code: str, action: str = FLIGHT[0]) -> tuple[str, date | None]:
    decision = replica.check(code, action, at=DAY)
    return decision.decision, decision.until


def test_two_entries_behind_one_measure_are_two_rows(tmp_path: Path) -> None:
    """Two judgments behind the same measure: the newer one does not replace the older, and
    lifting one leaves the other in force."""
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1, valid_to="2026-12-31"))
        _apply(replica, _event("added", PERSON, entry=2, valid_to="2027-06-30"))
        assert _decide(replica, PERSON) == ("deny", date(2027, 6, 30)), "the later end"
        assert len(replica.check(PERSON, FLIGHT[0], at=DAY).measures) == 2
        _apply(replica, _event("lifted", PERSON, entry=2, valid_to="2027-06-30"))
        assert _decide(replica, PERSON) == ("deny", date(2026, 12, 31)), "entry 1 still holds"
        _apply(replica, _event("added", PERSON, entry=3))
        assert _decide(replica, PERSON) == ("deny", None), "an open-ended entry: no until"
        _apply(replica, _event("lifted", PERSON, entry=1), _event("lifted", PERSON, entry=3))
        assert _decide(replica, PERSON) == ("permit", None)


def test_until_comes_from_the_winning_effect_and_days_count_inclusively(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        _apply(
            replica,
            _event("added", PERSON, entry=1, effect="review", valid_to=None),
            _event("added", PERSON, entry=2, valid_to="2026-06-01"),
        )
        assert _decide(replica, PERSON) == ("deny", date(2026, 6, 1)), "the last day is in force"
        assert replica.check(PERSON, FLIGHT[0], at=date(2026, 6, 2)).decision == "review"
        assert replica.check(PERSON, FLIGHT[0], at=date(2025, 12, 31)).decision == "permit"
        assert replica.check(PERSON, TRAIN[0], at=DAY).decision == "permit", "another action"


def test_a_person_reached_through_two_roles_keeps_both(tmp_path: Path) -> None:
    legal, controller = (COMPANY, "legal_representative", 7), (COMPANY, "actual_controller", 8)
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1, via=legal))
        _apply(replica, _event("added", PERSON, entry=1, via=controller))
        _apply(replica, _event("lifted", PERSON, entry=1, via=legal))
        decision = replica.check(PERSON, FLIGHT[0], at=DAY)
        assert decision.decision == "deny"
        assert [m["via"] for m in decision.measures] == [
            {"subject": COMPANY, "role": "actual_controller"}
        ]


def test_events_count_once_in_any_order(tmp_path: Path) -> None:
    added, lifted = _event("added", PERSON, entry=1), _event("lifted", PERSON, entry=1)
    with Replica(tmp_path / "r.db") as replica:
        assert _apply(replica, lifted) == 1
        assert _apply(replica, added) == 0, "an older event changes nothing"
        assert _apply(replica, lifted) == 0, "a repeated event changes nothing"
        assert _decide(replica, PERSON) == ("permit", None)


def _fact(kind: str, code: str, entry: int, *, seq: int | None = None, **fields: Any) -> Event:
    """An event of contract 2: one per fact, with the measures it carries and their actions."""
    event = _event(kind, code, entry=entry, seq=seq, **fields)
    payload = {k: v for k, v in event.payload.items()
               if k not in ("action", "measure_id", "effect", "implementing_agency",
                            "legal_basis")}  # fmt: skip
    payload["measures"] = [
        {"measure_id": measure, "effect": "deny", "actions": [action],
         "implementing_agency": "caac", "legal_basis": ["法释〔2015〕17号"]}
        for action, measure in (FLIGHT, TRAIN)
    ]  # fmt: skip
    return Event(**{**event.__dict__, "payload": payload})


def test_a_fact_event_sets_every_action_it_carries_and_replaces_the_facts_rows(
    tmp_path: Path,
) -> None:
    """One event per fact (contract 2): its rows, one per measure and action, replace the rows
    the fact had, including those of per-action events (contract 1) of the same entry."""
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1), _event("added", PERSON, entry=2))
        added = _fact("added", PERSON, 1, valid_to="2026-12-31")
        assert _apply(replica, added) == 1
        assert _decide(replica, PERSON, TRAIN[0]) == ("deny", date(2026, 12, 31))
        assert _decide(replica, PERSON) == ("deny", None), "entry 2's flight row stays"
        assert _apply(replica, added) == 0, "a repeated event changes nothing"
        older = _event("lifted", PERSON, entry=1, seq=added.seq - 1)
        assert _apply(replica, older) == 0, "an older per-action event changes nothing"
        _apply(replica, _event("lifted", PERSON, entry=2))
        assert _decide(replica, PERSON) == ("deny", date(2026, 12, 31))
        _apply(replica, _fact("lifted", PERSON, 1, valid_to="2026-12-31"))
        assert _decide(replica, PERSON) == ("permit", None)
        assert _decide(replica, PERSON, TRAIN[0]) == ("permit", None)


def test_the_entry_key_names_origin_entry_and_relation() -> None:
    assert entry_key(_event("added", PERSON)) == ""
    assert entry_key(_event("added", PERSON, entry=4)) == "national/consumption_restricted/4"
    via = _event("added", PERSON, entry=4, via=(COMPANY, "principal", 9), origin="guizhou")
    assert entry_key(via) == f"guizhou/consumption_restricted/4/{COMPANY}/principal/9"


def test_a_subject_is_found_by_every_code_the_check_accepts(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        _apply(
            replica,
            _event(
                "added", COMPANY, entry=1, identifiers=[("orgcode", ORGCODE), ("uscc", COMPANY)]
            ),
            _event("added", PERSON, entry=2, identifiers=[("ric", PERSON)]),
        )
        for code in (COMPANY, ORGCODE, f"{ORGCODE[:8]}-{ORGCODE[8]}", COMPANY.lower()):
            assert _decide(replica, code)[0] == "deny", code
        # A USCC the replica has not seen finds the subject by the organisation code inside it,
        # as the platform's find_subject does.
        assert _decide(replica, OTHER_USCC)[0] == "deny"
        assert replica.check(ORGCODE, FLIGHT[0], at=DAY).subject == ORGCODE
        assert _decide(replica, PERSON_15)[0] == "deny", "a citizen number's 15-digit form"
        assert _decide(replica, ric.generate(random.Random(3)))[0] == "permit", (
            "a code nobody holds"
        )
        with pytest.raises(UnusableInput, match=r"checksum|校验"):
            replica.check(COMPANY[:-1] + "0", FLIGHT[0])


def test_an_event_that_names_no_entry_keeps_the_old_rule(tmp_path: Path) -> None:
    """Events written before events named their entry: one row per measure, the last event
    wins; the first event that names an entry for that measure replaces that row."""
    with Replica(tmp_path / "r.db") as replica:
        _apply(
            replica,
            _event("added", PERSON),
            _event("added", PERSON, action=TRAIN[0], measure=TRAIN[1]),
        )
        _apply(replica, _event("added", PERSON, valid_to="2026-03-01"))
        assert _decide(replica, PERSON) == ("permit", None), "the last event for the measure"
        _apply(replica, _event("added", PERSON))
        assert _decide(replica, PERSON) == ("deny", None)
        _apply(replica, _event("added", PERSON, entry=5, valid_to="2026-09-30"))
        assert _decide(replica, PERSON) == ("deny", date(2026, 9, 30)), "replaced by the entry"
        _apply(replica, _event("lifted", PERSON, entry=5))
        assert _decide(replica, PERSON) == ("permit", None)
        assert _decide(replica, PERSON, TRAIN[0]) == ("deny", None), "another measure's row stays"


def test_an_unknown_effect_fails_closed(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1, effect=None))
        assert _decide(replica, PERSON) == ("deny", None)


#: The layout of a replica file made before rows were kept per entry (version 1).
V1_SCHEMA = """
CREATE TABLE restrictions (
    subject_code TEXT NOT NULL, action TEXT NOT NULL, measure_id TEXT NOT NULL,
    state TEXT NOT NULL, effect TEXT, valid_from TEXT, valid_to TEXT, implementing_agency TEXT,
    legal_basis TEXT NOT NULL, origin TEXT NOT NULL, origin_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL, PRIMARY KEY (subject_code, action, measure_id)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO restrictions VALUES
    ('911101015366008218', 'buy_flight_ticket', 'consumption_restriction_flight', 'active',
     'deny', '2026-01-01', '2026-12-31', 'caac', '["法释〔2015〕17号"]', 'national', 40, 'e40'),
    ('110101199003074514', 'buy_flight_ticket', 'consumption_restriction_flight', 'lifted',
     'deny', '2026-01-01', NULL, 'caac', '[]', 'national', 41, 'e41'),
    ('110101199003074514', 'buy_train_ticket_soft_sleeper', 'consumption_restriction_train',
     'active', 'deny', '2026-01-01', NULL, 'caac', '[]', 'national', 42, 'e42');
INSERT INTO meta VALUES ('last_seq', '57'), ('last_event_at', '2026-05-01T00:00:00+00:00'),
    ('synced_at', '2026-05-02T00:00:00+00:00');
"""


def _old_file(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.close()
    return path


def test_a_file_of_the_old_layout_is_upgraded_on_open(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "old.db")
    with Replica(path) as replica:
        # Its rows answer as before, by the subject's code, and the stream position is kept.
        assert _decide(replica, COMPANY) == ("deny", date(2026, 12, 31))
        assert _decide(replica, PERSON) == ("permit", None)
        assert _decide(replica, PERSON, TRAIN[0]) == ("deny", None)
        assert replica.staleness().last_seq == 57
        columns = {row[1] for row in replica.db.execute("PRAGMA table_info(restrictions)")}
        assert {"entry", "list_id", "entry_id", "via_subject", "role"} <= columns
        # A repeated old event changes nothing; a new event for the measure replaces the row.
        old = _event("added", COMPANY, valid_to="2026-12-31", seq=40)
        assert _apply(replica, old) == 0
        new = _event("added", COMPANY, entry=9, identifiers=[("uscc", COMPANY)], seq=58)
        _apply(replica, new)
        assert _decide(replica, COMPANY) == ("deny", None)
        rows = replica.db.execute(
            "SELECT entry FROM restrictions WHERE subject_code = ?", (COMPANY,)
        ).fetchall()
        assert rows == [("national/consumption_restricted/9",)]
    with Replica(path) as replica:  # opening again changes nothing
        assert replica.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert _decide(replica, COMPANY) == ("deny", None)
        assert _decide(replica, PERSON, TRAIN[0]) == ("deny", None)


def test_replica_check_reads_an_old_file_from_the_command_line(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "old.db")
    args = ["replica", "check", ORGCODE, FLIGHT[0], "--replica", str(path), "--at", "2026-06-01"]
    got = CliRunner().invoke(app, [*args, "--json"])
    assert got.exit_code == 0, got.output
    decided = json.loads(got.stdout)
    assert (decided["decision"], decided["until"]) == ("deny", "2026-12-31")
    assert decided["subject"] == ORGCODE and decided["staleness"]["last_seq"] == 57
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "deny 至 / until 2026-12-31" in text.stdout


def test_a_rebuild_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1))
        replica.begin_rebuild()
        _apply(replica, _event("added", COMPANY, entry=2))
        replica.end_rebuild(commit=False)
        assert _decide(replica, PERSON)[0] == "deny" and _decide(replica, COMPANY)[0] == "permit"
        replica.begin_rebuild()
        _apply(replica, _event("added", COMPANY, entry=2))
        with Replica(tmp_path / "r.db") as reader:  # the old rows answer until it lands
            assert _decide(reader, PERSON)[0] == "deny"
        replica.end_rebuild(commit=True)
        assert _decide(replica, PERSON)[0] == "permit" and _decide(replica, COMPANY)[0] == "deny"


def _lifting(
    code: str,
    *,
    key: str = "lift-1",
    action: str = FLIGHT[0],
    window: tuple[str | None, str | None] = ("2026-05-31", "2026-06-02"),
    lists: tuple[str, ...] = ("consumption_restricted", "judgment_defaulters"),
    withdrawn: bool = False,
    seq: int | None = None,
) -> Event:
    """A ``restriction.lifted_once`` (or ``…lifting_withdrawn``) event as the platform writes it
    (``xinyong.feed.events.lifting_payload``)."""
    n = seq if seq is not None else next(_seq)
    return Event(
        event_id=f"e{n}-national",
        event_type="restriction.lifting_withdrawn" if withdrawn else "restriction.lifted_once",
        origin="national",
        seq=n,
        subject_code=code,
        subject_kind="individual",
        region=None,
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        payload={
            "action": action,
            "valid_from": window[0],
            "valid_to": window[1],
            "record_id": 70,
            "record_key": key,
            "version": 1,
            "record_type": "consumption_restriction_single_lifting",
            "document_no": "（2026）京0101执7号之一",
            "status": "withdrawn" if withdrawn else "active",
            "lists": list(lists),
            "measures": [FLIGHT[1]],
            "identifiers": [{"scheme": "ric", "value": code}],
            "authority": "court",
            "legal_basis": ["法释〔2015〕17号 第八条"],
        },
    )


def test_a_single_lifting_permits_that_trip_in_its_window_only(tmp_path: Path) -> None:
    """As ``check``: the court's row becomes a permit naming the lifting, for that action, on the
    days of the window; outside it, for another action or another list's row, denied again."""
    with Replica(tmp_path / "r.db") as replica:
        _apply(
            replica,
            _event("added", PERSON, entry=1, identifiers=[("ric", PERSON)]),
            _event("added", PERSON, action=TRAIN[0], measure=TRAIN[1], entry=1),
        )
        assert _decide(replica, PERSON) == ("deny", None)
        _apply(replica, _lifting(PERSON))
        decision = replica.check(PERSON, FLIGHT[0], at=DAY)
        assert (decision.decision, decision.until) == ("permit", None)
        (measure,) = decision.measures
        assert measure["effect"] == "permit" and measure["measure_id"] == FLIGHT[1]
        assert (measure["valid_from"], measure["valid_to"]) == ("2026-05-31", "2026-06-02")
        assert measure["lifted_by"]["document_no"] == "（2026）京0101执7号之一"
        assert measure["lifted_by"]["legal_basis"] == ["法释〔2015〕17号 第八条"]
        assert replica.check(PERSON_15, FLIGHT[0], at=DAY).decision == "permit", "any form"
        for day in (date(2026, 5, 30), date(2026, 6, 3)):
            assert replica.check(PERSON, FLIGHT[0], at=day).decision == "deny", day
        assert replica.check(PERSON, FLIGHT[0], at=date(2026, 6, 2)).decision == "permit"
        assert _decide(replica, PERSON, TRAIN[0]) == ("deny", None), "another action"
        assert _decide(replica, OTHER_PERSON)[0] == "permit"  # no rows at all


def test_a_lifting_leaves_other_lists_and_other_people_restricted(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        tax = _event("added", PERSON, entry=2, valid_to="2026-12-31")
        tax.payload["list_id"] = "major_tax_violators_refusing"
        _apply(
            replica,
            _event("added", PERSON, entry=1),
            tax,
            _event("added", OTHER_PERSON, entry=3),
            _lifting(PERSON, lists=("consumption_restricted",)),
        )
        decision = replica.check(PERSON, FLIGHT[0], at=DAY)
        assert (decision.decision, decision.until) == ("deny", date(2026, 12, 31))
        effects = sorted((m["list_id"], m["effect"]) for m in decision.measures)
        assert effects == [("consumption_restricted", "permit"),
                           ("major_tax_violators_refusing", "deny")]  # fmt: skip
        assert _decide(replica, OTHER_PERSON) == ("deny", None)
        # A row whose event named no list (an older platform) is not lifted: fail closed.
        _apply(replica, _event("added", OTHER_PERSON))
        _apply(replica, _lifting(OTHER_PERSON, key="lift-2"))
        assert _decide(replica, OTHER_PERSON) == ("deny", None)


def test_a_lifting_corrected_or_withdrawn_follows_its_latest_version(tmp_path: Path) -> None:
    with Replica(tmp_path / "r.db") as replica:
        _apply(replica, _event("added", PERSON, entry=1))
        first = _lifting(PERSON)
        _apply(replica, first)
        assert _decide(replica, PERSON)[0] == "permit"
        moved = _lifting(PERSON, window=("2026-06-10", "2026-06-11"))
        _apply(replica, moved)
        assert _decide(replica, PERSON)[0] == "deny", "the corrected window"
        assert replica.check(PERSON, FLIGHT[0], at=date(2026, 6, 10)).decision == "permit"
        assert _apply(replica, first) == 0, "an older version changes nothing"
        _apply(replica, _lifting(PERSON, window=("2026-06-10", "2026-06-11"), withdrawn=True))
        assert replica.check(PERSON, FLIGHT[0], at=date(2026, 6, 10)).decision == "deny"
        assert _apply(replica, moved) == 0, "nor after a withdrawal"
        assert replica.check(PERSON, FLIGHT[0], at=date(2026, 6, 10)).decision == "deny"
        # A lifting without both ends of its window never holds (as check's query).
        _apply(replica, _lifting(PERSON, key="lift-3", window=("2026-05-01", None)))
        assert _decide(replica, PERSON)[0] == "deny"


def test_a_version_2_file_learns_liftings_and_a_rebuild_forgets_them(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with Replica(path) as replica:
        _apply(replica, _event("added", PERSON, entry=1))
        replica.db.execute("DROP TABLE liftings")  # as a file of version 2 was
        replica.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    with Replica(path) as replica:
        assert _decide(replica, PERSON) == ("deny", None), "its rows answer as before"
        _apply(replica, _lifting(PERSON))
        assert _decide(replica, PERSON)[0] == "permit"
        replica.begin_rebuild()
        _apply(replica, _event("added", PERSON, entry=1))
        replica.end_rebuild(commit=True)
        assert _decide(replica, PERSON) == ("deny", None), "the replayed stream had no lifting"
