"""An objection suspends the railway and aviation restrictions while it is examined, as
docs/due-process.md promises (发改财金〔2018〕384号 / 385号: 异议期间暂不实施限制), and only
those: denied → objects → permitted while open → denied again when rejected; corrected when
upheld. Every face reads the same restriction index (check, the checker, screen, replicas)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.process.conftest import OTHER_PERSON, PERSON, Load, defaulter

from xinyong.catalog import Catalog
from xinyong.feed.tables import feed_events
from xinyong.lists.tables import list_entries
from xinyong.measures import check
from xinyong.measures.screen import screen
from xinyong.process.objections import decide_objection, file_objection
from xinyong.process.policy import suspends_during_objection
from xinyong.store.tables import records

DAY = date(2025, 4, 1)  # the 7-working-day notice of 2025-03-03 has run; the period has not

#: record type → (the action its list's measure denies, the record's source authority)
LISTED = {
    "railway_safety_violation": ("buy_train_ticket", "china_railway"),
    "aviation_safety_violation": ("buy_flight_ticket", "mps"),
}


def _offence(code: str, name: str, doc: str, published: str = "2025-03-03") -> dict[str, str]:
    return {
        "姓名": name,
        "身份证号码": code,
        "处罚决定书文号": doc,
        "处罚日期": "2025-02-20",
        "公布日期": published,
        "失信行为": "disrupt_order" if "铁" in doc else "cabin_disorder",
    }


def _current(engine: Engine, code: str, record_type: str) -> tuple[int, str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(records.c.id, records.c.status, records.c.fields).where(
                records.c.subject_code == code,
                records.c.record_type == record_type,
                records.c.superseded_at.is_(None),
            )
        ).one()
    return int(row[0]), str(row[1]), str(row[2])


def _feed(engine: Engine, code: str) -> list[str]:
    """The feed's event types about ``code``, in order."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(feed_events.c.event_type)
                .where(feed_events.c.subject_code == code)
                .order_by(feed_events.c.id)
            ).scalars()
        )


def _outcome(engine: Engine, catalog: Catalog, code: str, action: str, day: date = DAY) -> str:
    with engine.begin() as conn:
        return check(conn, code, action, day, catalog=catalog).outcome


def _screened(engine: Engine, catalog: Catalog, tmp_path: Path, code: str, action: str) -> str:
    source, out = tmp_path / "codes.csv", tmp_path / "out.csv"
    source.write_text(f"code\n{code}\n", encoding="utf-8")
    screen(engine, source, action, out, at=DAY, catalog=catalog)
    return out.read_text(encoding="utf-8").splitlines()[1].split(",")[1]


def test_the_policy_suspends_exactly_the_railway_and_aviation_lists() -> None:
    assert {t for t in LISTED if suspends_during_objection(t)} == set(LISTED)
    assert not suspends_during_objection("judgment_defaulter")


@pytest.mark.parametrize("record_type", sorted(LISTED))
def test_an_open_objection_suspends_the_ban_and_a_rejected_one_restores_it(
    engine: Engine, load: Load, catalog: Catalog, tmp_path: Path, record_type: str
) -> None:
    action, authority = LISTED[record_type]
    doc = "铁公罚〔2025〕1号" if record_type.startswith("railway") else "民公罚〔2025〕1号"
    load(record_type, [_offence(PERSON, "陈静", doc)], source=authority)
    rid, _, _ = _current(engine, PERSON, record_type)
    assert _outcome(engine, catalog, PERSON, action) == "deny"
    before = len(_feed(engine, PERSON))

    with engine.begin() as conn:
        objection = file_objection(
            conn,
            catalog=catalog,
            subject_code=PERSON,
            record_id=rid,
            filed_by="陈静（本人）",
            reason="当日本人不在该车次 / not on that train that day",
            at=DAY,
        )
    assert objection.state == "open" and objection.authority == authority
    # While it is open: no restriction, on every path that reads the index.
    assert _outcome(engine, catalog, PERSON, action) == "permit"
    assert _screened(engine, catalog, tmp_path, PERSON, action) == "permit"
    with engine.connect() as conn:
        states = conn.execute(
            select(list_entries.c.state, list_entries.c.reason)
            .where(list_entries.c.superseded_at.is_(None))
            .order_by(list_entries.c.id)
        ).all()
    assert ("removed", "suspended") in [tuple(s) for s in states]
    # Agencies' replicas follow the feed: the restriction is lifted there too.
    filed = _feed(engine, PERSON)[before:]
    assert {"list.removed", "restriction.lifted"} <= set(filed)
    assert "restriction.added" not in filed
    before = len(_feed(engine, PERSON))

    with engine.begin() as conn:
        decided = decide_objection(
            conn,
            objection.id,
            catalog=catalog,
            upheld=False,
            authority=authority,
            decided_by="审核员",
            reason="处罚决定有效 / the penalty stands",
            at=date(2025, 4, 3),
        )
    assert decided.state == "rejected"
    assert _current(engine, PERSON, record_type)[1] == "active"
    assert _outcome(engine, catalog, PERSON, action) == "deny"
    assert _screened(engine, catalog, tmp_path, PERSON, action) == "deny"
    assert "restriction.added" in _feed(engine, PERSON)[before:]


def test_an_upheld_objection_corrects_the_record_and_the_ban_follows_the_correction(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    load(
        "railway_safety_violation",
        [_offence(OTHER_PERSON, "林峰", "铁公罚〔2025〕2号")],
        source="china_railway",
    )
    rid, _, _ = _current(engine, OTHER_PERSON, "railway_safety_violation")
    with engine.begin() as conn:
        objection = file_objection(
            conn,
            catalog=catalog,
            subject_code=OTHER_PERSON,
            record_id=rid,
            filed_by="林峰（本人）",
            reason="公布日期有误 / wrong publication date",
            at=DAY,
        )
    assert _outcome(engine, catalog, OTHER_PERSON, "buy_train_ticket") == "permit"
    with engine.begin() as conn:
        decide_objection(
            conn,
            objection.id,
            catalog=catalog,
            upheld=True,
            authority="china_railway",
            decided_by="审核员",
            reason="公布日期录入错误 / publication date mistyped",
            remedy="correct",
            corrections={"published_on": "2024-06-03"},
            at=date(2025, 4, 3),
        )
    corrected, status, fields = _current(engine, OTHER_PERSON, "railway_safety_violation")
    assert corrected != rid and status == "active" and "2024-06-03" in fields
    # The corrected record's 180 days ran out in 2024: no ban now, one back then.
    assert _outcome(engine, catalog, OTHER_PERSON, "buy_train_ticket") == "permit"
    assert _outcome(engine, catalog, OTHER_PERSON, "buy_train_ticket", date(2024, 8, 1)) == "deny"


def test_a_court_listing_stays_in_force_under_objection(
    engine: Engine, load: Load, catalog: Catalog
) -> None:
    """法释〔2017〕7号 art. 12: the defaulter list is not suspended while the court reviews."""
    load("judgment_defaulter", [defaulter(PERSON, "王伟", "（2024）闽0102执9号")], source="court")
    rid, _, _ = _current(engine, PERSON, "judgment_defaulter")
    with engine.begin() as conn:
        file_objection(
            conn,
            catalog=catalog,
            subject_code=PERSON,
            record_id=rid,
            filed_by="王伟",
            reason="已履行 / performed",
            at=DAY,
        )
    assert _outcome(engine, catalog, PERSON, "buy_flight_ticket") == "deny"
