"""Rules with dates (xinyong.catalog.law): what the loader refuses, which version governs a fact,
and the same choice in SQL.

Each case is a tiny operator file on top of the shipped catalog: an old instrument (in force
2020-01-01, repealed 2024-01-01) and a new one (from 2024-01-01), and a record type whose
disclosure period cites them.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from xinyong.catalog import Catalog, load_catalog
from xinyong.catalog.law import governing, version_sql
from xinyong.catalog.periods import FACT_DAY_SQL, disclosure, disclosure_last_shown_sql
from xinyong.errors import CatalogError
from xinyong.store.queries import StoredRecord

INSTRUMENTS = """\
instruments:
  old_rule:
    title_zh: 旧办法
    title_en: old measures
    kind: departmental_rule
    issuers: [ndrc]
    effective_on: 2020-01-01
    repealed_on: 2024-01-01
    replaced_by: new_rule
  new_rule:
    title_zh: 新办法
    title_en: new measures
    kind: departmental_rule
    issuers: [ndrc]
    effective_on: 2024-01-01
"""

RECORD_TYPE = """\
record_types:
  dated_fine:
    name_zh: 有日期的罚款
    name_en: dated fine
    category: admin_penalty
    authority: samr
    legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]
    subject_kinds: [enterprise]
    disclosure: public
    sources: [samr]
    disclosure_period:
PERIOD"""

NEW_WITH_OLD = """\
      max: 1y
      legal_basis: [{instrument: new_rule}]
      earlier:
        - max: 3y
          legal_basis: [{instrument: old_rule}]
TRANSITIONAL"""

KEEP = """\
          transitional:
            governs_facts_decided_before: 2024-01-01
            legal_basis: [{instrument: legislation_law, article: 104}]
"""


def load(tmp_path: Path, period: str, instruments: str = INSTRUMENTS) -> Catalog:
    text = textwrap.dedent(instruments) + RECORD_TYPE.replace("PERIOD", period)
    (tmp_path / "law.yaml").write_text(text, encoding="utf-8")
    return load_catalog([tmp_path])


def refused(tmp_path: Path, period: str, instruments: str = INSTRUMENTS) -> str:
    with pytest.raises(CatalogError) as caught:
        load(tmp_path, period, instruments)
    return str(caught.value)


def test_a_rule_whose_instrument_is_repealed_needs_a_newer_version_or_a_transitional(
    tmp_path: Path,
) -> None:
    alone = "      max: 3y\n      legal_basis: [{instrument: old_rule}]\n"
    assert "transitional" in refused(tmp_path, alone)
    kept = alone + KEEP.replace("          ", "      ")
    assert load(tmp_path, kept).record_types["dated_fine"].disclosure_period is not None


def test_an_older_version_must_leave_force_when_the_newer_begins(tmp_path: Path) -> None:
    still = INSTRUMENTS.replace("    repealed_on: 2024-01-01\n    replaced_by: new_rule\n", "")
    message = refused(tmp_path, NEW_WITH_OLD.replace("TRANSITIONAL", ""), still)
    assert "repealed_on" in message and "law.yaml" in message


def test_a_variant_citing_an_instrument_not_in_force_for_the_whole_window_is_refused(
    tmp_path: Path,
) -> None:
    period = (
        "      max: 3y\n      legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]\n"
        "      variants:\n        - when: {severity: minor}\n          max: 1y\n"
        "          legal_basis: [{instrument: new_rule}]\n"
    )
    fields = (
        "    fields:\n      - name: severity\n        type: enum\n        enum:\n"
        "          - {id: minor, label_zh: 轻微, label_en: minor}\n"
    )
    text = RECORD_TYPE.replace(
        "    disclosure_period:\nPERIOD", fields + "    disclosure_period:\n" + period
    )
    (tmp_path / "law.yaml").write_text(textwrap.dedent(INSTRUMENTS) + text, encoding="utf-8")
    with pytest.raises(CatalogError, match="whole window"):
        load_catalog([tmp_path])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    replaced_by: new_rule\n", "    replaced_by: newest_rule\n"), "newest_rule"),
        (("    repealed_on: 2024-01-01\n", "    repealed_on: 2019-01-01\n"), "repealed_on"),
        (("    repealed_on: 2024-01-01\n", ""), "replaced_by"),
        (("    effective_on: 2020-01-01\n", "    unconfirmed: [adopted_on]\n"), "adopted_on"),
    ],
)
def test_instrument_dates_are_checked(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    instruments = INSTRUMENTS.replace(*change, 1)
    assert expected in refused(tmp_path, NEW_WITH_OLD.replace("TRANSITIONAL", KEEP), instruments)


def _record(decided: str) -> StoredRecord:
    from datetime import UTC, datetime

    day = date.fromisoformat(decided)
    return StoredRecord(
        id=1, record_type="dated_fine", source="samr", subject_id=1, subject_code=None,
        subject_name="某", document_no=None, decided_on=day, valid_from=day, valid_to=None,
        fields={}, status="active", version=1, supersedes=None,
        recorded_at=datetime(2020, 1, 1, tzinfo=UTC), superseded_at=None,
    )  # fmt: skip


# (decided, at, last shown with a transitional provision, last shown without one)
GRID = [
    ("2023-06-01", "2023-12-31", "2026-06-01", "2026-06-01"),  # old law on both counts
    ("2023-06-01", "2024-01-01", "2026-06-01", "2024-06-01"),  # the new law reaches back
    ("2023-12-31", "2025-06-01", "2026-12-31", "2024-12-31"),
    ("2024-01-01", "2025-06-01", "2025-01-01", "2025-01-01"),  # decided under the new law
    ("2019-06-01", "2019-12-01", "2022-06-01", "2022-06-01"),  # before the oldest: the oldest
]


@pytest.mark.parametrize("transitional", [True, False])
def test_the_governing_version_in_python_and_sql(tmp_path: Path, transitional: bool) -> None:
    """With a transitional provision a fact keeps the rule of its day; without one the law of
    the day asked about applies to it. The SQL picks the same version on every case."""
    period = NEW_WITH_OLD.replace("TRANSITIONAL", KEEP if transitional else "")
    catalog = load(tmp_path, period)
    rtype = catalog.record_types["dated_fine"]
    rule = rtype.disclosure_period
    assert rule is not None
    for decided, at, kept, reached in GRID:
        duck = duckdb.connect()
        expected = date.fromisoformat(kept if transitional else reached)
        record = _record(decided)
        on = date.fromisoformat(at)
        assert disclosure(rtype, record, on).last_shown == expected, (decided, at)
        duck.register(
            "records",
            pa.table(
                {
                    "decided_on": pa.array([record.decided_on], pa.date32()),
                    "valid_from": pa.array([record.valid_from], pa.date32()),
                    "valid_to": pa.array([None], pa.date32()),
                    "fields": [json.dumps({})],
                }
            ),
        )
        at_sql = f"DATE '{at}'"
        (got,) = duck.execute(
            f"SELECT {disclosure_last_shown_sql(rtype, at_sql)} FROM records"
        ).fetchall()[0]
        assert got == expected, (decided, at)
        versions = rule.versions()
        (index,) = duck.execute(
            f"SELECT {version_sql(versions, FACT_DAY_SQL, at_sql)} FROM records"
        ).fetchall()[0]
        assert versions[index] is governing(rule, record.decided_on, on)


LIST = """\
lists:
  dated_list:
    name_zh: 有日期的名单
    name_en: dated list
    polarity: black
    authority: court
    legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]
    criteria:
      - {record_type: admin_penalty}
    period:
      length: 1y
      legal_basis: [{instrument: new_rule}]
      earlier:
        - length: 2y
          legal_basis: [{instrument: old_rule}]
TRANSITIONAL"""


@pytest.mark.parametrize("transitional", [True, False])
def test_a_list_period_with_versions_in_python_and_sql(tmp_path: Path, transitional: bool) -> None:
    """List entries under a versioned period: ``entry_terms`` and the batch SQL give the same
    days (asked about today): with the transitional provision an entry decided in 2023 keeps 2
    years; without it, the new 1 year reaches it."""
    from tests.catalog.test_periods import LISTS, Case, _raw

    from xinyong.lists.batch import RECORDS_SCHEMA, calendar_span, entries_sql, workdays_table
    from xinyong.lists.rules import entry_terms

    keep = KEEP if transitional else ""
    text = textwrap.dedent(INSTRUMENTS) + LIST.replace("TRANSITIONAL", keep)
    (tmp_path / "law.yaml").write_text(text, encoding="utf-8")
    catalog = load_catalog([tmp_path])
    cases = [
        Case("old", "list:dated_list", "admin_penalty", {"decided_on": "2023-06-01"},
             "2023-06-01", "2025-06-01" if transitional else "2024-06-01"),
        Case("new", "list:dated_list", "admin_penalty", {"decided_on": "2024-03-01"},
             "2024-03-01", "2025-03-01"),
    ]  # fmt: skip
    assert LISTS  # the shipped table is the other half of this parity
    expected = {}
    for i, case in enumerate(cases):
        terms = entry_terms(catalog.lists["dated_list"], case.view(i))
        assert terms is not None
        assert (terms.valid_from, terms.valid_to) == (
            date.fromisoformat(case.start or ""),
            date.fromisoformat(case.last or ""),
        ), case.name
        expected[i] = (terms.valid_from, terms.valid_to)
    duck = duckdb.connect()
    duck.register("records", _raw(cases).select(RECORDS_SCHEMA.names).cast(RECORDS_SCHEMA))
    duck.register("xy_workdays", workdays_table(*calendar_span()))
    rows = duck.execute(
        f"SELECT record_id, valid_from, valid_to FROM ({entries_sql(catalog)}) "
        "WHERE list_id = 'dated_list' ORDER BY record_id"
    ).fetchall()
    assert {r: (f, t) for r, f, t in rows} == expected
