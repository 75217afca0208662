"""Re-deriving list entries and the restriction index on the batch layer gives the Python rules'
rows, on DuckDB and on Spark.

One store, built once for the module through the real pipeline (``ingest_file``, then new
versions of some records): a lab-generated population (``xinyong.lab.generate``, 20,000
subjects, every record type of the catalog, decisions up to mid-2027 so that some notices run
into a year the working-day calendar does not know), the mixed rows of ``tests/lists`` (officers
with every role, some of whom left before their enterprise was listed, corrections, records
withdrawn, repaired and under objection), and a few rows written here for the cases a random
draw may miss (notices across the National Day and Spring Festival holidays and into an unknown
year, extensions, early ends, performance).

(a) DuckDB == Python: ``entries_for`` for every current linked record, and ``rows_for`` over the
    store's current entries (the store's own tables agree with both).
(b) Spark == DuckDB on the same Arrow inputs, row for row in the same order.
(c) ``xinyong batch derive``: the files, the JSON report, ``--compare`` (exit 1 on a
    difference), bad usage (exit 2, one line), and a run on Spark.
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, select
from tests.batch.conftest import PANDAS_WARNING
from tests.lists.mixed_rows import change_statuses, load_all, mixed_rows, write_csv
from typer.testing import CliRunner

from xinyong.audit.tables import audit_events
from xinyong.batch import jobs
from xinyong.batch.engines import DuckDBEngine, SparkEngine
from xinyong.catalog import Catalog, default_catalog
from xinyong.cli import app
from xinyong.codes import ric, uscc
from xinyong.ingest import ingest_file
from xinyong.lab import generate
from xinyong.lists.batch import workdays_table
from xinyong.lists.derive import current_entries, current_records
from xinyong.lists.rules import entries_for, lists_subject
from xinyong.measures.batch import RESTRICTION_COLUMNS, expanded_sql
from xinyong.measures.index import rows_for
from xinyong.measures.reach import reach_of, way_of
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade
from xinyong.store.tables import subject_relations, subjects
from xinyong.workdays import add_working_days

#: Slow: the module's store is 20,000 generated subjects, loaded through the real ingest.
pytestmark = [pytest.mark.filterwarnings(PANDAS_WARNING), pytest.mark.slow]
AT = date(2025, 6, 1)
Inputs = tuple[pa.Table, pa.Table, pa.Table]


def _row(header: list[str], values: list[str]) -> dict[str, str]:
    return dict(zip(header, values, strict=True))


def _edge_rows() -> dict[str, list[dict[str, str]]]:
    """Rows for the cases a random draw may miss."""
    rng = random.Random(31)
    people = [ric.generate(rng) for _ in range(12)]
    railway = [
        # 7 working days across 国庆 (1–7 October 2024) and 春节 2025, and into 2027 (unknown).
        ("2024-09-28", "discount_fraud", "2024-11-02"),
        ("2024-09-29", "smoking", ""),
        ("2025-01-24", "smoking", ""),
        ("2026-12-28", "smoking", ""),
        ("2026-12-20", "fare_evasion", "2027-01-05"),
        ("2030-03-01", "smoking", ""),
    ]
    header = ["subject_name", "subject_code", "document_no", "decided_on", "published_on",
              "conduct", "fare_paid_on", "valid_until"]  # fmt: skip
    rail_rows = [
        _row(header, ["赵六", people[i], f"铁罚〔2024〕9{i:03d}号", day, day, c, paid, ""])
        for i, (day, c, paid) in enumerate(railway)
    ]
    defaulter_header = ["被执行人姓名/名称", "身份证号码/组织机构代码", "执行法院", "案号",
                        "失信被执行人行为具体情形", "决定日期", "有效期至"]  # fmt: skip
    firm = uscc.generate(rng, authority="9", category="1")
    defaulters = [
        # extended (valid until beyond 2 years, within 3 more), extended to the cap, ended early
        (people[6], "违反财产报告制度的", "2023-02-01", "2026-06-30"),
        (people[7], "违反财产报告制度的", "2020-02-01", "2030-06-30"),
        (people[8], "违反财产报告制度的", "2024-02-01", "2024-08-31"),
        (firm, "有履行能力而拒不履行生效法律文书确定义务的", "2024-05-06", ""),
    ]
    court = "杭州市西湖区人民法院"
    defaulter_rows = [
        _row(defaulter_header, ["某人", code, court, f"（2024）浙0106执9{i}号", g, day, to])
        for i, (code, g, day, to) in enumerate(defaulters)
    ]
    return {"railway_safety_violation": rail_rows, "judgment_defaulter": defaulter_rows}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Engine:
    folder = tmp_path_factory.mktemp("derive")
    lab = folder / "lab"
    generate(lab, subjects=20_000, seed=5, formats=["csv"], start=date(2019, 1, 1),
             end=date(2027, 6, 30), catalog=catalog)  # fmt: skip
    engine = connect(f"sqlite:///{folder / 'store.db'}")
    upgrade(engine)
    # Registrations first, so the officers' relations exist when the lists are derived.
    order = sorted(catalog.record_types, key=lambda t: (t != "enterprise_officer", t))

    def load(record_type: str, path: Path) -> None:
        source = catalog.record_types[record_type].authority
        ingest_file(engine, path, record_type, source, catalog=catalog, at=AT)

    for record_type in order:
        path = lab / "records" / f"{record_type}.csv"
        with path.open(encoding="utf-8") as handle:
            if sum(1 for _ in csv.reader(handle)) > 1:
                load(record_type, path)
    for record_type, rows in _edge_rows().items():
        load(record_type, write_csv(folder / f"edge_{record_type}.csv", rows))
    mixed = mixed_rows()
    numbers = iter(range(1000))

    def load_rows(record_type: str, rows: list[dict[str, str]]) -> None:
        load(record_type, write_csv(folder / f"mixed_{next(numbers)}.csv", rows))

    load_all(mixed, load_rows, one_row_per_batch=False)
    # Railway records under objection list nobody meanwhile (rules.SUSPENDED_UNDER_OBJECTION).
    mixed.new_statuses.update({f"铁罚〔2024〕900{i}号": "under_objection" for i in (1, 2)})
    change_statuses(engine, catalog, mixed, at=AT, one_by_one=False)
    return engine


@pytest.fixture(scope="module")
def inputs(store: Engine, catalog: Catalog) -> Inputs:
    with store.connect() as conn:
        return jobs.store_derive_inputs(conn, catalog)


@pytest.fixture(scope="module")
def on_duckdb(inputs: Inputs, catalog: Catalog) -> tuple[pa.Table, pa.Table]:
    engine = DuckDBEngine()
    try:
        return jobs.derive_tables(engine, catalog, *inputs)
    finally:
        engine.close()


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(r.values()) for r in table.to_pylist()),
        key=lambda row: tuple((v is not None, v) for v in row),
    )


def _python_entries(store: Engine, catalog: Catalog) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        recs = [r for r in current_records(conn, None) if r.subject_id is not None]
    return _rows(
        pa.Table.from_pylist(
            [
                t.__dict__
                for r in recs
                if lists_subject(r.status, r.record_type)
                for t in entries_for(catalog, r)
            ],
            schema=jobs.ENTRIES_SCHEMA,
        )
    )


def _python_restrictions(store: Engine, catalog: Catalog) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        everyone = set(conn.execute(select(subjects.c.id)).scalars())
        entries = current_entries(conn, everyone)
        keys = {e.entry_id: e.record_key for e in entries}
        rows = rows_for(conn, catalog, entries)
    out = [
        {**r._asdict(), "record_key": keys[r.entry_id]} for r in rows
    ]  # the entry by (list_id, record_key), as the batch names it
    return _rows(pa.Table.from_pylist(out, schema=jobs.RESTRICTIONS_SCHEMA))


def test_duckdb_entries_are_the_python_rules_and_the_stores(
    store: Engine, catalog: Catalog, on_duckdb: tuple[pa.Table, pa.Table]
) -> None:
    entries, _ = on_duckdb
    got = _rows(entries)
    assert got == _python_entries(store, catalog)
    with store.connect() as conn:
        assert got == _rows(jobs.store_entries(conn))
    # The comparison is about something: every list, and every rule's case, occurs.
    table = entries.to_pylist()
    assert {e["list_id"] for e in table} == set(catalog.lists)
    assert any(e["extended"] for e in table)
    assert {e["until_event"] for e in table} >= {"performance", "lifted", "removal"}
    notified = [e for e in table if e["notified_on"] is not None]
    assert any(e["valid_from"] is None for e in notified)  # the calendar does not know 2027
    assert any(
        e["valid_from"] is not None and (e["valid_from"] - e["notified_on"]).days > 9
        for e in notified
    )  # seven working days across a holiday
    assert any(e["valid_to"] is not None and e["until_event"] is not None for e in table)


def test_every_record_type_and_status_was_in_the_input(inputs: Inputs, catalog: Catalog) -> None:
    records, _, relations = inputs
    listed_types = {c.record_type for d in catalog.lists.values() for c in d.criteria}
    assert set(records.column("record_type").to_pylist()) == listed_types
    assert set(records.column("status").to_pylist()) >= {
        "active", "under_objection", "withdrawn", "repaired",
    }  # fmt: skip
    suspended = [
        r for r in records.to_pylist()
        if r["status"] == "under_objection" and r["record_type"] == "railway_safety_violation"
    ]  # fmt: skip
    assert len(suspended) == 2
    assert relations.num_rows > 0


def test_duckdb_restrictions_are_the_python_index_and_the_stores(
    store: Engine, catalog: Catalog, on_duckdb: tuple[pa.Table, pa.Table]
) -> None:
    entries, index = on_duckdb
    got = _rows(index)
    assert got == _python_restrictions(store, catalog)
    with store.connect() as conn:
        assert got == _rows(jobs.store_restrictions(conn))
        ended = conn.execute(
            select(subject_relations.c.from_subject_id, subject_relations.c.valid_to).where(
                subject_relations.c.valid_to.is_not(None)
            )
        ).all()
    rows = index.to_pylist()
    assert {r["role"] for r in rows} >= {"legal_representative", "principal", "actual_controller"}
    reach = reach_of(catalog)
    carried = [
        (r, m)
        for r in rows
        for m in reach.measures(r["list_id"], way_of(r["subject_kind"], r["role"]))
    ]
    assert {m.effect for _, m in carried} == {"deny", "review", "prefer"}
    # The expansion by measure and action in SQL is the catalog's (``reach``).
    duck = duckdb.connect()
    duck.register("xy_facts", index)
    expanded = duck.sql(expanded_sql(catalog, "xy_facts")).fetchall()
    assert sorted(expanded, key=repr) == sorted(
        (
            (r["subject_id"], a, m.id, m.effect, *(r[c] for c in RESTRICTION_COLUMNS[2:]))
            for r, m in carried
            for a in m.actions
        ),
        key=repr,
    )
    # A relation that ended before its enterprise's entry took effect reaches nobody.
    starts = {(e["subject_id"], e["list_id"]): e["valid_from"] for e in entries.to_pylist()}
    linked_lists = {r["list_id"] for r in rows if r["role"] is not None}
    assert any(
        start is not None and to < start and list_id in linked_lists
        for firm, to in ended
        for (subject, list_id), start in starts.items()
        if subject == firm
    )


def test_workdays_table_counts_as_the_calendar_does() -> None:
    table = workdays_table(date(2024, 9, 20), date(2024, 10, 20)).to_pylist()
    by_day = {r["day"]: r for r in table}
    start = date(2024, 9, 28)  # a working Saturday before National Day
    target = by_day[date(2024, 9, 29)]["n"] - by_day[date(2024, 9, 29)]["working"] + 7
    found = next(r["day"] for r in table if r["working"] and r["n"] == target)
    assert found == add_working_days(start, 7)
    assert workdays_table(date(2031, 1, 1), date(2031, 1, 31)).num_rows == 0


def test_spark_gives_duckdbs_rows(
    spark_engine: SparkEngine,
    inputs: Inputs,
    catalog: Catalog,
    on_duckdb: tuple[pa.Table, pa.Table],
) -> None:
    entries, index = jobs.derive_tables(spark_engine, catalog, *inputs)
    assert entries.to_pylist() == on_duckdb[0].to_pylist()
    assert index.to_pylist() == on_duckdb[1].to_pylist()


# -- the CLI: xinyong batch derive -------------------------------------------------------------

runner = CliRunner()


def _derive(store_url: str, out: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        ["batch", "derive", "--db", store_url, "--out", str(out), "--purpose", "核对", *extra],
    )


def test_cli_writes_both_tables_and_compares_equal_with_the_store(
    store: Engine, tmp_path: Path, on_duckdb: tuple[pa.Table, pa.Table]
) -> None:
    result = _derive(str(store.url), tmp_path / "out", "--compare", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {
        "engine", "out", "records", "entries", "restrictions", "seconds", "compare", "same",
    }  # fmt: skip
    assert report["same"] is True and report["engine"] == "duckdb"
    assert report["compare"]["entries"] == {"only_derived": 0, "only_store": 0}
    assert report["entries"] == on_duckdb[0].num_rows
    assert report["restrictions"] == on_duckdb[1].num_rows
    written = pq.read_table(tmp_path / "out" / jobs.RESTRICTIONS_FILE)
    assert _rows(written) == _rows(on_duckdb[1])
    text = _derive(str(store.url), tmp_path / "out")  # again, over the same files, as text
    assert text.exit_code == 0 and "restrictions" in text.stdout
    with store.connect() as conn:  # each export is one audited read, with its purpose
        events = conn.execute(
            select(audit_events.c.purpose, audit_events.c.outcome).where(
                audit_events.c.action == "records.derive"
            )
        ).all()
    assert len(events) >= 2 and all(e.purpose == "核对" for e in events)
    assert f"{report['entries']} entries" in events[-1].outcome


def test_cli_refuses_an_empty_purpose(store: Engine, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["batch", "derive", "--db", str(store.url), "--out", str(tmp_path / "o"),
         "--purpose", "  "],
    )  # fmt: skip
    assert result.exit_code == 2 and "--purpose" in result.output
    assert not (tmp_path / "o" / jobs.ENTRIES_FILE).exists()


def test_cli_exits_1_and_counts_the_rows_when_the_store_differs(
    store: Engine, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    with store.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        target = sqlite3.connect(copy)
        raw.backup(target)  # type: ignore[attr-defined]
        target.execute(
            "DELETE FROM restrictions WHERE id IN (SELECT id FROM restrictions "
            "WHERE superseded_at IS NULL ORDER BY id LIMIT 3)"
        )
        target.commit()
        target.close()
    result = _derive(f"sqlite:///{copy}", tmp_path / "out", "--compare", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["same"] is False
    assert report["compare"]["restrictions"] == {"only_derived": 3, "only_store": 0}
    assert report["compare"]["entries"] == {"only_derived": 0, "only_store": 0}


def test_cli_bad_usage_exits_2_with_one_line(store: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    nowhere = tmp_path / "nowhere" / "none.db"
    cases = [  # (store, output folder, options, what the one line says)
        (f"sqlite:///{nowhere}", tmp_path / "o1", ("--json",), f"no database file at {nowhere}"),
        (str(store.url), tmp_path / "o2", ("--engine", "flink"), "--engine must be duckdb or"),
        (str(store.url), blocker / "out", (), "cannot create the output directory"),
    ]
    for url, out, extra, says in cases:
        result = _derive(url, out, *extra)
        assert result.exit_code == 2, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith("错误 / error: ") and says in line, line
    assert not nowhere.exists() and not (tmp_path / "o2").exists(), "nothing is made"


def test_cli_on_spark_writes_what_the_store_holds(
    spark_engine: SparkEngine, store: Engine, tmp_path: Path
) -> None:
    result = _derive(
        str(store.url), tmp_path / "out", "--engine", "spark", "--master", "local[2]",
        "--compare", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["same"] is True
    assert (tmp_path / "out" / jobs.ENTRIES_FILE).is_dir()
