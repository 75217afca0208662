"""``generate``: a whole synthetic data set, streamed to files batch by batch.

The run is split into batches of ``BATCH_SIZE`` subjects; batch ``i`` draws from its own
generator, ``SeedSequence(seed).spawn(…)[i]``, so the output depends on the seed (and the batch
size) only, and memory stays flat: each batch is written and dropped before the next. Files:

- ``subjects.parquet``: every individual and organisation (the population);
- ``truth.parquet``: for every record row, the subject it is really about;
- ``records/TYPE.<suffix>`` per record type and format (see :mod:`xinyong.lab.writers`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from xinyong.catalog import Catalog
from xinyong.errors import UnusableInput
from xinyong.lab import identifiers
from xinyong.lab.population import (
    ORGANISATION_SCHEMA,
    ORGS_PER_PERSON,
    PEOPLE_SCHEMA,
    organisations,
    people,
)
from xinyong.lab.records import TRUTH_SCHEMA, SubjectPool, arrow_schema, records
from xinyong.lab.writers import FORMATS, ParquetWriter, Writer, open_writer

__all__ = ["BATCH_SIZE", "FORMATS", "GenerationSummary", "generate"]

BATCH_SIZE = 100_000
MAX_SUBJECTS = 10_000_000

SUBJECTS_SCHEMA = pa.schema(
    [
        *PEOPLE_SCHEMA,
        *(f for f in ORGANISATION_SCHEMA if f.name not in PEOPLE_SCHEMA.names),
    ]
)


@dataclass
class GenerationSummary:
    """What a run produced and how fast."""

    seed: int
    subjects: int
    individuals: int
    organisations: dict[str, int]
    records: dict[str, int]
    formats: list[str]
    files: list[str]
    seconds: float
    rows_per_second: float
    start: str
    end: str
    batches: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[int, int], None]
"""Called after each batch with (subjects done, subjects in all)."""


def split(subjects: int) -> tuple[int, int]:
    """(individuals, organisations) in a batch of ``subjects``, in the registers' proportion."""
    orgs = round(subjects * ORGS_PER_PERSON / (1 + ORGS_PER_PERSON))
    return subjects - orgs, orgs


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.table(columns, schema=schema)


def generate(
    out_dir: Path,
    *,
    subjects: int,
    seed: int,
    formats: Sequence[str] = ("csv",),
    start: date,
    end: date,
    catalog: Catalog,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> GenerationSummary:
    """Generate ``subjects`` subjects and their records decided in ``[start, end]`` into
    ``out_dir``. Same arguments, same bytes."""
    if not 1 <= subjects <= MAX_SUBJECTS:
        raise UnusableInput(
            f"主体数须在 1 到 {MAX_SUBJECTS:,} 之间 / subjects must be 1 to {MAX_SUBJECTS:,}"
        )
    if start > end:
        raise UnusableInput("开始日期晚于结束日期 / start is after end")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UnusableInput(
            f"未知格式 {', '.join(unknown) or '（无）'}（可用：{', '.join(FORMATS)}）/ "
            f"unknown format {', '.join(unknown) or '(none)'} (choose from {', '.join(FORMATS)})"
        )
    formats = list(dict.fromkeys(formats))
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "records").mkdir(exist_ok=True)

    subjects_writer = ParquetWriter(out_dir / "subjects.parquet", SUBJECTS_SCHEMA)
    truth_writer = ParquetWriter(out_dir / "truth.parquet", TRUTH_SCHEMA)
    writers: dict[str, list[Writer]] = {
        type_id: [
            open_writer(fmt, out_dir / "records" / type_id, arrow_schema(rt), rt) for fmt in formats
        ]
        for type_id, rt in sorted(catalog.record_types.items())
    }
    ric_issued, org_issued = identifiers.Issued(), identifiers.Issued()
    counters: dict[str, int] = {}
    org_counts: dict[str, int] = {}
    individuals = 0
    batches = math.ceil(subjects / batch_size)
    next_id = 1
    try:
        for i, child in enumerate(np.random.SeedSequence(seed).spawn(batches)):
            rng = np.random.default_rng(child)
            n = min(batch_size, subjects - i * batch_size)
            n_people, n_orgs = split(n)
            folk = people(rng, n_people, at=end, first_id=next_id, issued=ric_issued)
            orgs = organisations(
                rng, n_orgs, folk, at=end, first_id=next_id + n_people, issued=org_issued
            )
            next_id += n
            individuals += n_people
            for kind in orgs.column("kind").to_pylist():
                org_counts[kind] = org_counts.get(kind, 0) + 1
            subjects_writer.write(_conform(folk, SUBJECTS_SCHEMA))
            subjects_writer.write(_conform(orgs, SUBJECTS_SCHEMA))
            pool = SubjectPool.from_tables(folk, orgs)
            for batch in records(rng, pool, catalog, start=start, end=end, first_row=counters):
                for writer in writers[batch.record_type.id]:
                    writer.write(batch.rows)
                truth_writer.write(batch.truth)
            if progress is not None:
                progress(min(subjects, (i + 1) * batch_size), subjects)
    finally:
        for group in writers.values():
            for writer in group:
                writer.close()
        subjects_writer.close()
        truth_writer.close()
    seconds = time.perf_counter() - began
    total_rows = subjects + sum(counters.values())
    files = ["subjects.parquet", "truth.parquet"] + [
        str(w.path.relative_to(out_dir)) for group in writers.values() for w in group
    ]
    return GenerationSummary(
        seed=seed,
        subjects=subjects,
        individuals=individuals,
        organisations=dict(sorted(org_counts.items())),
        records={type_id: counters.get(type_id, 0) for type_id in sorted(catalog.record_types)},
        formats=formats,
        files=files,
        seconds=round(seconds, 3),
        rows_per_second=round(total_rows / seconds, 1) if seconds else 0.0,
        start=start.isoformat(),
        end=end.isoformat(),
        batches=batches,
    )
