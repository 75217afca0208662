"""Partitioning (migration 0008, ``xinyong.store.partitions``): what PostgreSQL holds after
``xinyong init``, where rows land, the constraints that still hold, an upgrade from 0007 with
data on both databases (and back), the monthly audit upkeep, and the check path's plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Connection, Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from xinyong import audit
from xinyong.audit.verify import verify
from xinyong.cli import app
from xinyong.errors import UnusableInput
from xinyong.measures.checker import _CURRENT, _LOOKUP_SQL
from xinyong.store.engine import opened
from xinyong.store.partitions import (
    AUDIT_DEFAULT_PARTITION,
    AUDIT_MONTHS_AHEAD,
    DEFAULT_RECORD_PARTITIONS,
    audit_partition_name,
    ensure_audit_partitions,
    month_of,
    months,
    next_month,
    partitions_of,
    record_partition_count,
)
from xinyong.store.schema import migrate, upgrade
from xinyong.store.tables import provenance, records

runner = CliRunner()
NOW = datetime.now(UTC)


@pytest.fixture()
def pg_url(pg_empty_url: str) -> str:
    """An empty PostgreSQL database: partitioning is PostgreSQL's (SQLite has plain tables)."""
    return pg_empty_url


@pytest.fixture()
def pg(pg_url: str) -> Iterator[Engine]:
    result = runner.invoke(app, ["init", "--db", pg_url])
    assert result.exit_code == 0, result.output
    with opened(pg_url) as engine:
        yield engine


def _record(conn: Connection, key: str, *, superseded: bool = False) -> int:
    return int(
        conn.execute(
            insert(records).returning(records.c.id),
            {
                "record_type": "judgment_defaulter",
                "source": "court",
                "subject_name": "某公司",
                "fields": {},
                "recorded_at": NOW,
                "superseded_at": NOW if superseded else None,
                "record_key": key,
                "row_hash": "h",
            },
        ).scalar_one()
    )


def test_init_partitions_records_by_hash_and_audit_by_month(pg: Engine) -> None:
    with pg.connect() as conn:
        strategies = dict(
            conn.execute(
                text(
                    "SELECT c.relname, p.partstrat FROM pg_partitioned_table p "
                    "JOIN pg_class c ON c.oid = p.partrelid"
                )
            ).all()
        )
        assert strategies == {"records": "h", "audit_events": "r"}
        assert len(partitions_of(conn, "records")) == DEFAULT_RECORD_PARTITIONS
        wanted = {audit_partition_name(m) for m in months(month_of(NOW.date()), _ahead())}
        assert set(partitions_of(conn, "audit_events")) == wanted | {AUDIT_DEFAULT_PARTITION}
        # Idempotent: a second run creates nothing.
        assert ensure_audit_partitions(conn) == []


def _ahead(today: date | None = None) -> date:
    month = month_of(today or NOW.date())
    for _ in range(AUDIT_MONTHS_AHEAD):
        month = next_month(month)
    return month


def test_rows_land_in_their_partitions(pg: Engine) -> None:
    with pg.begin() as conn:
        for i in range(40):
            _record(conn, f"key-{i}")
        audit.record(
            conn, actor="t", role="operator", purpose="test", subject=None, action="test.a"
        )
        audit.record(
            conn,
            actor="t",
            role="operator",
            purpose="test",
            subject=None,
            action="test.b",
            at=NOW + timedelta(days=40),
        )
        placed = conn.execute(
            text(
                "SELECT tableoid::regclass::text AS part, record_key, "
                "satisfies_hash_partition('records'::regclass, :n, "
                "CAST(substr(tableoid::regclass::text, 10) AS int), record_key) AS fits "
                "FROM records"
            ),
            {"n": DEFAULT_RECORD_PARTITIONS},
        ).all()
        assert all(r.fits for r in placed)
        assert len({r.part for r in placed}) > 1  # spread, not all in one
        events = conn.execute(
            text("SELECT tableoid::regclass::text AS part, at FROM audit_events ORDER BY id")
        ).all()
        assert [e.part for e in events] == [
            audit_partition_name(month_of(e.at.astimezone(UTC).date())) for e in events
        ]
        assert verify(conn).ok


def test_one_current_version_per_key_still_enforced(pg: Engine) -> None:
    with pg.begin() as conn:
        _record(conn, "same", superseded=True)
        _record(conn, "same")
    # (PostgreSQL names the partition's index that uq_records_current_key put there.)
    duplicate = r"\(record_key\)=\(same\) already exists"
    with pytest.raises(IntegrityError, match=duplicate), pg.begin() as conn:
        _record(conn, "same")


def test_composite_references_hold(pg: Engine) -> None:
    with pg.begin() as conn:
        rid = _record(conn, "k1")
        _record(conn, "k2")
        batch = conn.execute(
            text(
                "INSERT INTO batches (record_type, source, file_name, file_sha256, started_at, "
                "state) VALUES ('judgment_defaulter', 'court', 'f', '', now(), 'done') RETURNING id"
            )
        ).scalar_one()
    row = {"record_id": rid, "batch_id": batch, "source": "court", "row_number": 1}
    with pg.begin() as conn:  # the right key: accepted
        conn.execute(insert(provenance), {**row, "record_key": "k1"})
    wrong = pytest.raises(IntegrityError, match="fk_provenance_record_id_records")
    with wrong, pg.begin() as conn:  # the id of one record with the key of another
        conn.execute(insert(provenance), {**row, "record_key": "k2"})
    half = pytest.raises(IntegrityError, match="fk_commitments_breach_record_id_records")
    with half, pg.begin() as conn:  # MATCH FULL: an id without its key
        conn.execute(
            text(
                "INSERT INTO commitments (subject_code, subject_name, kind, matter, authority,"
                " signed_on, state, breach_record_id, recorded_at) VALUES ('c', 'n', 'k', 'm',"
                " 'a', current_date, 'breached', :rid, now())"
            ),
            {"rid": rid},
        )


def test_every_source_table_references_records_but_the_derived_index(db_url: str) -> None:
    """Who references records: every table that holds a record as evidence, by (id, key); the
    restriction index, derived from two of them and checked by re-derivation, does not."""
    with opened(db_url) as engine:
        found = inspect(engine)
        referencing = {
            (table, tuple(fk["constrained_columns"]))
            for table in found.get_table_names()
            for fk in found.get_foreign_keys(table)
            if fk["referred_table"] == "records" and not table.startswith("records_p")
        }  # (each partition of records carries the parent's reference to itself)
    assert referencing == {
        ("records", ("supersedes", "record_key")),
        ("subject_relations", ("record_id", "record_key")),
        ("provenance", ("record_id", "record_key")),
        ("link_leads", ("record_id", "record_key")),
        ("list_entries", ("record_id", "record_key")),
        ("objections", ("record_id", "record_key")),
        ("repairs", ("record_id", "record_key")),
        ("commitments", ("breach_record_id", "breach_record_key")),
    }


def _counts(conn: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows per table; for ``restrictions``, facts (from revision 0014 a row is one fact, before
    it one per fact, measure and action)."""
    fact = "SELECT DISTINCT subject_id, entry_id, via_subject_id, role, relation_record_id"
    return {
        t: int(
            conn.execute(
                text(
                    f"SELECT count(*) FROM ({fact} FROM restrictions) f"
                    if t == "restrictions"
                    else f"SELECT count(*) FROM {t}"
                )
            ).scalar_one()
        )
        for t in tables
    }


def _seed_0007(conn: Connection, old: datetime) -> None:
    """Rows as a 0007 database holds them: a record corrected once, its provenance, a relation,
    a lead, a list entry, a restriction, an objection, a repair, a breached commitment."""
    sql = [
        "INSERT INTO subjects (id, kind, primary_code, created_at) VALUES "
        "(1, 'enterprise', '91350100M000100Y43', :now), (2, 'individual', NULL, :now)",
        "INSERT INTO batches (id, record_type, source, file_name, file_sha256, started_at, state)"
        " VALUES (1, 'judgment_defaulter', 'court', 'f.csv', 'x', :now, 'done')",
        "INSERT INTO records (id, record_type, source, subject_id, subject_code, subject_name, "
        "fields, status, version, supersedes, recorded_at, superseded_at, record_key, row_hash) "
        "VALUES (1, 'judgment_defaulter', 'court', 1, '91350100M000100Y43', '某公司', '{}', "
        "'active', 1, NULL, :now, :now, 'key-a', 'h1'), "
        "(2, 'judgment_defaulter', 'court', 1, '91350100M000100Y43', '某公司', '{}', "
        "'active', 2, 1, :now, NULL, 'key-a', 'h2'), "
        "(3, 'business_registration', 'amr', 1, '91350100M000100Y43', '某公司', '{}', "
        "'active', 1, NULL, :now, NULL, 'key-b', 'h3')",
        "INSERT INTO provenance (record_id, batch_id, source, row_number) VALUES "
        "(1, 1, 'court', 2), (2, 1, 'court', 3), (3, 1, 'court', 4)",
        "INSERT INTO subject_relations (from_subject_id, to_subject_id, role, record_id) "
        "VALUES (1, 2, 'legal_representative', 3)",
        "INSERT INTO link_leads (record_id, subject_id, confidence, method, state) "
        "VALUES (2, 1, 0.9, 'name', 'open')",
        "INSERT INTO list_entries (id, entry_id, list_id, subject_id, record_id, record_key, "
        "state, recorded_at) VALUES (1, 1, 'judgment_defaulters', 1, 2, 'key-a', 'listed', :now)",
        "INSERT INTO restrictions (subject_id, action, measure_id, effect, list_id, entry_id, "
        "source_subject_id, record_id, via_subject_id, role, relation_record_id, recorded_at) "
        "VALUES (2, 'buy_flight_ticket', 'consumption_restriction_flight', 'deny', "
        "'consumption_restricted', 1, 1, 2, 1, 'legal_representative', 3, :now)",
        "INSERT INTO objections (record_id, record_key, subject_code, filed_by, filer_role, "
        "reason, authority, filed_at, filed_on, due_on, deadline_rule, state) VALUES "
        "(2, 'key-a', '91350100M000100Y43', 'x', 'subject', 'r', 'court', :now, :day, :day, "
        "'d', 'open')",
        "INSERT INTO repairs (record_id, record_key, subject_code, applied_by, statement, "
        "conditions_met, authority, applied_at, applied_on, due_on, state) VALUES "
        "(2, 'key-a', '91350100M000100Y43', 'x', 's', '[]', 'court', :now, :day, :day, "
        "'pending')",
        "INSERT INTO commitments (subject_code, subject_name, kind, matter, authority, "
        "signed_on, state, breach_record_id, recorded_at) VALUES ('91350100M000100Y43', 'n', "
        "'k', 'm', 'court', :day, 'breached', 3, :now)",
    ]
    for statement in sql:
        conn.execute(text(statement), {"now": NOW, "day": NOW.date()})
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT setval('records_id_seq', 3)"))
    for i, at in enumerate((old, old + timedelta(days=31), NOW)):
        audit.record(
            conn, actor="t", role="operator", purpose="p", subject="s", action=f"a{i}", at=at
        )


_KEYS = (
    ("provenance", "record_key"),
    ("subject_relations", "record_key"),
    ("link_leads", "record_key"),
    ("restrictions", "record_key"),
    ("restrictions", "relation_record_key"),
    ("commitments", "breach_record_key"),
)


def test_upgrade_from_0007_keeps_everything(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_RECORD_PARTITIONS", "4")
    old = datetime(2025, 3, 15, 12, tzinfo=UTC)
    tables = ("records", "provenance", "subject_relations", "link_leads", "list_entries",
              "restrictions", "objections", "repairs", "commitments", "audit_events")  # fmt: skip
    with opened(empty_db_url) as engine:
        migrate(engine, "0007")
        with engine.begin() as conn:
            _seed_0007(conn, old)
        with engine.connect() as conn:
            before = _counts(conn, tables)
        result = runner.invoke(app, ["init", "--db", empty_db_url, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["action"] == "upgraded"
        with engine.connect() as conn:
            after = _counts(conn, tables)
            assert after == before
            keys = {(t, c): conn.execute(text(f"SELECT {c} FROM {t}")).scalar() for t, c in _KEYS}
            assert keys == {
                ("provenance", "record_key"): "key-a",
                ("subject_relations", "record_key"): "key-b",
                ("link_leads", "record_key"): "key-a",
                ("restrictions", "record_key"): "key-a",
                ("restrictions", "relation_record_key"): "key-b",
                ("commitments", "breach_record_key"): "key-b",
            }
            assert conn.execute(select(records.c.supersedes).where(records.c.id == 2)).scalar()
            if conn.dialect.name == "postgresql":
                assert len(partitions_of(conn, "records")) == 4
                parts = partitions_of(conn, "audit_events")
                assert audit_partition_name(month_of(old.date())) in parts
                oldest = conn.execute(
                    text("SELECT tableoid::regclass::text FROM audit_events WHERE id = 1")
                ).scalar()
                assert oldest == audit_partition_name(date(2025, 3, 1))
                # The id sequence went with the table: new records continue after the old.
                assert _record(conn, "key-new") > 3
                conn.rollback()
        verified = runner.invoke(app, ["audit", "verify", "--db", empty_db_url, "--json"])
        assert verified.exit_code == 0, verified.output
        assert json.loads(verified.output)["count"] == 3
        # And back: 0007 again with every row, then up once more.
        migrate(engine, "0007")
        with engine.connect() as conn:
            back = _counts(conn, tables)
            assert back == before
            assert verify(conn).ok
        upgrade(engine)
        assert runner.invoke(app, ["audit", "verify", "--db", empty_db_url]).exit_code == 0


def test_upkeep_moves_rows_out_of_the_default_partition(pg: Engine) -> None:
    far = month_of(_ahead()) + timedelta(days=45)  # past the months init created
    with pg.begin() as conn:
        audit.record(conn, actor="t", role="operator", purpose="p", subject=None, action="now")
        audit.record(
            conn,
            actor="t",
            role="operator",
            purpose="p",
            subject=None,
            action="late",
            at=datetime(far.year, far.month, far.day, tzinfo=UTC),
        )
        held = text(f"SELECT count(*) FROM {AUDIT_DEFAULT_PARTITION}")
        assert conn.execute(held).scalar() == 1
    later = far - timedelta(days=300)  # months on, the upkeep's run reaches the row's month
    with pg.begin() as conn:
        created = ensure_audit_partitions(conn, today=later)
        assert audit_partition_name(month_of(far)) in created
        assert conn.execute(held).scalar() == 0
        placed = conn.execute(
            text("SELECT tableoid::regclass::text FROM audit_events WHERE action = 'late'")
        ).scalar()
        assert placed == audit_partition_name(month_of(far))
        assert verify(conn).ok
        assert ensure_audit_partitions(conn, today=later) == []


def test_partition_count_from_the_environment() -> None:
    assert record_partition_count({}) == DEFAULT_RECORD_PARTITIONS
    assert record_partition_count({"XINYONG_RECORD_PARTITIONS": " 64 "}) == 64
    for bad in ("0", "-3", "many", "2000"):
        with pytest.raises(UnusableInput, match="XINYONG_RECORD_PARTITIONS"):
            record_partition_count({"XINYONG_RECORD_PARTITIONS": bad})


def test_sqlite_upkeep_does_nothing(sqlite_url: str) -> None:
    with opened(sqlite_url) as engine:
        upgrade(engine)
        with engine.begin() as conn:
            assert ensure_audit_partitions(conn) == []


def test_check_queries_use_indexes_only(pg: Engine) -> None:
    """The check's lookup (measures/checker.py, one statement) on a partitioned store of 20,000
    subjects, records and index rows: index scans, no sequential scan, one records partition."""
    n = 20_000
    with pg.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subjects (id, kind, primary_code, created_at) "
                "SELECT i, 'individual', 'code' || i, now() FROM generate_series(1, :n) i"
            ),
            {"n": n},
        )
        conn.execute(
            text(
                "INSERT INTO subject_identifiers (subject_id, scheme, value) "
                "SELECT i, 'ric', 'code' || i FROM generate_series(1, :n) i"
            ),
            {"n": n},
        )
        conn.execute(
            text(
                "INSERT INTO records (id, record_type, source, subject_id, subject_name, fields, "
                "recorded_at, record_key, row_hash) SELECT i, 'judgment_defaulter', 'court', i, "
                "'x', '{}', now(), 'key-' || i, 'h' FROM generate_series(1, :n) i"
            ),
            {"n": n},
        )
        conn.execute(
            text(
                "INSERT INTO restrictions (subject_id, subject_kind, list_id, entry_id, "
                "source_subject_id, record_id, record_key, recorded_at) "
                "SELECT i, 'individual', l, i, i, i, 'key-' || i, now() "
                "FROM generate_series(1, :n) i, unnest(ARRAY['l1', 'l2', 'l3']) l"
            ),
            {"n": n},
        )
    with pg.connect() as conn:
        conn.execute(text("ANALYZE"))
        rows_plan = _plan(
            conn,
            _LOOKUP_SQL.format(known=_CURRENT),
            "date, date, text, text",
            (NOW.date(), NOW.date(), "ric", "code777"),
        )
    assert "Seq Scan" not in rows_plan, rows_plan
    assert "Index" in rows_plan, rows_plan
    # The join to records reaches one partition (pruned at run time by the row's key).
    scans = [line for line in rows_plan.splitlines() if " on records_p" in line]
    assert len([line for line in scans if "never executed" not in line]) == 1, rows_plan


def _plan(conn: Connection, sql: str, types: str, params: tuple[object, ...]) -> str:
    """EXPLAIN ANALYZE of a checker query, its ``?`` placeholders bound as a prepared statement
    would bind them (a generic plan, as the checker's repeated statements get)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = psycopg.ClientCursor(raw)  # type: ignore[arg-type]  # parameters bound here
    try:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        numbered, n = "", 0
        for ch in sql:
            if ch == "?":
                n += 1
                numbered += f"${n}"
            else:
                numbered += ch
        cursor.execute(f"PREPARE q ({types}) AS {numbered}")
        marks = ", ".join("%s" for _ in params)
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE q ({marks})", params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("DEALLOCATE q")
        return plan
    finally:
        cursor.close()
