"""The lab: a synthetic population run through the same pipeline, to measure who gets hurt.

Public API::

    generate(out_dir, *, subjects, seed, formats, start, end, catalog, progress=None)
        -> GenerationSummary                      # files: subjects, truth, records per type
    people(rng, n, *, at)                          # pyarrow.Table of individuals
    organisations(rng, n, people_table, *, at, first_id)   # pyarrow.Table of organisations
    records(rng, SubjectPool.from_tables(p, o), catalog, *, start, end)
        -> Iterator[RecordBatch]                   # rows + truth, one batch per record type
    name_model()                                   # draw names; expected homonym counts

``rng`` is a :class:`numpy.random.Generator` (``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

from xinyong.lab.generator import FORMATS, GenerationSummary, generate
from xinyong.lab.names import NameModel, name_model
from xinyong.lab.population import organisations, people
from xinyong.lab.records import RecordBatch, SubjectPool, records

__all__ = [
    "FORMATS",
    "GenerationSummary",
    "NameModel",
    "RecordBatch",
    "SubjectPool",
    "generate",
    "name_model",
    "organisations",
    "people",
    "records",
]
