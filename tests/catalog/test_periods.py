"""One period rule (xinyong.catalog.periods), one table of cases, every user and engine held to it.

Each case is a record of a real shipped record type (or on a real shipped list) and the days its
period gives it. The same table goes through the Python rule, through the SQL the batch engines
run (DuckDB), and through the users — disclosure, list entries, scores and repair — so that the
last day of a record cannot differ between them (before this module, a score stopped counting a
penalty on the day its disclosure still showed it, and a list entry ended a day earlier still).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from xinyong.catalog import Catalog, PeriodRule, default_catalog, load_catalog
from xinyong.catalog.periods import (
    Period,
    disclosure,
    disclosure_last_shown_sql,
    period_of,
)
from xinyong.errors import CatalogError
from xinyong.lists.batch import (
    ENTRY_COLUMNS,
    RECORDS_SCHEMA,
    calendar_span,
    entries_sql,
    workdays_table,
)
from xinyong.lists.rules import RecordView, entry_terms
from xinyong.process.repair import earliest_repair
from xinyong.score.batch import RAW_SCHEMA, records_sql
from xinyong.score.ledger import Ledger
from xinyong.store.queries import StoredRecord


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def d(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@dataclass(frozen=True)
class Case:
    """A record as ingest stores it (fields as JSON values; ``valid_from`` the first of
    ``valid_from``, ``decided_on``, ``published_on``; ``valid_to`` its ``valid_until``) and
    the period expected: ``start``, ``last`` shown (inclusive; None: open) and, for a record
    type's disclosure, the earliest repair (``"no"``: not repairable)."""

    name: str
    rule_of: str  # a record type (its disclosure period) or "list:<id>"
    record_type: str
    fields: dict[str, Any]
    start: str | None
    last: str | None
    repair: str | None = "no"
    until: str | None = None
    extended: bool = False
    decided_column: str | None = field(default=None)

    def record(self, rid: int = 1) -> StoredRecord:
        f = self.fields
        decided = d(self.decided_column) if self.decided_column else d(f.get("decided_on"))
        valid_from = f.get("valid_from") or f.get("decided_on") or f.get("published_on")
        return StoredRecord(
            id=rid, record_type=self.record_type, source="test", subject_id=rid,
            subject_code=None, subject_name="某", document_no=None, decided_on=decided,
            valid_from=_iso_date(valid_from), valid_to=d(f.get("valid_until")), fields=dict(f),
            status="active", version=1, supersedes=None,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC), superseded_at=None,
        )  # fmt: skip

    def view(self, rid: int = 1) -> RecordView:
        r = self.record(rid)
        return RecordView(
            r.id, str(r.id), r.record_type, rid, "active", r.decided_on, r.valid_from,
            r.valid_to, r.fields,
        )  # fmt: skip


def _iso_date(value: str | None) -> date | None:
    try:
        return d(value[:10]) if value else None
    except ValueError:
        return None


# Disclosure periods of shipped record types (《民法典》第二百零一、二百零二条: the start day is not
# counted; the period ends on the corresponding day, clamped to the month's end).
DISCLOSURE = [
    # The disagreement that was: shown through the corresponding day by disclose, counted a day
    # less by score. NDRC order No. 36 (from 2026-04-01): a general penalty 3 months–1 year,
    # repair after the 3-month minimum: from the day after 2026-08-10.
    Case("order 36, general penalty: max 1y, repair after min 3m", "admin_penalty",
         "admin_penalty", {"decided_on": "2026-05-10", "severity": "general"}, "2026-05-10",
         "2027-05-10", repair="2026-08-11"),
    Case("order 36, minor penalty: max 3m from May 31 clamps to Aug 31; no minimum, repair "
         "any time", "admin_penalty", "admin_penalty",
         {"decided_on": "2026-05-31", "severity": "minor"}, "2026-05-31", "2026-08-31",
         repair="2026-05-31"),
    Case("order 36, serious penalty from Feb 29: 3y ends Feb 28, the 1y minimum too",
         "admin_penalty", "admin_penalty", {"decided_on": "2028-02-29", "severity": "serious"},
         "2028-02-29", "2031-02-28", repair="2029-03-01"),
    Case("order 36, no severity: taken as general (3m–1y)", "admin_penalty", "admin_penalty",
         {"decided_on": "2026-06-15"}, "2026-06-15", "2027-06-15", repair="2026-09-16"),
    Case("order 36 has no sector variant: a minor fire-safety penalty is minor",
         "admin_penalty", "admin_penalty", {"decided_on": "2026-06-15", "severity": "minor",
                                            "sector": "fire_safety"}, "2026-06-15",
         "2026-09-15", repair="2026-06-15"),
    Case("order 58 (decided before 2026-04-01): min 3m, max 3y", "admin_penalty",
         "admin_penalty", {"decided_on": "2023-03-15"}, "2023-03-15", "2026-03-15",
         repair="2023-06-16"),
    Case("order 58: the sector variant (min 1y)", "admin_penalty",
         "admin_penalty", {"decided_on": "2023-03-15", "sector": "fire_safety"}, "2023-03-15",
         "2026-03-15", repair="2024-03-16"),
    Case("order 58 knows no severity tiers: a general penalty of 2026-03-31 keeps 3 years "
         "(transitional: 立法法 art. 104)", "admin_penalty", "admin_penalty",
         {"decided_on": "2026-03-31", "severity": "general"}, "2026-03-31", "2029-03-31",
         repair="2026-07-01"),
    Case("decided on 2026-04-01 itself: order 36's general tier", "admin_penalty",
         "admin_penalty", {"decided_on": "2026-04-01", "severity": "general"}, "2026-04-01",
         "2027-04-01", repair="2026-07-02"),
    Case("order 58, serious and fire safety: the sector's minimum, 58's maximum",
         "admin_penalty", "admin_penalty", {"decided_on": "2025-07-01", "severity": "serious",
                                            "sector": "fire_safety"}, "2025-07-01",
         "2028-07-01", repair="2026-07-02"),
    Case("the record's valid_until before the end ends it early", "admin_penalty",
         "admin_penalty", {"decided_on": "2024-01-10", "severity": "general",
                           "valid_until": "2024-06-30"}, "2024-01-10", "2024-06-30",
         repair="2024-04-11"),
    Case("valid_until after the end: no extension in this rule, the end stays", "admin_penalty",
         "admin_penalty", {"decided_on": "2026-05-10", "severity": "general",
                           "valid_until": "2028-01-01"}, "2026-05-10", "2027-05-10",
         repair="2026-08-11"),
    Case("valid_until on the last day itself", "admin_penalty", "admin_penalty",
         {"decided_on": "2026-05-10", "severity": "general", "valid_until": "2027-05-10"},
         "2026-05-10", "2027-05-10", repair="2026-08-11"),
    Case("the decided_on column wins over the field", "admin_penalty", "admin_penalty",
         {"decided_on": "2026-05-01", "severity": "general"}, "2026-05-10", "2027-05-10",
         repair="2026-08-11", decided_column="2026-05-10"),
    Case("a professional's penalty of 2026-03-31: order 58 (3y); repair after 3m",
         "professional_penalty", "professional_penalty", {"decided_on": "2026-03-31"},
         "2026-03-31", "2029-03-31", repair="2026-07-01"),
    Case("from_field published_on (max 3y); repair any time from the start",
         "major_tax_violation", "major_tax_violation",
         {"decided_on": "2024-01-15", "published_on": "2024-03-01"}, "2024-03-01",
         "2027-03-01", repair="2024-03-01"),
    Case("fallback_from_field decided_on when published_on is empty", "major_tax_violation",
         "major_tax_violation", {"decided_on": "2024-01-15"}, "2024-01-15", "2027-01-15",
         repair="2024-01-15"),
    Case("a start field with a time of day reads as its date", "major_tax_violation",
         "major_tax_violation", {"published_on": "2024-03-01T09:30:00"}, "2024-03-01",
         "2027-03-01", repair="2024-03-01"),
    Case("a start field that is no date falls back (then to valid_from)",
         "major_tax_violation", "major_tax_violation",
         {"published_on": "2024-13-01", "valid_from": "2024-02-01"}, "2024-02-01",
         "2027-02-01", repair="2024-02-01"),
    Case("no date at all: no start, no end (never guessed)", "major_tax_violation",
         "major_tax_violation", {}, None, None, repair=None),
    Case("180 days: the start day not counted, the 180th day after it is the last",
         "railway_safety_violation", "railway_safety_violation",
         {"decided_on": "2023-12-20", "published_on": "2024-01-01"}, "2024-01-01",
         "2024-06-29"),
    Case("a fixed length (1y), not a maximum", "tax_credit_rating", "tax_credit_rating",
         {"decided_on": "2023-04-01", "grade": "D", "year": 2022}, "2023-04-01", "2024-04-01"),
    Case("until removal, not removed: no end; repair any time", "abnormal_operation",
         "abnormal_operation", {"decided_on": "2023-05-01"}, "2023-05-01", None,
         repair="2023-05-01", until="removal"),
    Case("until removal: the removal day is the first day hidden", "abnormal_operation",
         "abnormal_operation", {"decided_on": "2023-05-01", "removed_on": "2024-05-20"},
         "2023-05-01", "2024-05-19", repair="2023-05-01", until="removal"),
    Case("until removal, after_min_period without a minimum: repair from the start",
         "serious_illegal_dishonest_enterprise", "serious_illegal_dishonest_enterprise",
         {"decided_on": "2023-05-01"}, "2023-05-01", None, repair="2023-05-01",
         until="removal"),
    Case("until lifted: the day before lifted_on; no credit repair (the court lifts it)",
         "consumption_restriction_order", "consumption_restriction_order",
         {"decided_on": "2023-05-01", "lifted_on": "2024-07-01"}, "2023-05-01", "2024-06-30",
         until="lifted"),
    Case("an event field of another event does not end it", "consumption_restriction_order",
         "consumption_restriction_order",
         {"decided_on": "2023-05-01", "removed_on": "2024-07-01"}, "2023-05-01", None,
         until="lifted"),
    Case("until performance: resolved_on", "government_dishonesty", "government_dishonesty",
         {"decided_on": "2023-05-01", "resolved_on": "2024-02-01"}, "2023-05-01", "2024-01-31",
         until="performance"),
    Case("until removal with no removal field: the record's valid_until ends it",
         "judgment_defaulter", "judgment_defaulter",
         {"decided_on": "2023-05-01", "valid_until": "2025-01-01"}, "2023-05-01", "2025-01-01",
         until="removal"),
    Case("until the event, or valid_until if earlier", "abnormal_operation",
         "abnormal_operation", {"decided_on": "2023-05-01", "removed_on": "2024-05-20",
                                "valid_until": "2024-01-31"}, "2023-05-01", "2024-01-31",
         repair="2023-05-01", until="removal"),
    Case("no period rule: shown until valid_until", "admin_license", "admin_license",
         {"decided_on": "2024-01-01", "valid_until": "2026-12-31"}, "2024-01-01", "2026-12-31"),
    Case("no period rule and no valid_until: open", "admin_license", "admin_license",
         {"decided_on": "2024-01-01"}, "2024-01-01", None),
]  # fmt: skip

# List entries of shipped lists (``lists.rules.entry_terms``): the same periods from the day the
# entry takes effect (after a notice period counted in working days), with the list's extension.
LISTS = [
    Case("defaulters: 2 years, through the corresponding day", "list:judgment_defaulters",
         "judgment_defaulter", {"decided_on": "2023-03-15"}, "2023-03-15", "2025-03-15"),
    Case("defaulters: fallback published_on", "list:judgment_defaulters", "judgment_defaulter",
         {"published_on": "2023-03-15"}, "2023-03-15", "2025-03-15"),
    Case("defaulters: valid_until later extends (extension max 3y)",
         "list:judgment_defaulters", "judgment_defaulter",
         {"decided_on": "2023-03-15", "valid_until": "2026-01-31"}, "2023-03-15", "2026-01-31",
         extended=True),
    Case("defaulters: the extension is capped at its maximum", "list:judgment_defaulters",
         "judgment_defaulter", {"decided_on": "2023-03-15", "valid_until": "2029-01-01"},
         "2023-03-15", "2028-03-15", extended=True),
    Case("defaulters: valid_until earlier ends it early (提前删除)", "list:judgment_defaulters",
         "judgment_defaulter", {"decided_on": "2023-03-15", "valid_until": "2024-06-30"},
         "2023-03-15", "2024-06-30"),
    Case("defaulters refusing despite ability: until performance, not yet",
         "list:judgment_defaulters", "judgment_defaulter",
         {"decided_on": "2023-03-15", "ground": "refuse_despite_ability"}, "2023-03-15", None,
         until="performance"),
    Case("defaulters refusing despite ability: performed", "list:judgment_defaulters",
         "judgment_defaulter", {"decided_on": "2023-03-15", "ground": "refuse_despite_ability",
                                "performed_on": "2024-08-01"}, "2023-03-15", "2024-07-31",
         until="performance"),
    Case("railway: 7 working days' notice over National Day 2024, then 180 days",
         "list:railway_safety_offenders", "railway_safety_violation",
         {"published_on": "2024-09-27"}, "2024-10-12", "2025-04-10"),
    Case("railway fare evasion: until the fare is paid", "list:railway_safety_offenders",
         "railway_safety_violation", {"published_on": "2024-09-27", "conduct": "fare_evasion",
                                      "fare_paid_on": "2024-11-01"}, "2024-10-12",
         "2024-10-31", until="performance"),
    Case("abnormal operations: until removal", "list:abnormal_operation_list",
         "abnormal_operation", {"decided_on": "2023-05-01", "removed_on": "2024-05-20"},
         "2023-05-01", "2024-05-19", until="removal"),
    Case("A-grade taxpayers: 1 year from Feb 29 ends Feb 28", "list:a_grade_taxpayers",
         "tax_credit_rating", {"decided_on": "2024-02-29", "grade": "A", "year": 2023},
         "2024-02-29", "2025-02-28"),
]  # fmt: skip


_DAY = timedelta(days=1)


def _expected(case: Case) -> tuple[date | None, date | None]:
    return d(case.start), d(case.last)


@pytest.mark.parametrize("case", DISCLOSURE, ids=lambda c: c.name)
def test_disclosure_periods(catalog: Catalog, case: Case) -> None:
    period = disclosure(catalog.record_types[case.rule_of], case.record())
    assert (period.start, period.last_shown) == _expected(case)
    assert period.first_hidden == (None if case.last is None else d(case.last) + _DAY)
    assert period.until_event == case.until
    assert period.repairable is (case.repair != "no")
    assert period.earliest_repair == (None if case.repair in ("no", None) else d(case.repair))
    if period.last_shown is not None:
        assert period.is_open(period.last_shown) and not period.is_open(period.first_hidden)


@pytest.mark.parametrize("case", LISTS, ids=lambda c: c.name)
def test_list_entries(catalog: Catalog, case: Case) -> None:
    terms = entry_terms(catalog.lists[case.rule_of.removeprefix("list:")], case.view())
    assert terms is not None
    assert (terms.valid_from, terms.valid_to) == _expected(case)
    assert (terms.until_event, terms.extended) == (case.until, case.extended)


def test_one_record_one_last_day_for_disclosure_lists_scores_and_repair(
    catalog: Catalog,
) -> None:
    """The users agree: a defaulter listed 2023-03-15 (2 years) and a general penalty decided
    2026-05-10 (disclosed a year under order No. 36) — listed, shown and counted through the
    corresponding day, gone the day after; repair opens the day after the 3-month minimum."""
    entry = entry_terms(catalog.lists["judgment_defaulters"], LISTS[0].view())
    assert entry is not None and entry.valid_to == date(2025, 3, 15)

    penalty = DISCLOSURE[0].record()
    shown = disclosure(catalog.record_types["admin_penalty"], penalty)
    assert shown.last_shown == date(2027, 5, 10)
    ledger = Ledger(catalog.scoring_models["rongcheng_points"], catalog)
    rule = next(r for r in ledger.spec.rules if r.id == "penalty_general")
    assert ledger.rule_end(rule, penalty) == date(2027, 5, 11) == shown.first_hidden
    assert [c.record.id for c in ledger.counted([penalty], date(2027, 5, 10))] == [penalty.id]
    assert ledger.counted([penalty], date(2027, 5, 11)) == []
    assert earliest_repair(catalog, penalty) == date(2026, 8, 11)


def test_a_scoring_window_counts_the_same_way(catalog: Catalog) -> None:
    """``within: 1y`` from 2024-01-10 includes 2025-01-10 (tax_credit_grade's penalty rules)."""
    ledger = Ledger(catalog.scoring_models["tax_credit_grade"], catalog)
    rule = next(r for r in ledger.spec.rules if r.id == "penalty_serious")
    record = Case("", "", "admin_penalty", {"decided_on": "2024-01-10", "severity": "serious"},
                  None, None).record()  # fmt: skip
    assert [c.rule.id for c in ledger.counted([record], date(2025, 1, 10))] == ["penalty_serious"]
    assert ledger.counted([record], date(2025, 1, 11)) == []
    assert ledger.rule_end(rule, record) == date(2025, 1, 11)


# -- the same table through the SQL the batch engines run ------------------------------------


def _raw(cases: list[Case]) -> pa.Table:
    rows = [c.record(i) for i, c in enumerate(cases)]
    return pa.table(
        {
            "record_id": pa.array([r.id for r in rows], pa.int64()),
            "record_key": [str(r.id) for r in rows],
            "record_type": [r.record_type for r in rows],
            "subject_id": pa.array([r.id for r in rows], pa.int64()),
            "status": ["active" for _ in rows],
            "decided_on": pa.array([r.decided_on for r in rows], pa.date32()),
            "valid_from": pa.array([r.valid_from for r in rows], pa.date32()),
            "valid_to": pa.array([r.valid_to for r in rows], pa.date32()),
            "fields": [json.dumps(r.fields) for r in rows],
        }
    )


def test_disclosure_sql_gives_the_same_last_day(catalog: Catalog) -> None:
    duck = duckdb.connect()
    duck.register("records", _raw(DISCLOSURE))
    for i, case in enumerate(DISCLOSURE):
        rtype = catalog.record_types[case.rule_of]
        sql = f"SELECT {disclosure_last_shown_sql(rtype)} FROM records WHERE record_id = {i}"
        got = duck.execute(sql).fetchall()
        assert got == [(d(case.last),)], case.name


def test_score_batch_ends_on_is_the_first_day_hidden(catalog: Catalog) -> None:
    """``score.batch.records_sql`` (the store → DuckDB step of batch scoring) per case."""
    duck = duckdb.connect()
    duck.register("records_raw", _raw(DISCLOSURE).select(RAW_SCHEMA.names))
    sql = records_sql(catalog.scoring_models["rongcheng_points"], catalog)
    got = duck.execute(f"SELECT subject_id, ends_on FROM ({sql}) ORDER BY subject_id").fetchall()
    assert len(got) == len(DISCLOSURE)
    for (i, ends_on), case in zip(got, DISCLOSURE, strict=True):
        rtype = catalog.record_types[case.record_type]
        assert ends_on == disclosure(rtype, case.record(i)).first_hidden, case.name


def test_list_batch_sql_gives_the_same_entries(catalog: Catalog) -> None:
    duck = duckdb.connect()
    duck.register("records", _raw(LISTS).select(RECORDS_SCHEMA.names).cast(RECORDS_SCHEMA))
    duck.register("xy_workdays", workdays_table(*calendar_span()))
    rows = duck.execute(f"SELECT * FROM ({entries_sql(catalog)}) ORDER BY record_id").fetchall()
    got = {
        (r["list_id"], r["record_id"]): r
        for r in (dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in rows)
    }
    for i, case in enumerate(LISTS):
        list_id = case.rule_of.removeprefix("list:")
        entry = got[(list_id, i)]
        assert (entry["valid_from"], entry["valid_to"]) == _expected(case), case.name
        assert (entry["until_event"], entry["extended"]) == (case.until, case.extended)


# -- what the rule refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms",
    [{"length": "7wd"}, {"min": "5wd", "max": "1y"},
     {"length": "2y", "extension": {"max": "20wd", "when_zh": "x", "when_en": "x"}},
     {"until": "removal", "variants": [{"when": {"a": "b"}, "max": "10wd"}]}],
)  # fmt: skip
def test_a_period_in_working_days_is_refused(terms: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not working days"):
        PeriodRule.model_validate(terms)


def test_an_operators_list_in_working_days_stops_the_catalog(tmp_path: Path) -> None:
    list_file = """\
lists:
  extra_list:
    name_zh: 附加名单
    name_en: extra list
    polarity: black
    authority: court
    legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]
    criteria:
      - {record_type: judgment_defaulter}
    period: {length: 30wd}
"""
    (tmp_path / "operator.yaml").write_text(list_file, encoding="utf-8")
    with pytest.raises(CatalogError, match="working days") as caught:
        load_catalog([tmp_path])
    assert "operator.yaml" in str(caught.value) and "extra_list" in str(caught.value)


def test_no_rule_and_no_dates_is_an_open_period() -> None:
    record = Case("", "", "admin_license", {}, None, None).record()
    assert period_of(None, record) == Period(None, None)


def test_decided_before_repaired_after_the_change_of_law(catalog: Catalog) -> None:
    """A general penalty decided 2026-03-20 keeps order No. 58's periods (3-month minimum,
    3-year maximum) whenever it is asked about; a repair applied for from 2026-04-01 is decided
    under order No. 36's repair rule, which also ends sharing. One decided 2026-04-20 as minor
    has order No. 36's periods: no minimum, so repair from the start."""
    from xinyong.catalog.periods import repair_ends_sharing
    from xinyong.process.repair import repair_rule

    rtype = catalog.record_types["admin_penalty"]
    before = Case("", "", "admin_penalty", {"decided_on": "2026-03-20", "severity": "general"},
                  None, None).record()  # fmt: skip
    for at in (date(2026, 3, 31), date(2026, 7, 1), date(2030, 1, 1)):
        period = disclosure(rtype, before, at)
        assert (period.last_shown, period.earliest_repair) == (date(2029, 3, 20), date(2026, 6, 21))
    assert earliest_repair(catalog, before, date(2026, 7, 1)) == date(2026, 6, 21)
    old, new = (
        repair_rule(catalog, "admin_penalty", d) for d in (date(2026, 3, 31), date(2026, 4, 1))
    )
    assert [r.instrument for r in old.legal_basis] == ["ndrc_order_58", "ndrc_order_58"]
    assert [r.instrument for r in new.legal_basis] == ["ndrc_order_36"]
    assert not repair_ends_sharing(rtype, date(2026, 3, 31))
    assert repair_ends_sharing(rtype, date(2026, 4, 1))

    after = Case("", "", "admin_penalty", {"decided_on": "2026-04-20", "severity": "minor"},
                 None, None).record()  # fmt: skip
    period = disclosure(rtype, after, date(2026, 5, 1))
    assert (period.last_shown, period.earliest_repair) == (date(2026, 7, 20), date(2026, 4, 20))


def test_penalty_publication_cites_the_rule_of_its_own_day(catalog: Catalog) -> None:
    """A penalty decided before 2026-04-01 is published under order No. 58's publication rule,
    one decided from that day under order No. 36's tiers, whenever asked; neither cites order
    No. 58 art. 2 (the right to apply for repair only), and both say their article is
    unconfirmed."""
    from xinyong.catalog.periods import governing_period

    rtype = catalog.record_types["admin_penalty"]
    assert rtype.disclosure_period is not None
    cases = {
        ("2026-03-31", "serious"): ["国家发展改革委令第58号 行政处罚信息公示期限（条文号未核实）"],
        ("2026-04-01", "serious"): ["国家发展改革委令第36号 失信信息公示期限（条文号未核实）"],
        ("2026-04-01", "minor"): ["国家发展改革委令第36号 失信信息公示期限（条文号未核实）"],
    }
    for (decided, severity), cited in cases.items():
        record = Case("", "", "admin_penalty", {"decided_on": decided, "severity": severity},
                      None, None).record()  # fmt: skip
        for at in (date(2026, 4, 1), date(2027, 6, 1)):
            version = governing_period(rtype.disclosure_period, record, at)
            rules = [version, *(v for v in version.variants if v.when.get("severity") in
                                (None, severity))]  # fmt: skip
            for rule in rules:
                assert [catalog.cite(ref) for ref in rule.legal_basis] == cited, (decided, at)
    for rt in catalog.record_types.values():
        rule = rt.disclosure_period
        for version in rule.versions() if rule is not None else ():
            for part in (version, *version.variants):
                refs = {(r.instrument, r.article) for r in part.legal_basis}
                assert ("ndrc_order_58", "2") not in refs, rt.id
