"""``xinyong catalog diff`` and ``xinyong catalog impact`` on the shipped catalog (NDRC order
No. 36 replacing No. 58 on 2026-04-01, as reported), against a store with the shipped examples."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from sqlalchemy import select
from tests.score.conftest import loaded, run

from xinyong.audit.tables import audit_events
from xinyong.process.records import new_version, record_by_id
from xinyong.store.engine import opened
from xinyong.store.tables import records

__all__ = ["loaded"]


def test_diff_names_what_entered_and_left_force_on_2026_04_01() -> None:
    code, out, _ = run("catalog", "diff", "--from", "2026-03-31", "--to", "2026-04-01", "--json")
    assert code == 0
    changes = json.loads(out)["changes"]
    left = {(c["kind"], c["id"]) for c in changes if c["change"] == "left"}
    entered = {(c["kind"], c["id"]) for c in changes if c["change"] == "entered"}
    assert ("instrument", "ndrc_order_58") in left
    assert ("instrument", "ndrc_order_36") in entered
    assert ("record_types/admin_penalty/disclosure_period/earlier/0", "admin_penalty") in left
    assert ("record_types/admin_penalty/disclosure_period", "admin_penalty") in entered
    assert all(c["unconfirmed"] for c in changes)  # reported dates only
    code, out, _ = run("catalog", "diff", "--from", "2026-04-01", "--to", "2026-12-04")
    assert code == 0 and "无变化" in out  # nothing between


def test_diff_refuses_bad_dates() -> None:
    assert run("catalog", "diff", "--from", "2026-13-01", "--to", "2026-04-01")[0] == 2
    assert run("catalog", "diff", "--from", "2026-04-02", "--to", "2026-04-01")[0] == 2


def test_impact_counts_repaired_records_that_stop_being_shared(loaded: str) -> None:
    """A repaired penalty: under order No. 58 agencies kept seeing it; on 2026-04-01 it leaves
    them (sharing), its province named. Publications do not change: order No. 58 keeps governing
    facts decided before (立法法 art. 104). One audit event names the instruments."""
    with opened(loaded) as engine, engine.begin() as conn:
        rid = conn.execute(
            select(records.c.id)
            .where(records.c.record_type == "admin_penalty", records.c.superseded_at.is_(None))
            .limit(1)
        ).scalar_one()
        new_version(conn, record_by_id(conn, rid), status="repaired")
    code, out, err = run("catalog", "impact", "--on", "2026-04-01", "--json", "--db", loaded)
    assert code == 0, err
    found = json.loads(out)
    assert found["totals"] == {"entries": 0, "restrictions": 0, "publications": 0, "sharing": 1}
    (row,) = found["rows"]
    assert (row["what"], row["record_type"], row["change"]) == ("sharing", "admin_penalty", "left")
    assert row["province"] is None or len(row["province"]) == 6
    assert {"ndrc_order_36", "ndrc_order_58"} <= set(found["instruments"])
    code, out, _ = run("catalog", "impact", "--on", "2026-04-02", "--json", "--db", loaded)
    assert code == 0 and json.loads(out)["totals"]["sharing"] == 0  # the day after: no change
    with opened(loaded) as engine, engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.action, audit_events.c.resource).where(
                audit_events.c.action == "catalog.impact"
            )
        ).all()
    assert len(events) == 2 and "ndrc_order_36" in (events[0].resource or "")


def test_impact_refuses_a_bad_date(loaded: str) -> None:
    assert run("catalog", "impact", "--on", "tomorrow", "--db", loaded)[0] == 2


def test_impact_apply_rederives_in_one_audited_event(loaded: str) -> None:
    """``--apply``: the pipeline re-derives every entry and restriction (on a store already
    derived by the same catalog nothing changes) and one catalog.law_change event names the
    instruments that changed."""
    code, out, err = run(
        "catalog", "impact", "--on", "2026-04-01", "--apply", "--json", "--db", loaded,
        "--purpose", "法规变更", "--by", "运维",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["applied"] == {"list_changes": 0, "restriction_changes": 0}
    with opened(loaded) as engine, engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.actor, audit_events.c.purpose, audit_events.c.resource).where(
                audit_events.c.action == "catalog.law_change"
            )
        ).all()
    assert len(events) == 1
    assert (events[0].actor, events[0].purpose) == ("运维", "法规变更")
    assert {"ndrc_order_36", "ndrc_order_58"} <= set((events[0].resource or "").split(","))


def test_impact_counts_publications_a_new_rule_ends(tmp_path: Path, sqlite_store_url: str) -> None:
    """An operator's fine, 3 years under an old rule, 1 year under the new one from 2024-01-01,
    with no transitional provision: the new law reaches earlier facts. On 2024-01-01 a fine
    decided 2022-06-01 leaves publication (its year is over); one decided 2023-06-01 stays."""
    from tests.catalog.test_law import INSTRUMENTS, NEW_WITH_OLD, RECORD_TYPE

    folder = tmp_path / "catalog"
    folder.mkdir()
    period = NEW_WITH_OLD.replace("TRANSITIONAL", "")
    (folder / "law.yaml").write_text(
        textwrap.dedent(INSTRUMENTS) + RECORD_TYPE.replace("PERIOD", period), encoding="utf-8"
    )
    rows = tmp_path / "fines.csv"
    rows.write_text(
        "subject_name,subject_code,document_no,decided_on\n"
        "福州某某贸易有限公司,91350100M000100Y43,罚1号,2022-06-01\n"
        "福州某某贸易有限公司,91350100M000100Y43,罚2号,2023-06-01\n",
        encoding="utf-8",
    )
    common = ("--db", sqlite_store_url, "--catalog", str(folder))
    code, out, err = run("ingest", str(rows), "--type", "dated_fine", "--source", "samr", *common)
    assert code == 0, (out, err)
    code, out, err = run("catalog", "impact", "--on", "2024-01-01", "--json", *common)
    assert code == 0, err
    found = json.loads(out)
    assert found["totals"]["publications"] == 1
    got = [
        (r["what"], r["record_type"], r["province"], r["change"], r["count"]) for r in found["rows"]
    ]
    assert got == [("publications", "dated_fine", "350000", "left", 1)]
    assert found["instruments"] == ["new_rule", "old_rule"]
