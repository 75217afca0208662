"""One restriction check on every engine that answers it: ``check``, the ``Checker``, ``screen``
(DuckDB), the batch layer's screen and an agency's replica give the same decision.

One store, built once for the module through the real pipeline (SQLite): a lab population
(``xinyong.lab.generate``, 3,000 subjects, every record type) and the mixed rows of
``tests/lists`` (officers with every role, corrections, records withdrawn, repaired and under
objection), so the index holds rows of every effect, rows through a role, rows closed and rows
added anew. The codes asked about: every identifier of every subject the index names (citizen
numbers, USCCs, organisation codes), the same typed the ways people type them (a citizen number
in its 15-digit form, lower case, spaces and hyphens), well-formed codes the store does not know
and malformed ones; every action of the catalog; days before, inside and after most entries.

``check`` is the reference (``xinyong.measures.decisions``); each other engine must give its
outcome, ``until`` and the measures behind the outcome, code by code. The replica learns the
index and the single liftings from the feed's restriction events (applied here in outbox order,
as ``replica sync`` applies them from the stream).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sqlalchemy import Connection, Engine, or_, select
from tests.lists.mixed_rows import change_statuses, load_all, mixed_rows, write_csv

from xinyong.batch import jobs
from xinyong.batch.engines import DuckDBEngine
from xinyong.catalog import Catalog, default_catalog
from xinyong.codes import normalise, ric, uscc
from xinyong.errors import InvalidCode
from xinyong.feed.events import event_from_row
from xinyong.feed.replica import Replica
from xinyong.feed.tables import feed_events
from xinyong.ingest import ingest_file
from xinyong.lab import generate
from xinyong.measures.checker import Checker
from xinyong.measures.decisions import Decision, check
from xinyong.measures.reach import reach_of, way_of
from xinyong.measures.screen import restriction_table, screen
from xinyong.measures.tables import restrictions
from xinyong.measures.writer import DecisionWriter
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade
from xinyong.store.tables import subject_identifiers

AT = date(2025, 6, 1)
DAYS = (date(2021, 3, 1), AT, date(2026, 9, 1))
#: (outcome, until, measures behind the outcome ``;``-separated) — or ("invalid", None, reason).
Verdict = tuple[str, date | None, str]


#: Slow: the module's store is 3,000 generated subjects, loaded through the real ingest, and
#: every code is decided for every action and day on each path.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("check_parity")
    generate(folder / "lab", subjects=3000, seed=5, formats=["csv"], start=date(2019, 1, 1),
             end=date(2026, 6, 30), catalog=catalog)  # fmt: skip
    engine = connect(f"sqlite:///{folder / 'store.db'}")
    upgrade(engine)

    def load(record_type: str, path: Path) -> None:
        source = catalog.record_types[record_type].authority
        ingest_file(engine, path, record_type, source, catalog=catalog, at=AT)

    # Registrations first, so the officers' relations exist when the lists are derived.
    for record_type in sorted(catalog.record_types, key=lambda t: (t != "enterprise_officer", t)):
        path = folder / "lab" / "records" / f"{record_type}.csv"
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) > 1:
            load(record_type, path)
    mixed = mixed_rows()
    numbers = iter(range(1000))
    load_all(
        mixed,
        lambda rtype, rows: load(rtype, write_csv(folder / f"mixed_{next(numbers)}.csv", rows)),
        one_row_per_batch=False,
    )
    change_statuses(engine, catalog, mixed, at=AT, one_by_one=False)
    _lift_some_flights(engine, folder / "liftings.csv", load)
    yield engine
    engine.dispose()


def _lift_some_flights(engine: Engine, path: Path, load: Callable[[str, Path], None]) -> None:
    """Single liftings (单次解除) of a flight around ``AT`` for six people the court restricts."""
    r, ids = restrictions.c, subject_identifiers.c
    with engine.connect() as conn:
        people = conn.execute(
            select(ids.value)
            .join(restrictions, r.subject_id == ids.subject_id)
            .where(
                ids.scheme == "ric", r.superseded_at.is_(None), r.role.is_(None),
                r.list_id == "consumption_restricted", r.valid_from <= AT,
                or_(r.valid_to.is_(None), r.valid_to >= AT),
            )
            .distinct()
            .order_by(ids.value)
            .limit(6)
        ).scalars().all()  # fmt: skip
    assert people
    rows = [
        {"被执行人": "某某", "身份证号码": code, "执行法院": "某法院", "文号": f"（2025）单解{n}号",
         "准许的消费行为": "乘坐飞机", "解除起始日期": "2025-05-31", "解除截止日期": "2025-06-02"}
        for n, code in enumerate(people)
    ]  # fmt: skip
    load("consumption_restriction_single_lifting", write_csv(path, rows))


def _typed(code: str, rng: random.Random) -> str:
    """A code as someone might type it."""
    if len(code) == 18 and ric.is_valid(code) and code[6:8] == "19" and rng.random() < 0.5:
        return code[:6] + code[8:17]  # the 15-digit form of a citizen number born in the 1900s
    return rng.choice([code.lower(), f" {code[:6]}-{code[6:]} ", code])


@pytest.fixture(scope="module")
def codes(store: Engine) -> list[str]:
    with store.connect() as conn:
        named = sorted(
            conn.execute(
                select(subject_identifiers.c.value)
                .join(restrictions, restrictions.c.subject_id == subject_identifiers.c.subject_id)
                .distinct()
            ).scalars()
        )
    rng = random.Random(15)
    typed = [_typed(c, rng) for c in rng.sample(named, 60)]
    unknown = [ric.generate(rng) for _ in range(5)] + [uscc.generate(rng) for _ in range(5)]
    malformed = ["", "12345", named[0][:-1] + ("0" if named[0][-1] != "0" else "1"), "中文代码"]
    return [*named, *typed, *unknown, *malformed]


def _reference(conn: Connection, catalog: Catalog, code: str, action: str, at: date) -> Verdict:
    try:
        decision = check(conn, code, action, at, catalog=catalog, log=False)
    except InvalidCode as error:
        return ("invalid", None, error.reason)
    return _verdict(decision)


def _verdict(decision: Decision) -> Verdict:
    behind = sorted({r.measure for r in decision.reasons if r.effect == decision.outcome})
    return (decision.outcome, decision.until, ";".join(behind))


@pytest.fixture(scope="module")
def expected(
    store: Engine, catalog: Catalog, codes: list[str]
) -> dict[tuple[str, date], list[Verdict]]:
    """``check``'s verdict for every code, per (action, day)."""
    with store.connect() as conn:
        return {
            (action, day): [_reference(conn, catalog, code, action, day) for code in codes]
            for action in sorted(catalog.actions)
            for day in DAYS
        }


def test_the_cases_cover_every_outcome_and_kind_of_code(
    expected: dict[tuple[str, date], list[Verdict]],
) -> None:
    outcomes = Counter(v[0] for verdicts in expected.values() for v in verdicts)
    assert set(outcomes) == {"permit", "deny", "review", "prefer", "invalid"}
    assert any(v[1] is None and v[0] == "deny" for vs in expected.values() for v in vs)
    assert any(";" in v[2] for vs in expected.values() for v in vs if v[0] != "invalid")
    assert any(v[0] == "permit" and v[2] for v in expected[("buy_flight_ticket", AT)])  # lifted


def test_checker_decides_as_check(
    store: Engine,
    catalog: Catalog,
    codes: list[str],
    expected: dict[tuple[str, date], list[Verdict]],
) -> None:
    checker = Checker(store, catalog, writer=DecisionWriter(store, sync=True))
    for (action, day), verdicts in expected.items():
        for code, want in zip(codes, verdicts, strict=True):
            try:
                got = _verdict(checker.decide(code, action, day))
            except InvalidCode as error:
                got = ("invalid", None, error.reason)
            assert got == want, (code, action, day)


def test_screen_and_the_batch_screen_decide_as_check(
    store: Engine,
    catalog: Catalog,
    codes: list[str],
    expected: dict[tuple[str, date], list[Verdict]],
    tmp_path: Path,
) -> None:
    source = tmp_path / "codes.csv"
    pacsv.write_csv(pa.table({"code": pa.array(codes, pa.string())}), source)
    numbered = pa.table(
        {"n": pa.array(range(len(codes)), pa.int64()), "raw": pa.array(codes, pa.string())},
        schema=jobs.CODES_SCHEMA,
    )
    for (action, day), verdicts in expected.items():
        out = tmp_path / f"{action}-{day}.csv"
        screen(store, source, action, out, at=day, catalog=catalog)
        rows = pacsv.read_csv(
            out, convert_options=pacsv.ConvertOptions(column_types={"code": pa.string(),
                                                                    "measures": pa.string()})
        ).to_pylist()  # fmt: skip
        on_screen = [(r["outcome"], r["until"], r["measures"] or "") for r in rows]
        engine = DuckDBEngine()
        try:
            index = restriction_table(store, action, day, None, catalog)
            batch = jobs.screen_table(engine, numbered, index).to_pylist()
        finally:
            engine.close()
        on_batch = [(r["outcome"], r["until"], r["measures"] or "") for r in batch]
        for code, want, a, b in zip(codes, verdicts, on_screen, on_batch, strict=True):
            if want[0] == "invalid":  # malformed: no decision, the failed check instead
                want = ("invalid", None, want[2])
            assert a == want, ("screen", code, action, day)
            assert b == want, ("batch screen", code, action, day)


def _replica(store: Engine, path: Path) -> Replica:
    with store.connect() as conn:
        rows = conn.execute(
            select(feed_events)
            .where(feed_events.c.event_type.like("restriction.%"))
            .order_by(feed_events.c.id)
        ).all()
    replica = Replica(path)
    replica.apply([(n, event_from_row(row._mapping)) for n, row in enumerate(rows, 1)])
    return replica


def _replica_cases(
    store: Engine, codes: list[str], expected: dict[tuple[str, date], list[Verdict]]
) -> Iterator[tuple[str, str, date, Verdict]]:
    for (action, day), verdicts in expected.items():
        for code, want in zip(codes, verdicts, strict=True):
            if want[0] != "invalid":  # lifted trips too: the replica learns single liftings
                yield code, action, day, want


def test_replica_decides_as_check(
    store: Engine,
    codes: list[str],
    expected: dict[tuple[str, date], list[Verdict]],
    tmp_path: Path,
) -> None:
    """Every code, organisation codes too, and subjects whose measure rests on several entries
    (two judgments, two tax-rating years, one entry added or lifted after another)."""
    with store.connect() as conn:
        orgcodes = set(
            conn.execute(
                select(subject_identifiers.c.value).where(subject_identifiers.c.scheme == "orgcode")
            ).scalars()
        )
    compared: Counter[str] = Counter()
    with _replica(store, tmp_path / "replica.db") as replica:
        for code, action, day, want in _replica_cases(store, codes, expected):
            decision = replica.check(code, action, at=day)
            behind = sorted({m["measure_id"] for m in decision.measures
                             if m["effect"] == decision.decision})  # fmt: skip
            got = (decision.decision, decision.until, ";".join(behind))
            assert got == want, (code, action, day)
            compared[decision.decision] += 1
            if want[0] != "permit" and normalise.compact(code) in orgcodes:
                compared["by organisation code"] += 1
            if want[0] == "permit" and want[2]:
                compared["lifted"] += 1
    assert set(compared) == {"permit", "deny", "review", "prefer", "by organisation code",
                             "lifted"}  # fmt: skip
    assert _several_entries_behind_one_measure(store), "the case the replica used to get wrong"


def _several_entries_behind_one_measure(store: Engine) -> int:
    """How many (subject, action, measure) of the current index rest on more than one entry."""
    r = restrictions.c
    reach = reach_of(default_catalog())
    with store.connect() as conn:
        facts = conn.execute(
            select(r.subject_id, r.list_id, r.subject_kind, r.role).where(r.superseded_at.is_(None))
        ).all()
    rows = Counter(
        (subject, action, m.id)
        for subject, list_id, kind, role in facts
        for m in reach.measures(list_id, way_of(kind, role))
        for action in m.actions
    )
    return sum(1 for n in rows.values() if n > 1)
