"""The case module every objection, repair and commitment goes through: its lifecycle (every
illegal move refused, for each kind), the deciding authority, due dates in working days across
holidays, and the outcome feed event — a repair's decision emits one as an objection's does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from tests.process.conftest import ENTERPRISE, Load, make_loader, penalty
from typer.testing import CliRunner

from xinyong.audit.tables import audit_events
from xinyong.catalog import Catalog, Duration
from xinyong.cli import app
from xinyong.errors import Conflict, Forbidden, NotFound, UnusableInput
from xinyong.feed import Event
from xinyong.feed.federation import FAMILIES, entity_of
from xinyong.feed.tables import feed_events
from xinyong.process.cases import COMMITMENTS, OBJECTIONS, REPAIRS, CaseKind, due_after
from xinyong.process.commitments import (
    breach_commitment,
    fulfil_commitment,
    get_commitment,
    list_commitments,
    sign_commitment,
)
from xinyong.process.lifecycle import COMMITMENT, OBJECTION, REPAIR, Lifecycle
from xinyong.process.objections import decide_objection, file_objection, list_objections
from xinyong.process.repair import apply_repair, decide_repair, get_repair, list_repairs
from xinyong.process.tables import repairs
from xinyong.store.tables import batches, provenance, records

runner = CliRunner()
CONDITIONS = ["1", "2", "3"]
#: Decided 2024-01-10: the minimum disclosure period of a 一般 penalty ends 2024-04-10.
DECIDED = "2024-01-10"
#: Each kind, and who may move its cases in these tests (``approval_agencies`` signs).
WHO = {"objection": "samr", "repair": "samr", "commitment": "approval_agencies"}


@pytest.mark.parametrize("life", [OBJECTION, REPAIR, COMMITMENT], ids=lambda life: life.name)
def test_every_move_the_lifecycle_does_not_name_is_refused(life: Lifecycle) -> None:
    allowed = {(state, to) for state, targets in life.moves for to in targets}
    assert allowed, "each kind has moves"
    for state in life.states:
        for to in (*life.states, "deleted"):
            if (state, to) in allowed:
                life.check(1, state, to)
                continue
            with pytest.raises(Conflict) as refused:
                life.check(1, state, to)
            text = refused.value.bilingual()
            assert life.noun_zh in text and to in text  # says what and which move
    # Outcomes are final: only the starting state moves.
    assert [state for state in life.states if life.allowed(state)] == [life.start]


# --- the same rules through each kind's own functions ----------------------------------------


def _open_objection(conn: Any, catalog: Catalog, rid: int, at: date) -> int:
    return file_objection(
        conn, catalog=catalog, subject_code=ENTERPRISE, record_id=rid, reason="金额有误",
        filed_by="法务", at=at,
    ).id  # fmt: skip


def _open_repair(conn: Any, catalog: Catalog, rid: int, at: date) -> int:
    return apply_repair(
        conn, catalog=catalog, record_id=rid, subject_code=ENTERPRISE, applied_by="法务",
        statement="罚款已缴清", conditions_met=CONDITIONS, at=at,
    ).id  # fmt: skip


def _open_commitment(conn: Any, catalog: Catalog, rid: int, at: date) -> int:
    return sign_commitment(
        conn, catalog=catalog, subject_code=ENTERPRISE, subject_name="福州某某贸易有限公司",
        kind="tolerance_acceptance", matter="30日内补齐环评批复",
        authority="approval_agencies", due_on=date(2024, 5, 31), at=at,
    ).id  # fmt: skip


OPENERS = {"objection": _open_objection, "repair": _open_repair, "commitment": _open_commitment}


def _move(
    conn: Any, catalog: Catalog, kind: str, case_id: int, to: str, authority: str, at: date
) -> Any:
    """Move a case to ``to`` with the kind's own function (as the CLI and API call it)."""
    if kind == "objection":
        upheld = to == "upheld"
        return decide_objection(
            conn, case_id, catalog=catalog, upheld=upheld, authority=authority,
            decided_by="信用科", reason="经核查", remedy="withdraw" if upheld else None, at=at,
        )  # fmt: skip
    if kind == "repair":
        return decide_repair(
            conn, case_id, catalog=catalog, granted=to == "granted", authority=authority,
            decided_by="信用科", reason="经核查", at=at,
        )  # fmt: skip
    if to == "fulfilled":
        return fulfil_commitment(conn, case_id, catalog=catalog, authority=authority, at=at)
    return breach_commitment(
        conn, case_id, catalog=catalog, authority=authority, breach="逾期未补齐材料",
        found_by="审批科", at=at,
    )  # fmt: skip


def _counts(engine: Engine) -> tuple[int, int, int]:
    """Record versions, audit events and feed events: what a refused move must not add."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(records)).scalar_one(),
            conn.execute(select(func.count()).select_from(audit_events)).scalar_one(),
            conn.execute(select(func.count()).select_from(feed_events)).scalar_one(),
        )


@pytest.fixture()
def penalty_id(sqlite_engine: Engine, tmp_path: Path) -> int:
    """One 一般 admin penalty of ENTERPRISE from samr, loaded through the real ingest."""
    make_loader(sqlite_engine, tmp_path)(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2024〕12号", DECIDED)],
    )
    with sqlite_engine.connect() as conn:
        return int(conn.execute(select(records.c.id)).scalar_one())


KINDS = {kind.name: kind for kind in (OBJECTIONS, REPAIRS, COMMITMENTS)}
#: (kind, outcome): every decision a case can take.
DECISIONS = [(k.name, to) for k in KINDS.values() for to in k.lifecycle.allowed(k.lifecycle.start)]
#: (kind, first outcome, second outcome): every second decision.
SECOND_MOVES = [
    (kind, first, second) for kind, first in DECISIONS for k, second in DECISIONS if k == kind
]


@pytest.mark.parametrize(("kind", "first", "second"), SECOND_MOVES)
def test_a_second_decision_is_refused_and_changes_nothing(
    sqlite_engine: Engine, catalog: Catalog, penalty_id: int, kind: str, first: str, second: str
) -> None:
    day = date(2024, 4, 30)
    with sqlite_engine.begin() as conn:
        case_id = OPENERS[kind](conn, catalog, penalty_id, day)
    with sqlite_engine.begin() as conn:
        decided = _move(conn, catalog, kind, case_id, first, WHO[kind], day)
    assert decided.state == first
    before = _counts(sqlite_engine)
    with sqlite_engine.begin() as conn, pytest.raises(Conflict, match=f"cannot become {second}"):
        _move(conn, catalog, kind, case_id, second, WHO[kind], date(2024, 5, 6))
    assert _counts(sqlite_engine) == before
    with sqlite_engine.connect() as conn:
        table = KINDS[kind].table
        row = conn.execute(select(table).where(table.c.id == case_id)).one()
    assert row.state == first


@pytest.mark.parametrize(("kind", "to"), DECISIONS)
def test_only_the_cases_authority_may_move_it(
    sqlite_engine: Engine, catalog: Catalog, penalty_id: int, kind: str, to: str
) -> None:
    day = date(2024, 4, 30)
    with sqlite_engine.begin() as conn:
        case_id = OPENERS[kind](conn, catalog, penalty_id, day)
    before = _counts(sqlite_engine)
    other = "court"
    with sqlite_engine.begin() as conn, pytest.raises(Forbidden) as refused:
        _move(conn, catalog, kind, case_id, to, other, day)
    assert WHO[kind] in refused.value.bilingual() and other in refused.value.bilingual()
    assert _counts(sqlite_engine) == before
    with sqlite_engine.begin() as conn:
        assert _move(conn, catalog, kind, case_id, to, WHO[kind], day).state == to


def test_an_unknown_case_or_state_is_a_clear_error(sqlite_engine: Engine, catalog: Catalog) -> None:
    with sqlite_engine.begin() as conn:
        with pytest.raises(NotFound, match="no repair application 99"):
            decide_repair(
                conn, 99, catalog=catalog, granted=True, authority="samr", decided_by="x",
                reason="y",
            )  # fmt: skip
        with pytest.raises(NotFound, match="no commitment 7"):
            fulfil_commitment(conn, 7, catalog=catalog, authority="samr")
        with pytest.raises(UnusableInput, match="open, upheld, rejected"):
            list_objections(conn, state="closed")
        with pytest.raises(UnusableInput, match="pending, granted, refused"):
            list_repairs(conn, state="open")


def test_the_database_refuses_a_state_outside_the_lifecycle(
    sqlite_engine: Engine, catalog: Catalog, penalty_id: int
) -> None:
    with sqlite_engine.begin() as conn:
        case_id = _open_repair(conn, catalog, penalty_id, date(2024, 4, 30))
    with pytest.raises(IntegrityError), sqlite_engine.begin() as conn:
        conn.execute(update(repairs).where(repairs.c.id == case_id).values(state="closed"))


# --- due dates in working days ----------------------------------------------------------------


def test_due_after_takes_the_latest_deadline_across_holidays() -> None:
    # Golden Week 2024: Oct 1–7 off, Sun Sep 29 and Sat Oct 12 worked.
    ten_wd, fifteen_d = Duration.model_validate("10wd"), Duration.model_validate("15d")
    assert due_after(date(2024, 9, 27), ten_wd) == date(2024, 10, 16)
    # 15 days from Sep 20 end on Oct 5, a holiday: the 8th.
    assert due_after(date(2024, 9, 20), fifteen_d) == date(2024, 10, 8)
    # 10 working days from Fri Sep 20 (Sep 29 worked): Oct 10, later than the 15 days.
    assert due_after(date(2024, 9, 20), ten_wd, fifteen_d) == date(2024, 10, 10)


def test_due_dates_and_overdue_on_a_holiday_boundary(
    sqlite_engine: Engine, catalog: Catalog, penalty_id: int
) -> None:
    # Filed the last working day before the 2024 National Day holiday (Sep 30; Oct 1–7 off).
    filed = date(2024, 9, 30)
    with sqlite_engine.begin() as conn:
        objection_id = _open_objection(conn, catalog, penalty_id, filed)
    with sqlite_engine.connect() as conn:
        (objection,) = list_objections(conn)
    # 10 working days: Oct 8 … 12 (Sat, worked), 14 … 18 → Fri Oct 18.
    assert objection.id == objection_id and objection.due_on == date(2024, 10, 18)
    assert not objection.overdue(date(2024, 10, 18)) and objection.overdue(date(2024, 10, 19))
    # Applied on the Friday before the 2025 Spring Festival (Jan 28–Feb 4 off; Jan 26 and Feb 8
    # worked): 10 working days end on Thu Feb 13.
    with sqlite_engine.begin() as conn:
        decide_objection(
            conn, objection_id, catalog=catalog, upheld=False, authority="samr",
            decided_by="信用科", reason="处罚决定书有效", at=date(2025, 1, 23),
        )  # fmt: skip
        repair = apply_repair(
            conn, catalog=catalog, record_id=penalty_id, subject_code=ENTERPRISE,
            applied_by="法务", statement="罚款已缴清", conditions_met=CONDITIONS,
            at=date(2025, 1, 24),
        )  # fmt: skip
    assert repair.due_on == date(2025, 2, 13)
    with sqlite_engine.connect() as conn:
        assert list_repairs(conn, overdue_on=date(2025, 2, 13)) == []
        assert [r.id for r in list_repairs(conn, overdue_on=date(2025, 2, 14))] == [repair.id]
    assert repair.as_json(date(2025, 2, 14))["overdue"] is True


# --- the outcome feed event -------------------------------------------------------------------


def _outcomes(engine: Engine, event_type: str) -> list[tuple[str | None, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(feed_events.c.subject_code, feed_events.c.payload)
            .where(feed_events.c.event_type == event_type)
            .order_by(feed_events.c.id)
        ).all()
    return [(r.subject_code, r.payload) for r in rows]


def _current_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(records.c.id).where(records.c.superseded_at.is_(None))).scalar_one()
        )


def test_deciding_a_repair_emits_its_outcome_as_an_objection_does(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    load(
        "admin_penalty",
        [penalty(ENTERPRISE, "福州某某贸易有限公司", "榕市监罚〔2024〕12号", DECIDED)],
    )
    rid = _current_id(engine)
    day = date(2024, 4, 30)
    with engine.begin() as conn:
        objection_id = _open_objection(conn, catalog, rid, day)
    with engine.begin() as conn:
        decide_objection(
            conn, objection_id, catalog=catalog, upheld=False, authority="samr",
            decided_by="信用科", reason="处罚决定书有效", at=day,
        )  # fmt: skip
    restored = _current_id(engine)
    assert _outcomes(engine, "objection.outcome") == [
        (
            ENTERPRISE,
            {"objection_id": objection_id, "outcome": "rejected", "records": [restored],
             "remedy": None},
        )
    ]  # fmt: skip
    # Refused: the record is unchanged, and the event says so.
    with engine.begin() as conn:
        refused_id = _open_repair(conn, catalog, restored, day)
    with engine.begin() as conn:
        decide_repair(
            conn, refused_id, catalog=catalog, granted=False, authority="samr",
            decided_by="信用科", reason="未整改", at=day,
        )  # fmt: skip
    # Granted in a transaction that then fails: no event, no decision, no new version.
    with engine.begin() as conn:
        granted_id = _open_repair(conn, catalog, restored, day)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        decide_repair(
            conn, granted_id, catalog=catalog, granted=True, authority="samr",
            decided_by="信用科", reason="条件满足", at=day,
        )  # fmt: skip
        raise RuntimeError("the transaction fails after the decision")
    assert _current_id(engine) == restored
    with engine.connect() as conn:
        assert get_repair(conn, granted_id).state == "pending"
    assert _outcomes(engine, "repair.outcome") == [
        (ENTERPRISE, {"repair_id": refused_id, "outcome": "refused", "records": []})
    ]
    # Granted for real: the event names the new, repaired version.
    with engine.begin() as conn:
        decide_repair(
            conn, granted_id, catalog=catalog, granted=True, authority="samr",
            decided_by="信用科", reason="条件满足", at=date(2024, 5, 6),
        )  # fmt: skip
    repaired = _current_id(engine)
    assert repaired != restored
    assert _outcomes(engine, "repair.outcome")[1:] == [
        (ENTERPRISE, {"repair_id": granted_id, "outcome": "granted", "records": [repaired]})
    ]
    with engine.connect() as conn:
        status = conn.execute(select(records.c.status).where(records.c.id == repaired)).scalar()
    assert status == "repaired"


def test_a_breach_becomes_a_record_of_its_own_one_row_batch(
    sqlite_engine: Engine, catalog: Catalog
) -> None:
    with sqlite_engine.begin() as conn:
        case_id = _open_commitment(conn, catalog, 0, date(2024, 4, 1))
    with sqlite_engine.begin() as conn:
        found = breach_commitment(
            conn, case_id, catalog=catalog, authority="approval_agencies",
            breach="逾期未补齐材料", found_by="审批科", at=date(2024, 6, 3),
        )  # fmt: skip
    assert found.state == "breached" and found.breached_on == date(2024, 6, 3)
    with sqlite_engine.connect() as conn:
        record = conn.execute(select(records).where(records.c.id == found.breach_record_id)).one()
        batch = conn.execute(
            select(batches).join(provenance, provenance.c.batch_id == batches.c.id)
            .where(provenance.c.record_id == record.id)
        ).one()  # fmt: skip
        assert [c.id for c in list_commitments(conn, subject_code=ENTERPRISE)] == [case_id]
        assert get_commitment(conn, case_id).as_json()["breach_record_id"] == record.id
    assert (record.record_type, record.source, record.status) == (
        "commitment_breach", "approval_agencies", "active",
    )  # fmt: skip
    assert record.subject_id is not None, "the pipeline's link step attached it"
    assert record.fields["breach"] == "逾期未补齐材料" and record.document_no == f"承诺-{case_id}"
    assert (batch.file_name, batch.state, batch.accepted) == (f"commitment:{case_id}", "done", 1)


@pytest.mark.parametrize("kind", [OBJECTIONS, REPAIRS], ids=lambda k: k.name)
def test_a_peer_platform_keeps_each_cases_outcome_by_its_id(kind: CaseKind) -> None:
    assert kind.outcome_event is not None and kind.name in FAMILIES
    event = Event(
        event_id="0" * 32, event_type=kind.outcome_event, origin="guizhou", seq=1,
        subject_code=ENTERPRISE, subject_kind=None, region=None,
        occurred_at=datetime(2024, 5, 6, tzinfo=UTC),
        payload={f"{kind.name}_id": 4, "outcome": kind.lifecycle.allowed(kind.lifecycle.start)[0]},
    )  # fmt: skip
    assert entity_of(event) == (kind.name, "4")


def test_the_cli_says_a_refused_move_in_one_line_and_exits_2(
    sqlite_engine: Engine, penalty_id: int
) -> None:
    db = ["--db", str(sqlite_engine.url)]
    applied = runner.invoke(
        app,
        ["repair", "apply", ENTERPRISE, "--record", str(penalty_id), "--statement", "罚款已缴清",
         *[a for c in CONDITIONS for a in ("--condition", c)], "--at", "2024-04-30", "--json",
         *db],
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    repair_id = str(json.loads(applied.stdout)["id"])
    decide = ["repair", "decide", repair_id, "--reason", "条件满足", "--at", "2024-05-06", *db]
    wrong = runner.invoke(app, [*decide, "--grant", "--authority", "court"])
    assert wrong.exit_code == 2 and "samr" in wrong.stderr and "Traceback" not in wrong.output
    granted = runner.invoke(app, [*decide, "--grant", "--authority", "samr", "--json"])
    assert granted.exit_code == 0 and json.loads(granted.stdout)["state"] == "granted"
    again = runner.invoke(app, [*decide, "--refuse", "--authority", "samr"])
    assert again.exit_code == 2
    assert again.stderr.strip().splitlines() == [
        "错误 / error: 与当前状态冲突 / conflict with the current state: "
        f"修复申请 {repair_id} 已是 granted，不能改为 refused / "
        f"repair application {repair_id} is granted; it cannot become refused"
    ]
    bad_state = runner.invoke(app, ["repair", "list", "--state", "closed", *db])
    assert bad_state.exit_code == 2 and "pending, granted, refused" in bad_state.stderr
