"""Scores and grades (评分与评级), each explained.

Models are declared in the catalog (``scoring_models``): a points ledger with grade rules and
bands (:mod:`.ledger`), or a trained scorecard (:mod:`.scorecard`). Every :class:`Score` carries
contributions that add up to it, the reasons that lower it (zh, en), what-ifs per record and the
day it will change by itself. Batch scoring of a points model runs in DuckDB (:mod:`.batch`).

Public API::

    score_subject(conn, subject_id, model_id, at=None, known_at=None, *, catalog) -> Score
    score_code(conn, code, model_id=None, at=None, known_at=None, *, catalog) -> list[Score]
    grade_for(conn, subject_id, model_id, at=None, known_at=None, *, catalog) -> str | None
    read_scores(conn, subject_ref, model_ids, at, known_at=None, *, actor, role, purpose,
                catalog) -> list[Score]      # access-checked, audited (score.read)
    public_model(model, catalog) -> bool

``score_subject``/``score_code`` compute without checking who reads: a caller that shows a score
to a person goes through ``read_scores`` (:mod:`.access`).
"""

from __future__ import annotations

from xinyong.score.access import public_model, read_scores
from xinyong.score.result import Contribution, GradeDecision, Score, WhatIf
from xinyong.score.subject import (
    grade_for,
    score_code,
    score_records,
    score_subject,
)

__all__ = [
    "Contribution",
    "GradeDecision",
    "Score",
    "WhatIf",
    "grade_for",
    "public_model",
    "read_scores",
    "score_code",
    "score_records",
    "score_subject",
]
