"""A points ledger (积分) with grade rules and bands, applied to a subject's records on a date.

Each record that holds on ``at`` (and is not repaired) is counted by the *first* rule, in the
model's order, whose condition it meets and whose expiry has not passed: so a specific rule
(``admin_penalty`` with ``severity: serious``) goes before a catch-all for the same type. A rule's
total is held to its ``cap``; the score to the model's ``floor`` and ``ceiling``. Each of these is
a contribution of its own, so the contributions always add up to the score.

The grade: the first *direct* grade rule (``grade: D``) whose condition a record meets decides it
whatever the points (直接判级); otherwise the band of the score, lowered to every matching
``at_most`` rule's grade (不得评为 A 级).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.catalog.model import (
    Catalog,
    Dated,
    GradeBand,
    GradeRule,
    PointsRule,
    PointsSpec,
    RecordCondition,
    ScoringModel,
)
from xinyong.catalog.periods import ONE_DAY, disclosure, fact_day, last_day, period_of, start_of
from xinyong.score.result import Contribution, GradeDecision, WhatIf
from xinyong.store.queries import StoredRecord

#: Record statuses that no longer count for a score (withdrawn ones are never read).
NOT_COUNTED = frozenset({"repaired", "withdrawn"})


def _matches_value(actual: object, wanted: object) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    if actual is None:
        return False
    if isinstance(actual, bool):
        return any(actual == o or str(actual).lower() == str(o).lower() for o in options)
    return str(actual) in {str(o) for o in options}


def window_end(condition: RecordCondition, record: StoredRecord) -> date | None:
    """The first day the record falls outside the condition's ``within`` window (counted from
    its decision as every period is: :mod:`xinyong.catalog.periods`)."""
    if condition.within is None:
        return None
    start = start_of(None, record)
    return last_day(start, condition.within) + ONE_DAY if start is not None else None


def meets(condition: RecordCondition, record: StoredRecord, at: date) -> bool:
    """The record is of the condition's type, has its field values and lies in its window; a
    scoring rule also holds on ``at`` (its instruments in force: :mod:`xinyong.catalog.law`)."""
    if record.record_type != condition.record_type:
        return False
    if isinstance(condition, Dated) and not condition.governs(fact_day(record), at):
        return False
    if not all(_matches_value(record.fields.get(k), v) for k, v in condition.where.items()):
        return False
    if condition.within is not None:
        end = window_end(condition, record)
        return end is not None and at < end
    return True


def _grade_meets(rule: GradeRule, record: StoredRecord, at: date) -> bool:
    """A grade rule in force on ``at`` whose condition the record meets."""
    return rule.governs(fact_day(record), at) and meets(rule.when, record, at)


@dataclass(frozen=True)
class Counted:
    """A record one rule counts, and the first day it stops counting (if known)."""

    record: StoredRecord
    rule: PointsRule
    ends_on: date | None


class Ledger:
    """A points model bound to the catalog it was declared in."""

    def __init__(self, model: ScoringModel, catalog: Catalog) -> None:
        if not isinstance(model.spec, PointsSpec):
            raise TypeError("a Ledger needs a points model")
        self.model = model
        self.spec: PointsSpec = model.spec
        self.catalog = catalog

    # -- counting ------------------------------------------------------------------------------

    def rule_end(
        self, rule: PointsRule, record: StoredRecord, at: date | None = None
    ) -> date | None:
        """The first day ``rule`` stops counting ``record`` (expiry or ``within`` window);
        ``at``: the day asked about, for the disclosure rule's version (default today)."""
        ends: list[date] = []
        if rule.expires == "disclosure_period":
            rtype = self.catalog.record_types.get(record.record_type)
            period = disclosure(rtype, record, at) if rtype is not None else period_of(None, record)
            if period.first_hidden is not None:
                ends.append(period.first_hidden)
        elif rule.expires != "never":
            start = start_of(None, record)
            if start is not None:
                ends.append(last_day(start, rule.expires) + ONE_DAY)
        elif record.valid_to is not None:
            ends.append(record.valid_to + ONE_DAY)
        window = window_end(rule, record)
        if window is not None:
            ends.append(window)
        return min(ends) if ends else None

    def counted(self, records: Sequence[StoredRecord], at: date) -> list[Counted]:
        found: list[Counted] = []
        for record in records:
            if record.status in NOT_COUNTED:
                continue
            for rule in self.spec.rules:
                if not meets(rule, record, at):
                    continue
                end = self.rule_end(rule, record, at)
                if end is not None and end <= at:
                    continue
                found.append(Counted(record, rule, end))
                break
        return found

    # -- the score -----------------------------------------------------------------------------

    def contributions(self, records: Sequence[StoredRecord], at: date) -> list[Contribution]:
        spec = self.spec
        parts = [
            Contribution(
                source="base",
                points=spec.base,
                reason_zh="基础分",
                reason_en="base score",
            )
        ]
        totals: dict[str, int] = {}
        for item in self.counted(records, at):
            rule, record = item.rule, item.record
            note_zh = "（异议处理中）" if record.status == "under_objection" else ""
            note_en = " (under objection)" if record.status == "under_objection" else ""
            doc = f" {record.document_no}" if record.document_no else ""
            parts.append(
                Contribution(
                    source=f"record:{record.id}",
                    points=rule.points,
                    reason_zh=f"{rule.reason_zh}{doc}{note_zh}",
                    reason_en=f"{rule.reason_en}{doc}{note_en}",
                    record_id=record.id,
                    rule=rule.id,
                    ends_on=item.ends_on,
                )
            )
            totals[rule.id] = totals.get(rule.id, 0) + rule.points
        for rule in spec.rules:
            total = totals.get(rule.id, 0)
            if rule.cap is not None and abs(total) > rule.cap:
                excess = abs(total) - rule.cap
                parts.append(
                    Contribution(
                        source=f"cap:{rule.id}",
                        points=excess if total < 0 else -excess,
                        reason_zh=f"“{rule.reason_zh}”累计以 {rule.cap} 分为限",
                        reason_en=f"“{rule.reason_en}” counts at most {rule.cap} points in all",
                        rule=rule.id,
                    )
                )
        raw = sum(int(c.points) for c in parts)
        if spec.floor is not None and raw < spec.floor:
            parts.append(
                Contribution(
                    source="floor",
                    points=spec.floor - raw,
                    reason_zh=f"最低 {spec.floor} 分",
                    reason_en=f"the score does not go below {spec.floor}",
                )
            )
        if spec.ceiling is not None and raw > spec.ceiling:
            parts.append(
                Contribution(
                    source="ceiling",
                    points=spec.ceiling - raw,
                    reason_zh=f"最高 {spec.ceiling} 分",
                    reason_en=f"the score does not go above {spec.ceiling}",
                )
            )
        return parts

    def band(self, score: int) -> GradeBand:
        for band in self.spec.bands:
            if band.min is None or score >= band.min:
                return band
        return self.spec.bands[-1]  # pragma: no cover - the last band has no minimum

    def grade(
        self, score: int, records: Sequence[StoredRecord], at: date
    ) -> tuple[str, list[GradeDecision]]:
        """The grade for ``score`` after the grade rules, and the rules that decided it."""
        order = self.spec.grade_order
        live = [r for r in records if r.status not in NOT_COUNTED]
        for rule in self.spec.grade_rules:
            if rule.grade is None:
                continue
            hit = next((r for r in live if _grade_meets(rule, r, at)), None)
            if hit is not None:
                return rule.grade, [self._decision("direct", rule.grade, rule, hit)]
        grade = self.band(score).grade
        decisions: list[GradeDecision] = []
        for rule in self.spec.grade_rules:
            if rule.at_most is None:
                continue
            hit = next((r for r in live if _grade_meets(rule, r, at)), None)
            if hit is not None and order.index(grade) < order.index(rule.at_most):
                grade = rule.at_most
                decisions.append(self._decision("at_most", rule.at_most, rule, hit))
        return grade, decisions

    def _decision(
        self, effect: str, grade: str, rule: GradeRule, record: StoredRecord
    ) -> GradeDecision:
        return GradeDecision(
            effect=effect,
            grade=grade,
            record_id=record.id,
            reason_zh=rule.reason_zh,
            reason_en=rule.reason_en,
            legal_basis=[self.catalog.cite(ref) for ref in rule.legal_basis],
        )

    def label(self, grade: str) -> tuple[str, str]:
        for band in self.spec.bands:
            if band.grade == grade:
                return band.label_zh, band.label_en
        return f"{grade}级", f"grade {grade}"

    def evaluate(
        self, records: Sequence[StoredRecord], at: date
    ) -> tuple[int, str, list[Contribution], list[GradeDecision]]:
        parts = self.contributions(records, at)
        score = sum(int(c.points) for c in parts)
        grade, decisions = self.grade(score, records, at)
        return score, grade, parts, decisions

    # -- explanations --------------------------------------------------------------------------

    def changes_on(self, records: Sequence[StoredRecord], at: date) -> date | None:
        """The first day after ``at`` on which the score or grade changes with no new record:
        a counted record expires or leaves a rule's window, or a grade rule's window closes."""
        days: list[date] = [c.ends_on for c in self.counted(records, at) if c.ends_on]
        for rule in self.spec.grade_rules:
            for record in records:
                if record.status not in NOT_COUNTED and meets(rule.when, record, at):
                    end = window_end(rule.when, record)
                    if end is not None:
                        days.append(end)
        later = [d for d in days if d > at]
        return min(later) if later else None

    def what_if(self, records: Sequence[StoredRecord], at: date, grade: str) -> list[WhatIf]:
        """For each record that lowers the score or decides the grade: the score and grade
        without it (repaired, or once it has expired)."""
        counted = {c.record.id: c for c in self.counted(records, at)}
        _, _, _, decisions = self.evaluate(records, at)
        relevant = [
            r
            for r in records
            if (r.id in counted and counted[r.id].rule.points < 0)
            or any(d.record_id == r.id for d in decisions)
        ]
        found: list[WhatIf] = []
        for record in relevant:
            rest = [r for r in records if r.id != record.id]
            score, new_grade, _, _ = self.evaluate(rest, at)
            rtype = self.catalog.record_types.get(record.record_type)
            period = disclosure(rtype, record, at) if rtype else None
            repairable = period is not None and period.repairable
            repair_day = period.earliest_repair if period is not None else None
            item = counted.get(record.id)
            found.append(
                WhatIf(
                    record_id=record.id,
                    record_type=record.record_type,
                    score=score,
                    grade=new_grade,
                    changes_grade=new_grade != grade,
                    ends_on=item.ends_on if item else None,
                    repairable=repairable,
                    repair_from=repair_day,
                )
            )
        return found
