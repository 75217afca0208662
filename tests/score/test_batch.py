"""Batch scoring gives, subject by subject, what the ledger gives one at a time.

Random records (every record type a shipped model reads, with its enum values, open-ended ends,
publication dates, repaired records and records under objection) go through the same path as
``xinyong score --all`` after the store: Arrow rows with fields as JSON text, disclosure ends
computed in DuckDB, the compiled model. Each subject's batch score and grade must equal the
ledger's on the same records.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from xinyong.catalog import default_catalog
from xinyong.catalog.model import Catalog, FieldType, PointsSpec, ScorecardSpec
from xinyong.catalog.periods import disclosure
from xinyong.codes import ric, uscc
from xinyong.errors import UnusableInput
from xinyong.score.batch import RAW_SCHEMA, compile_sql, load_tables, record_types_read
from xinyong.score.ledger import Ledger
from xinyong.score.subject import is_minor_for
from xinyong.store.queries import StoredRecord

KINDS = ("enterprise", "individual", "sole_trader", "organisation", "government")
STATUSES = ("active", "active", "active", "under_objection", "repaired")


def _day(rng: random.Random, start: date = date(2018, 1, 1), span: int = 3000) -> date:
    return start + timedelta(days=rng.randrange(span))


def random_records(
    rng: random.Random,
    catalog: Catalog,
    types: list[str],
    subjects: int,
    at: date,
    first: date = date(2018, 1, 1),
) -> list[StoredRecord]:
    found: list[StoredRecord] = []
    span = min(3000, (at - first).days + 1) if first < at else 3000
    for rid in range(1, subjects * 3):
        rtype = catalog.record_types[rng.choice(types)]
        decided = _day(rng, first, span)
        fields: dict[str, Any] = {}
        for spec in rtype.fields:
            if spec.type is FieldType.ENUM and spec.enum and rng.random() < 0.9:
                fields[spec.name] = rng.choice([e.id for e in spec.enum] + ["D"])
            elif spec.type is FieldType.DATE and spec.name != "decided_on" and rng.random() < 0.4:
                fields[spec.name] = (decided + timedelta(days=rng.randrange(-30, 900))).isoformat()
        for name in ("removed_on", "lifted_on"):
            if rng.random() < 0.2:
                fields[name] = (decided + timedelta(days=rng.randrange(1, 1500))).isoformat()
        if rng.random() < 0.05:
            fields["published_on"] = "not a date"
        valid_to = decided + timedelta(days=rng.randrange(30, 2500)) if rng.random() < 0.2 else None
        record = StoredRecord(
            id=rid,
            record_type=rtype.id,
            source="test",
            subject_id=rng.randrange(subjects),
            subject_code=None,
            subject_name="x",
            document_no=f"doc{rid}",
            decided_on=decided if rng.random() < 0.97 else None,
            valid_from=decided if rng.random() < 0.7 else None,
            valid_to=valid_to,
            fields=fields,
            status=rng.choice(STATUSES),
            version=1,
            supersedes=None,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
            superseded_at=None,
        )
        start = record.valid_from or record.decided_on
        # The store's filters (records_for): held on ``at``.
        if (start is None or start <= at) and (valid_to is None or valid_to >= at):
            found.append(record)
    return found


def raw_table(rows: list[StoredRecord]) -> pa.Table:
    """The rows as ``store_rows`` hands them over: store columns, fields as JSON text."""
    return pa.table(
        {
            "subject_id": [r.subject_id for r in rows],
            "record_type": [r.record_type for r in rows],
            "decided_on": [r.decided_on for r in rows],
            "valid_from": [r.valid_from for r in rows],
            "valid_to": [r.valid_to for r in rows],
            "status": [r.status for r in rows],
            "fields": [json.dumps(r.fields) for r in rows],
        },
        schema=RAW_SCHEMA,
    )


@pytest.mark.parametrize(
    ("model_id", "at", "start"),
    [
        ("rongcheng_points", date(2022, 3, 1), date(2018, 1, 1)),
        ("rongcheng_points", date(2025, 6, 1), date(2018, 1, 1)),
        ("tax_credit_grade", date(2022, 3, 1), date(2018, 1, 1)),
        ("tax_credit_grade", date(2025, 6, 1), date(2018, 1, 1)),
        # the tax credit rules (2014 measures) take effect 2014-10-01: the day before, none holds
        ("tax_credit_grade", date(2014, 9, 30), date(2013, 1, 1)),
        ("tax_credit_grade", date(2014, 10, 1), date(2013, 1, 1)),
    ],
)
def test_batch_equals_the_ledger_subject_by_subject(model_id: str, at: date, start: date) -> None:
    catalog = default_catalog()
    model = catalog.scoring_models[model_id]
    rng = random.Random(f"{model_id}{at}")
    n = 600
    assert isinstance(model.spec, PointsSpec)
    rows = random_records(rng, catalog, record_types_read(model.spec), n, at, start)
    kinds = [rng.choice(KINDS) for _ in range(n)]
    codes = [subject_code(rng, kind, at) for kind in kinds]
    subjects = pa.table(
        {
            "subject_id": pa.array(range(n), pa.int64()),
            "kind": pa.array(kinds, pa.string()),
            "code": pa.array(codes, pa.string()),
        }
    )
    duck = duckdb.connect()
    load_tables(duck, subjects, raw_table(rows), model, catalog)
    ends = dict(duck.execute("SELECT rowid, ends_on FROM records ORDER BY rowid").fetchall())
    for i, row in enumerate(rows):  # disclosure ends in SQL are the Python ones
        assert ends[i] == disclosure(catalog.record_types[row.record_type], row).first_hidden, row
    got = {s: (score, grade) for s, score, grade in duck.execute(compile_sql(model, at)).fetchall()}
    ledger = Ledger(model, catalog)
    by_subject: dict[int, list[StoredRecord]] = {}
    for row in rows:
        assert row.subject_id is not None
        by_subject.setdefault(row.subject_id, []).append(row)
    grades = set()
    minors = 0
    for subject in range(n):
        score, grade, _, _ = ledger.evaluate(by_subject.get(subject, []), at)
        minor = is_minor_for(model, kinds[subject], codes[subject], at)
        expected = grade if kinds[subject] in model.subject_kinds and not minor else None
        minors += minor
        assert got[subject] == (score, expected), (subject, by_subject.get(subject))
        grades.add(expected)
    if at < date(2014, 10, 1) and model_id == "tax_credit_grade":  # no rule in force yet
        assert all(score == model.spec.base for score, _ in got.values())
    else:
        assert len(grades) >= 3  # the data reaches several grades, not only the base one
    assert (minors > 0) == (model.adults_only is not None), "minors get no grade, if adults only"


def subject_code(rng: random.Random, kind: str, at: date) -> str:
    """A subject's primary code: a citizen number for a person (a third of them born in the 20
    years before ``at``, some on the day 18 years before or the days around it; some in the
    15-digit form), a USCC for the others."""
    if kind != "individual":
        return uscc.generate(rng)
    roll = rng.random()
    if roll < 0.15:
        eighteen = date(at.year - 18, at.month, min(at.day, 28))
        born = eighteen + timedelta(days=rng.choice((-1, 0, 1)))
    elif roll < 0.35:
        born = at - timedelta(days=rng.randrange(20 * 366))
    else:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(15000))
    code = ric.generate(rng, birth_date=born)
    return code[:6] + code[8:17] if born.year < 2000 and rng.random() < 0.3 else code


def test_batch_refuses_a_scorecard() -> None:
    catalog = default_catalog()
    model = catalog.scoring_models["rongcheng_points"]
    card = model.model_copy(update={"spec": ScorecardSpec(kind="scorecard", file="x.json")})
    with pytest.raises(UnusableInput):
        compile_sql(card, date(2025, 1, 1))
