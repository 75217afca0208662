"""The API's hot path: ``Checker`` gives ``check``'s decisions; ``DecisionWriter`` logs them all.

Both run on SQLite and PostgreSQL (``db_url``), with data loaded through the real ingest.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from tests.measures.conftest import ENTERPRISE, PERSON_A, PERSON_C, PERSON_D, Load, defaulter

from xinyong import audit
from xinyong.audit.tables import audit_events
from xinyong.catalog import default_catalog
from xinyong.errors import LogUnavailable
from xinyong.measures import check, replay
from xinyong.measures.checker import Checker
from xinyong.measures.tables import decisions
from xinyong.measures.writer import MODE_ENV, DecisionWriter, writer_for
from xinyong.store.engine import connect

AUDIT = {"actor": "caac-agency", "role": "agency", "purpose": "boarding", "action": "check:x"}


def _load_linked(load: Load) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    load(
        "enterprise_officer",
        [{
            "企业名称": "杭州某某贸易有限公司", "统一社会信用代码": ENTERPRISE, "人员姓名": "李强",
            "人员身份证号码": PERSON_A, "职务": "法定代表人", "任职日期": "2020-01-01",
        }],
    )  # fmt: skip
    load(
        "consumption_restriction_order",
        [{
            "被执行人": "杭州某某贸易有限公司", "统一社会信用代码": ENTERPRISE,
            "执行法院": "杭州市西湖区人民法院", "案号": "（2024）浙0106执20号",
            "决定日期": "2024-06-01", "法定代表人": "李强",
        }],
    )  # fmt: skip


def _same(decision: Any) -> dict[str, Any]:
    body: dict[str, Any] = decision.as_json()
    body.pop("decision_id")
    return body


def test_checker_decides_exactly_like_check(engine: Engine, load: Load) -> None:
    _load_linked(load)
    checker = Checker(engine, default_catalog(), writer=DecisionWriter(engine, sync=True))
    legacy = PERSON_D[:6] + PERSON_D[8:17]
    cases: list[tuple[str, str, date | None, date | datetime | None]] = [
        (PERSON_D, "buy_flight_ticket", date(2025, 1, 1), None),
        (legacy, "buy_flight_ticket", date(2025, 1, 1), None),
        (PERSON_D, "buy_flight_ticket", date(2026, 3, 6), None),  # the day after the period
        (PERSON_D, "buy_flight_ticket", date(2025, 1, 1), date(2000, 1, 1)),  # not yet known
        (PERSON_D, "buy_flight_ticket", None, datetime.now(UTC) + timedelta(days=1)),
        (PERSON_A, "buy_flight_ticket", date(2025, 1, 1), None),  # legal representative
        (ENTERPRISE, "buy_flight_ticket", date(2025, 1, 1), None),
        (ENTERPRISE[8:17], "buy_flight_ticket", date(2025, 1, 1), None),  # its orgcode
        (PERSON_C, "buy_flight_ticket", date(2025, 1, 1), None),  # unknown to the store
    ]
    outcomes = set()
    for subject, action, at, known in cases:
        fast = checker.decide(subject, action, at, known)
        with engine.connect() as conn:
            slow = check(conn, subject, action, at, known, catalog=default_catalog(), log=False)
        assert _same(fast) == _same(slow), subject
        outcomes.add(fast.outcome)
    assert outcomes == {"deny", "permit"}
    assert any(r.via_subject == ENTERPRISE for r in checker.decide(PERSON_A, "buy_flight_ticket",
               date(2025, 1, 1)).reasons)  # fmt: skip


def test_queued_checks_from_many_threads_are_all_logged_audited_and_replayable(
    engine: Engine, load: Load
) -> None:
    _load_linked(load)
    writer = DecisionWriter(engine, sync=False)
    checker = Checker(engine, default_catalog(), writer=writer)
    taken: dict[int, list[str]] = {}

    def agency(n: int) -> None:
        ids = taken.setdefault(n, [])
        for i in range(40):
            subject = (PERSON_D, PERSON_A, PERSON_C)[i % 3]
            decision = checker.check(
                subject, "buy_flight_ticket", date(2025, 1, 1), actor=f"api:{n}", audit=AUDIT
            )
            ids.append(decision.decision_id)

    threads = [threading.Thread(target=agency, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.flush()
    every = [i for ids in taken.values() for i in ids]
    with engine.connect() as conn:
        logged = set(conn.execute(select(decisions.c.decision_id)).scalars())
        events = conn.execute(select(audit_events).order_by(audit_events.c.id)).all()
        chain = audit.verify(conn)
        first = replay(conn, taken[0][0], catalog=default_catalog())
    assert logged == set(every) and len(every) == 160
    assert {e.resource for e in events} == set(every)
    assert chain.ok and chain.count == len(events) == 160
    for ids in taken.values():  # each thread's events in the order it checked
        positions = [next(e.id for e in events if e.resource == i) for i in ids]
        assert positions == sorted(positions)
    assert first.outcome == "deny"
    by_id = {e.resource: e for e in events}
    assert by_id[taken[0][0]].outcome == "deny" and by_id[taken[0][0]].purpose == "boarding"
    writer.close()


def test_close_commits_what_is_queued_and_a_bad_event_is_refused_at_once(
    db_url: str, engine: Engine, load: Load
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    other = connect(db_url)
    checker = Checker(other, default_catalog(), writer=writer_for(other))
    decision = checker.decide(PERSON_D, "buy_flight_ticket")
    done = checker.log(decision, actor="t", audit=AUDIT)  # handed over, not awaited
    with pytest.raises(ValueError):
        checker.check(PERSON_D, "buy_flight_ticket", audit={**AUDIT, "purpose": " "})
    checker.writer.close()
    assert done.done() and done.exception() is None
    other.dispose()
    ids = [decision.decision_id]
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(decisions).where(decisions.c.decision_id.in_(ids))
        ).scalar_one()
        audited = conn.execute(
            select(func.count()).select_from(audit_events).where(audit_events.c.resource.in_(ids))
        ).scalar_one()
    assert (count, audited) == (1, 1)


def test_an_answered_check_is_already_committed(engine: Engine, load: Load) -> None:
    """Group commit: ``check`` returns only once its decision and event are in the database
    (read here on another connection at once, without any flush)."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    writer = DecisionWriter(engine, sync=False)
    checker = Checker(engine, default_catalog(), writer=writer)
    try:
        for _ in range(5):
            decision = checker.check(
                PERSON_D, "buy_flight_ticket", date(2025, 1, 1), actor="t", audit=AUDIT
            )
            with engine.connect() as conn:
                logged = conn.execute(
                    select(decisions.c.outcome).where(
                        decisions.c.decision_id == decision.decision_id
                    )
                ).scalar_one_or_none()
                event = conn.execute(
                    select(audit_events.c.outcome).where(
                        audit_events.c.resource == decision.decision_id
                    )
                ).scalar_one_or_none()
            assert logged == event == decision.outcome == "deny"
    finally:
        writer.close()


@pytest.mark.parametrize("sync", [False, True], ids=["grouped", "sync"])
def test_a_check_whose_log_cannot_be_written_is_not_answered(
    engine: Engine, load: Load, sync: bool
) -> None:
    """Fail closed: with the audit table gone, ``check`` raises ``LogUnavailable`` (no decision
    comes back) and no decision row is left without its event; once the table is back, checks
    are answered and logged again, on one intact chain."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    writer = DecisionWriter(engine, sync=sync)
    checker = Checker(engine, default_catalog(), writer=writer)
    try:
        checker.check(PERSON_D, "buy_flight_ticket", actor="t", audit=AUDIT)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events RENAME TO audit_events_away"))
        with pytest.raises(LogUnavailable):
            checker.check(PERSON_D, "buy_flight_ticket", actor="t", audit=AUDIT)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events_away RENAME TO audit_events"))
        after = checker.check(PERSON_D, "buy_flight_ticket", actor="t", audit=AUDIT)
        with engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
            chain = audit.verify(conn)
            last = audit.list_events(conn, limit=1)[0]
    finally:
        writer.close()
    assert logged == 2 and chain.ok and chain.count == 2
    assert last.resource == after.decision_id


def test_sync_mode_from_the_environment_writes_before_returning(
    engine: Engine, load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODE_ENV, "sync")
    writer = DecisionWriter(engine)
    assert writer.sync
    decision = Checker(engine, default_catalog(), writer=writer).check(
        PERSON_D, "buy_flight_ticket", audit=AUDIT
    )
    with engine.connect() as conn:
        assert (
            replay(conn, decision.decision_id, catalog=default_catalog()).outcome
            == decision.outcome
            == "permit"
        )
        assert audit.events_for_subject(conn, PERSON_D)[-1].resource == decision.decision_id


def test_two_writers_on_one_sqlite_file_take_turns_and_lose_nothing(
    engine: Engine, load: Load, tmp_path: Path
) -> None:
    """Two API workers' writers (here two engines on the file) queue on the writer lock file;
    a writer whose lock file cannot be opened still commits (SQLite's own lock alone)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the writer lock file is SQLite's")
    _load_linked(load)
    url = engine.url
    other = connect(url.render_as_string(hide_password=False))
    lock = Path(f"{url.database}.writer-lock")
    checkers = [Checker(e, default_catalog(), writer=DecisionWriter(e)) for e in (engine, other)]
    done: list[str] = []

    def agency(checker: Checker, n: int) -> None:
        for _ in range(25):
            decision = checker.check(PERSON_D, "buy_flight_ticket", actor=f"api:{n}", audit=AUDIT)
            done.append(decision.decision_id)

    threads = [threading.Thread(target=agency, args=(c, n)) for n, c in enumerate(checkers * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lock.exists()
    for checker in checkers:
        checker.writer.close()
    lock.unlink()
    lock.symlink_to(tmp_path / "no-such-dir" / "lock")  # cannot be created nor opened
    unlocked = DecisionWriter(other)
    Checker(other, default_catalog(), writer=unlocked).check(
        PERSON_D, "buy_flight_ticket", actor="api:x", audit=AUDIT
    )
    unlocked.close()
    other.dispose()
    with engine.connect() as conn:
        logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
        chain = audit.verify(conn)
    assert len(done) == 100 and logged == 101
    assert chain.ok and chain.count == 101
