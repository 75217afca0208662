"""What a score is: the number, the grade, and everything that explains them.

``contributions`` always add up to ``score`` (the base, caps and the floor are contributions of
their own), so a reader can check the arithmetic; ``reasons`` are the contributions that lower the
score most, in Chinese and English; ``what_if`` says which records, repaired or expired, would
change the grade, and ``changes_on`` when the score will change by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Number = int | float


@dataclass(frozen=True)
class Contribution:
    """One addend of a score: the base, a record under a rule, a cap, the floor, a feature."""

    source: str
    points: Number
    reason_zh: str
    reason_en: str
    record_id: int | None = None
    rule: str | None = None
    ends_on: date | None = None
    """The first day this record no longer counts, where known (end of its disclosure period)."""

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}"

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "points": self.points,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "record_id": self.record_id,
            "rule": self.rule,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
        }


@dataclass(frozen=True)
class GradeDecision:
    """A grade rule that decided or capped the grade (直接判级 / 不得评为).

    ``effect`` is ``direct`` (the grade whatever the points) or ``at_most``."""

    effect: str
    grade: str
    record_id: int
    reason_zh: str
    reason_en: str
    legal_basis: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "grade": self.grade,
            "record_id": self.record_id,
            "reason": f"{self.reason_zh} / {self.reason_en}",
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True)
class WhatIf:
    """The score and grade if one record were repaired or had expired."""

    record_id: int
    record_type: str
    score: Number
    grade: str | None
    changes_grade: bool
    ends_on: date | None
    repairable: bool
    repair_from: date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "record_type": self.record_type,
            "score": self.score,
            "grade": self.grade,
            "changes_grade": self.changes_grade,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "repairable": self.repairable,
            "repair_from": self.repair_from.isoformat() if self.repair_from else None,
        }


@dataclass(frozen=True)
class Score:
    """A subject's score under one model, as of ``at`` (and as known on ``known_at``)."""

    subject: str
    model: str
    at: date
    score: Number
    grade: str | None
    contributions: list[Contribution]
    known_at: datetime | None = None
    grade_label_zh: str | None = None
    grade_label_en: str | None = None
    decisions: list[GradeDecision] = field(default_factory=list)
    what_if: list[WhatIf] = field(default_factory=list)
    changes_on: date | None = None
    example: bool = False
    catalog_version: str | None = None
    applicable: bool = True
    """False where the model is not made for the subject's kind (the tax grade of a person),
    or the subject is a person under 18 and the model is for adults: the arithmetic is shown,
    but no grade is given."""
    minor: bool = False
    """A person under 18 on ``at`` under a model with ``adults_only``."""
    adults_only: str | None = None
    """For a minor: the article that makes the model adults only, cited."""

    def reasons(self, top: int = 4) -> list[dict[str, Any]]:
        """The contributions that lower the score most (and any grade rule), worst first."""
        found: list[dict[str, Any]] = [
            {"zh": d.reason_zh, "en": d.reason_en, "points": None, "record_id": d.record_id}
            for d in self.decisions
        ]
        lowering = sorted(
            (c for c in self.contributions if c.points < 0 and c.source != "base"),
            key=lambda c: c.points,
        )
        found += [
            {"zh": c.reason_zh, "en": c.reason_en, "points": c.points, "record_id": c.record_id}
            for c in lowering
        ]
        return found[:top]

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "model": self.model,
            "at": self.at.isoformat(),
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "score": self.score,
            "grade": self.grade,
            "grade_label": (
                f"{self.grade_label_zh} / {self.grade_label_en}" if self.grade_label_zh else None
            ),
            "contributions": [c.as_json() for c in self.contributions],
            "reasons": self.reasons(),
            "grade_rules": [d.as_json() for d in self.decisions],
            "what_if": [w.as_json() for w in self.what_if],
            "changes_on": self.changes_on.isoformat() if self.changes_on else None,
            "example": self.example,
            "applicable": self.applicable,
            "minor": self.minor,
            "adults_only": self.adults_only,
            "catalog_version": self.catalog_version,
        }
