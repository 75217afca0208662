"""Scoring one subject (found by ``xinyong.store.queries.find_subject``): read its records as
of a date, apply a model.

Scores are computed, not stored: the same ``at`` and ``known_at`` give the same score, so a past
score is reproduced from the bitemporal store (``records_for(conn, subject, at, known_at)``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from xinyong.catalog.model import AdultsOnly, Catalog, ScoringModel
from xinyong.codes import ric
from xinyong.score.features import feature_value
from xinyong.score.ledger import Ledger
from xinyong.score.models import LoadedScorecard, engine_for, model_ids
from xinyong.score.result import Contribution, Score
from xinyong.store.queries import (
    StoredRecord,
    SubjectRef,
    find_subject,
    records_for,
    subject_by_id,
)


def is_minor_for(model: ScoringModel, kind: str, code: str, at: date) -> bool:
    """Whether ``model`` gives this subject no grade on ``at`` for being under 18: an individual
    whose citizen number says so, under a model with ``adults_only``. The batch's twin:
    ``xinyong.score.batch.compile_sql`` with ``ric.is_minor_on_sql`` (docs/semantics.md)."""
    return model.adults_only is not None and kind == "individual" and ric.is_minor_on(code, at)


def _cited(catalog: Catalog, rule: AdultsOnly | None) -> str | None:
    return "；".join(catalog.cite(ref) for ref in rule.legal_basis) if rule else None


def score_records(
    subject: SubjectRef,
    records: list[StoredRecord],
    model_id: str,
    at: date,
    *,
    catalog: Catalog,
    known_at: datetime | None = None,
) -> Score:
    """A score from records already read (``records_for`` on ``at`` and ``known_at``)."""
    engine = engine_for(model_id, catalog)
    if isinstance(engine, Ledger):
        model = engine.model
        minor = is_minor_for(model, subject.kind, subject.code, at)
        applicable = subject.kind in model.subject_kinds and not minor
        score, grade, parts, decisions = engine.evaluate(records, at)
        label = engine.label(grade)
        return Score(
            subject=subject.code,
            model=model.id,
            at=at,
            known_at=known_at,
            score=score,
            grade=grade if applicable else None,
            grade_label_zh=label[0] if applicable else None,
            grade_label_en=label[1] if applicable else None,
            contributions=parts,
            decisions=decisions if applicable else [],
            what_if=engine.what_if(records, at, grade) if applicable else [],
            changes_on=engine.changes_on(records, at),
            example=model.example,
            catalog_version=catalog.version,
            applicable=applicable,
            minor=minor,
            adults_only=_cited(catalog, model.adults_only) if minor else None,
        )
    return _scorecard_score(subject, engine, records, at, catalog, known_at)


def _scorecard_score(
    subject: SubjectRef,
    engine: LoadedScorecard,
    records: list[StoredRecord],
    at: date,
    catalog: Catalog,
    known_at: datetime | None,
) -> Score:
    live = [r for r in records if r.status not in ("repaired", "withdrawn")]
    row = {f.name: feature_value(f, live, at) for f in engine.features}
    parts = [
        Contribution(
            source=source if source == "base" else f"feature:{source}",
            points=points,
            reason_zh="基础分" if source == "base" else f"{source} 落在 {label}",
            reason_en="base score" if source == "base" else f"{source} in bin {label}",
        )
        for source, points, label in engine.card.explain(row)
    ]
    raw = round(sum(float(c.points) for c in parts), 2)
    low, high = engine.card.scaling.score_range
    held = min(max(raw, low), high)
    if held != raw:
        parts.append(
            Contribution(
                source="range",
                points=round(held - raw, 2),
                reason_zh=f"分数范围 {low:g}–{high:g}",
                reason_en=f"score range {low:g}–{high:g}",
            )
        )
    applicable = not engine.subject_kinds or subject.kind in engine.subject_kinds
    return Score(
        subject=subject.code,
        model=engine.id,
        at=at,
        known_at=known_at,
        score=round(sum(float(c.points) for c in parts), 2),
        grade=None,
        contributions=parts,
        example=engine.example,
        catalog_version=catalog.version,
        applicable=applicable,
    )


def score_subject(
    conn: Connection,
    subject: SubjectRef | int,
    model_id: str,
    at: date | None = None,
    known_at: datetime | None = None,
    *,
    catalog: Catalog,
) -> Score:
    """One subject's score under one model, as of ``at`` (default today), as known on
    ``known_at`` (default: now)."""
    ref = subject if isinstance(subject, SubjectRef) else subject_by_id(conn, subject)
    day = at or date.today()
    records = records_for(conn, ref.id, at=day, known_at=known_at)
    return score_records(ref, records, model_id, day, catalog=catalog, known_at=known_at)


def score_code(
    conn: Connection,
    code: str,
    model_id: str | None = None,
    at: date | None = None,
    known_at: datetime | None = None,
    *,
    catalog: Catalog,
) -> list[Score]:
    """The scores of the subject a code names: under ``model_id``, or every model of the
    catalog (in id order)."""
    ref = find_subject(conn, code)
    ids = [model_id] if model_id else model_ids(catalog)
    if model_id:
        engine_for(model_id, catalog)  # an unknown model is an error before any reading
    return [score_subject(conn, ref, m, at, known_at, catalog=catalog) for m in ids]


def grade_for(
    conn: Connection,
    subject_id: int,
    model_id: str,
    at: date | None = None,
    known_at: datetime | None = None,
    *,
    catalog: Catalog,
) -> str | None:
    """The grade (``A``, ``AA``, ``D`` …) the model gives the subject on ``at``, or None where
    the model gives no grade (a scorecard) or is not made for the subject's kind.

    For the decisions engine: a reward measure keyed on a grade calls this with the subject id,
    the model id and the decision's ``at`` (and ``known_at`` when replaying a past decision).
    ``NotFound`` for an unknown subject or model."""
    return score_subject(conn, subject_id, model_id, at, known_at, catalog=catalog).grade
