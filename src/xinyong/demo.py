"""The demo data set: a synthetic population run through the real pipeline into one database.

``build_demo`` writes files with the lab generator (:func:`xinyong.lab.generate`) into a
temporary directory and loads each with :func:`xinyong.ingest.ingest_file`, exactly as a
department's file would be loaded: validation, rejects, linking, relations. Nothing is written
to the store behind the pipeline's back.

The store only holds subjects that some record names (every organisation has its registration;
most people have no record at all), so the generated population is larger than the number of
subjects the demo ends with: ``POPULATION_PER_SUBJECT`` people and organisations per stored
subject, measured on the shipped catalog.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from xinyong.catalog import Catalog
from xinyong.ingest import ingest_file
from xinyong.lab import generate
from xinyong.store.tables import records, subjects

DEMO_SEED = 20140614  # 国发〔2014〕21号, the outline, was issued on 14 June 2014.
DEMO_SUBJECTS = 10_000
#: Generated population per subject that ends up in the store
#: (72,000 → 12,732 with the shipped catalog).
POPULATION_PER_SUBJECT = 5.6
DEMO_START = date(2019, 1, 1)

#: Registration first: officers and every other record then find their enterprise by its code.
LOAD_FIRST = ("enterprise_registration", "enterprise_officer")

Progress = Callable[[str], None]


@dataclass
class DemoSummary:
    """What ``build_demo`` loaded and how long each part took."""

    subjects: int
    records: int
    rejected: int
    by_type: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    ingest_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return round(self.generate_seconds + self.ingest_seconds, 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "subjects": self.subjects,
            "records": self.records,
            "rejected": self.rejected,
            "by_type": self.by_type,
            "generate_seconds": self.generate_seconds,
            "ingest_seconds": self.ingest_seconds,
            "seconds": self.seconds,
        }


def has_data(conn: Connection) -> bool:
    """True when the store already holds at least one subject."""
    return conn.execute(select(subjects.c.id).limit(1)).first() is not None


def counts(conn: Connection) -> tuple[int, int]:
    """(subjects, current records) in the store."""
    n_subjects = conn.execute(select(func.count()).select_from(subjects)).scalar_one()
    n_records = conn.execute(
        select(func.count()).select_from(records).where(records.c.superseded_at.is_(None))
    ).scalar_one()
    return int(n_subjects), int(n_records)


def load_order(type_ids: list[str]) -> list[str]:
    first = [t for t in LOAD_FIRST if t in type_ids]
    return first + sorted(t for t in type_ids if t not in LOAD_FIRST)


def build_demo(
    engine: Engine,
    *,
    subjects: int = DEMO_SUBJECTS,
    seed: int = DEMO_SEED,
    end: date | None = None,
    catalog: Catalog,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate a population that yields about ``subjects`` stored subjects and load it.

    The database must already be at the newest schema (``xinyong.store.schema.upgrade``).
    """
    end = end or date.today()
    population = max(1, round(subjects * POPULATION_PER_SUBJECT))
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="xinyong-demo-") as tmp:
        out = Path(tmp)
        began = time.perf_counter()
        say(f"生成合成人口 {population:,} 人 / generating a population of {population:,}")
        summary = generate(
            out,
            subjects=population,
            seed=seed,
            formats=["csv"],
            start=DEMO_START,
            end=end,
            catalog=catalog,
        )
        generated = time.perf_counter()
        loaded: dict[str, int] = {}
        rejected = 0
        for type_id in load_order([t for t, n in summary.records.items() if n > 0]):
            path = out / "records" / f"{type_id}.csv"
            say(f"载入 / loading {type_id} ({summary.records[type_id]:,})")
            result = ingest_file(
                engine,
                path,
                type_id,
                catalog.record_types[type_id].authority,
                catalog=catalog,
                rejects_path=out / f"{type_id}.rejects.csv",
                file_name=f"demo/{type_id}.csv",
                at=end,
            )
            loaded[type_id] = result.accepted
            rejected += result.rejected
        done = time.perf_counter()
    with engine.connect() as conn:
        n_subjects, n_records = counts(conn)
    return DemoSummary(
        subjects=n_subjects,
        records=n_records,
        rejected=rejected,
        by_type=loaded,
        generate_seconds=round(generated - began, 2),
        ingest_seconds=round(done - generated, 2),
    )
