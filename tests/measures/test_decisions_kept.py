"""Decisions do not move with the faster ingest (issue 19).

Revision 0014 keeps the restriction index as one row per fact (it was one per fact, measure and
action, revision 0013's shape); that may not change a single decision. A store is loaded from a
generated lab population (every record type, officers and their roles) and its decisions taken;
it is then taken back to revision 0013 (the downgrade expands each fact into its rows by measure
and action, the shape that revision's code wrote) and migrated forward again:

- every decision it gave before migrating, it gives after (every code the index names, and
  codes it does not know or that are malformed; every action; three days);
- loading a second population into the migrated store gives the decisions a store built at
  head from the same files gives (ids may differ between the stores, decisions may not), and
  re-deriving the migrated store's lists and index changes nothing;
- ``screen`` decides as ``check`` does for each of those codes.

Decisions are taken with ``check`` (the reference) on the small store, and with ``screen`` on
the 100,000-subject one (``check``, one code at a time, would take hours there; the parity of
the two is held by ``test_check_parity``).
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from xinyong.catalog import Catalog, default_catalog
from xinyong.codes import ric, uscc
from xinyong.errors import InvalidCode
from xinyong.ingest import ingest_file
from xinyong.lab import generate
from xinyong.lists.derive import rebuild
from xinyong.measures.decisions import check
from xinyong.measures.index import rebuild_index
from xinyong.measures.screen import screen
from xinyong.measures.tables import restrictions
from xinyong.store.engine import opened
from xinyong.store.schema import alembic_config, migrate, upgrade
from xinyong.store.tables import subject_identifiers

AT = date(2025, 6, 1)
DAYS = (date(2021, 3, 1), AT, date(2026, 9, 1))
#: The revision before this change: the index by fact, measure and action.
BEFORE = str(ScriptDirectory.from_config(alembic_config()).get_revision("0014").down_revision)
#: (outcome, until as ISO text or "", the measures behind the outcome) or ("invalid", "", why).
Verdict = tuple[str, str, str]
Decisions = dict[tuple[str, date], list[Verdict]]


def _population(folder: Path, subjects: int, seed: int, catalog: Catalog) -> Path:
    generate(folder, subjects=subjects, seed=seed, formats=["csv"], start=date(2019, 1, 1),
             end=date(2026, 6, 30), catalog=catalog)  # fmt: skip
    return folder / "records"


def _load(engine: Engine, records: Path, catalog: Catalog) -> None:
    # Registrations first, so the officers' relations exist when the lists are derived.
    for record_type in sorted(catalog.record_types, key=lambda t: (t != "enterprise_officer", t)):
        path = records / f"{record_type}.csv"
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) > 1:
            source = catalog.record_types[record_type].authority
            ingest_file(engine, path, record_type, source, catalog=catalog, at=AT)


def _codes(engine: Engine, seed: int) -> list[str]:
    """Every code the index names, then unknown, malformed and mistyped ones."""
    with engine.connect() as conn:
        named = sorted(
            conn.execute(
                select(subject_identifiers.c.value)
                .join(restrictions, restrictions.c.subject_id == subject_identifiers.c.subject_id)
                .distinct()
            ).scalars()
        )
    rng = random.Random(seed)
    unknown = [ric.generate(rng) for _ in range(5)] + [uscc.generate(rng) for _ in range(5)]
    broken = named[0][:-1] + ("0" if named[0][-1] != "0" else "1")
    return [*named, *unknown, broken, "", "12345", "中文代码", f" {named[1].lower()} "]


def _by_check(engine: Engine, catalog: Catalog, codes: list[str]) -> Decisions:
    out: Decisions = {}
    with engine.connect() as conn:
        for action in sorted(catalog.actions):
            for day in DAYS:
                verdicts = out[(action, day)] = []
                for code in codes:
                    try:
                        d = check(conn, code, action, day, catalog=catalog, log=False)
                    except InvalidCode as error:
                        verdicts.append(("invalid", "", error.reason))
                        continue
                    behind = sorted({r.measure for r in d.reasons if r.effect == d.outcome})
                    until = d.until.isoformat() if d.until else ""
                    verdicts.append((d.outcome, until, ";".join(behind)))
    return out


def _by_screen(engine: Engine, catalog: Catalog, codes: list[str], tmp: Path) -> Decisions:
    source = tmp / "codes.csv"
    pacsv.write_csv(pa.table({"code": pa.array(codes, pa.string())}), source)
    strings = pacsv.ConvertOptions(column_types={"code": pa.string(), "until": pa.string(),
                                                 "measures": pa.string()})  # fmt: skip
    out: Decisions = {}
    for action in sorted(catalog.actions):
        for day in DAYS:
            path = tmp / f"{action}-{day}.csv"
            screen(engine, source, action, path, at=day, catalog=catalog)
            rows = pacsv.read_csv(path, convert_options=strings).to_pylist()
            out[(action, day)] = [
                (r["outcome"], r["until"] or "", r["measures"] or "") for r in rows
            ]
    return out


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("restrictions")}


def _row_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(restrictions.c.id)).all())


def _kept(empty_db_url: str, tmp_path: Path, subjects: int, by_check: bool) -> None:
    catalog = default_catalog()
    first = _population(tmp_path / "first", subjects, 5, catalog)
    second = _population(tmp_path / "second", max(subjects // 4, 50), 6, catalog)

    def decisions(engine: Engine, codes: list[str], name: str) -> Decisions:
        if by_check:
            return _by_check(engine, catalog, codes)
        folder = tmp_path / name
        folder.mkdir()
        return _by_screen(engine, catalog, codes, folder)

    with opened(empty_db_url) as old:
        upgrade(old)
        _load(old, first, catalog)
        codes = _codes(old, 15)
        before = decisions(old, codes, "before")
        assert {v[0] for vs in before.values() for v in vs} >= {"permit", "deny", "invalid"}
        facts = _row_count(old)
        migrate(old, BEFORE)
        assert {"action", "measure_id", "effect"} <= _columns(old)
        assert _row_count(old) > 5 * facts  # the old shape: a fact per measure and action
        upgrade(old)
        assert "action" not in _columns(old) and _row_count(old) == facts
        assert decisions(old, codes, "after") == before
        _load(old, second, catalog)
        codes = _codes(old, 16)
        migrated = decisions(old, codes, "migrated")
        with old.begin() as conn:
            assert rebuild(conn, catalog, at=AT) == []
            assert rebuild_index(conn, catalog) == []
        if not by_check:
            assert _by_check(old, catalog, codes[:200]) == {
                key: verdicts[:200] for key, verdicts in migrated.items()
            }
    with opened(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        upgrade(fresh)
        _load(fresh, first, catalog)
        _load(fresh, second, catalog)
        assert decisions(fresh, codes, "fresh") == migrated


def test_a_migrated_store_decides_as_before_and_as_a_fresh_one(
    empty_db_url: str, tmp_path: Path
) -> None:
    _kept(empty_db_url, tmp_path, 200, by_check=True)


@pytest.mark.slow
@pytest.mark.huge
def test_the_same_on_a_store_of_100000_subjects(empty_db_url: str, tmp_path: Path) -> None:
    _kept(empty_db_url, tmp_path, 100_000, by_check=False)
