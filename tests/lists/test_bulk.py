"""The lists → measures → feed steps are set-based: a batch of many rows must derive exactly what
the same rows derive one per batch, and a full rebuild must find nothing to change."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.lists.mixed_rows import (
    Mixed,
    Rows,
    change_statuses,
    load_all,
    mixed_rows,
    snapshot,
    write_csv,
)

from xinyong.catalog import Catalog, default_catalog
from xinyong.ingest import ingest_file
from xinyong.lists import derive_subjects, entries_as_of, rebuild
from xinyong.lists.tables import list_entries
from xinyong.measures import derive_restrictions, rebuild_index
from xinyong.measures.index import index_rows
from xinyong.measures.tables import restrictions

AT = date(2025, 6, 1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="module")
def mixed() -> Mixed:
    return mixed_rows()


def _loader(engine: Engine, catalog: Catalog, folder: Path) -> Any:
    numbers = count()

    def load(record_type: str, rows: Rows) -> Any:
        path = write_csv(folder / f"{record_type}_{next(numbers)}.csv", rows)
        source = catalog.record_types[record_type].authority
        return ingest_file(engine, path, record_type, source, catalog=catalog, at=AT)

    return load


def _load_everything(
    engine: Engine, catalog: Catalog, mixed: Mixed, folder: Path, *, one_by_one: bool
) -> None:
    folder.mkdir()
    load_all(mixed, _loader(engine, catalog, folder), one_row_per_batch=one_by_one)
    change_statuses(engine, catalog, mixed, at=AT, one_by_one=one_by_one)


@pytest.mark.slow
def test_one_batch_derives_what_one_row_per_batch_derives(
    engine: Engine, other_engine: Engine, catalog: Catalog, mixed: Mixed, tmp_path: Path
) -> None:
    _load_everything(engine, catalog, mixed, tmp_path / "bulk", one_by_one=False)
    _load_everything(other_engine, catalog, mixed, tmp_path / "rows", one_by_one=True)
    bulk, rows = snapshot(engine), snapshot(other_engine)
    for part in ("entries", "index", "events"):
        assert bulk[part] == rows[part], part
    # The comparison is about something: every kind of change occurred.
    kinds = {json.loads(line)["type"] for line in bulk["events"]}
    assert kinds >= {
        "record.added", "record.corrected", "list.published", "list.expired", "list.removed",
        "restriction.added", "restriction.lifted",
    }  # fmt: skip
    roles = {json.loads(line)["role"] for line in bulk["index"]}
    assert roles >= {"legal_representative", "principal", "actual_controller"}
    reasons = {json.loads(line)["reason"] for line in bulk["entries"]}
    assert {"withdrawn", "repaired"} <= reasons
    assert sum(not json.loads(line)["current"] for line in bulk["index"]) > 0


def test_rebuild_after_a_bulk_load_changes_nothing_and_a_fresh_rebuild_gives_the_same(
    engine: Engine, catalog: Catalog, mixed: Mixed, tmp_path: Path
) -> None:
    _load_everything(engine, catalog, mixed, tmp_path / "bulk", one_by_one=False)
    with engine.begin() as conn:
        entries = _current_entries(conn)
        index = {_strip(r) for r in index_rows(conn)}
        assert rebuild(conn, catalog, at=AT) == []
        assert rebuild_index(conn, catalog) == []
        conn.execute(restrictions.delete())
        conn.execute(list_entries.delete())
        rebuilt = rebuild(conn, catalog, at=AT)
        assert len(rebuilt) == len(entries)
        added = rebuild_index(conn, catalog)
        assert {c.kind for c in added} == {"added"} and len(added) == len(index)
        assert _current_entries(conn) == entries
        assert {_strip(r) for r in index_rows(conn)} == index


def test_known_at_reproduces_the_index_and_entries_before_the_corrections(
    engine: Engine, catalog: Catalog, mixed: Mixed, tmp_path: Path
) -> None:
    load = _loader(engine, catalog, tmp_path)
    for record_type, rows in mixed.first.items():
        load(record_type, rows)
    with engine.connect() as conn:
        before_index = index_rows(conn)
        subject_ids = set(conn.execute(select(list_entries.c.subject_id)).scalars())
        before_entries = {_entry_key(e) for e in entries_as_of(conn, subject_ids)}
    then = datetime.now(UTC)
    for record_type, rows in mixed.corrections.items():
        load(record_type, rows)
    change_statuses(engine, catalog, mixed, at=AT, one_by_one=False)
    with engine.connect() as conn:
        assert index_rows(conn) != before_index  # the corrections changed something
        assert index_rows(conn, known_at=then) == before_index
        old = {_entry_key(e) for e in entries_as_of(conn, subject_ids, known_at=then)}
        total = conn.execute(select(func.count()).select_from(list_entries)).scalar_one()
    assert old == before_entries
    assert total > len(before_entries)  # nothing was overwritten: new versions were added


def test_unknown_and_no_subjects_derive_nothing(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        assert derive_subjects(conn, catalog, [], at=AT) == []
        assert derive_subjects(conn, catalog, [10**9, 10**9 + 1], at=AT) == []
        assert derive_restrictions(conn, catalog, [10**9]) == []
        assert rebuild(conn, catalog, at=AT) == [] and rebuild_index(conn, catalog) == []


def _strip(row: Any) -> tuple[Any, ...]:
    return (row.subject_id, row.subject_kind, row.list_id,
            row.source_subject_id, row.record_id, row.via_subject_id, row.role,
            row.relation_record_id, row.valid_from, row.valid_to)  # fmt: skip


def _entry_key(entry: Any) -> tuple[Any, ...]:
    return (entry.id, entry.entry_id, entry.list_id, entry.subject_id, entry.record_key,
            entry.state, entry.valid_from, entry.valid_to, entry.reason)  # fmt: skip


def _current_entries(conn: Any) -> set[tuple[Any, ...]]:
    rows = conn.execute(
        select(list_entries).where(
            list_entries.c.superseded_at.is_(None), list_entries.c.state == "listed"
        )
    )
    return {
        (r.list_id, r.subject_id, r.record_id, r.record_key, r.state, r.notified_on,
         r.valid_from, r.valid_to, r.until_event, r.extended, r.removed_on, r.reason)
        for r in rows
    }  # fmt: skip
