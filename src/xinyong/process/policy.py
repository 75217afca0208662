"""The objection rule set, in one table: how long the source authority has, and whether the
measures a record carries are suspended while an objection against it is open.

The catalog declares repair rules per record type (``RecordType.repair``) but has no field for
objections, so they are declared here, once, per record type, with a default. Which types
suspend their measures is the lists step's fact (``xinyong.lists.rules.SUSPENDED_UNDER_OBJECTION``,
applied where entries are derived); this module reads it. Each rule cites
its instrument from the catalog (``instrument`` + ``article``) — never a citation typed in code.

Deadlines (``Duration``): ``wd`` counts Chinese working days with :mod:`xinyong.workdays`
(the filing day not counted); ``d`` counts calendar days and, as 《民法典》第二百零三条 says, a
period whose last day is a day off ends on the next working day.

| record type | deadline | suspends measures | why |
| --- | --- | --- | --- |
| (default) | 10wd | no | 2025 plan: Credit China forwards and answers within 10 working days |
| judgment_defaulter | 15d | no | 法释〔2017〕7号 art. 12: review in 15 days; listing stands |
| consumption_restriction_order | 15d | no | 民事诉讼法 art. 236: objection to an enforcement act |
| exit_restriction_decision | 15d | no | the same article: an exit ban is an enforcement act |
| consumption_restriction_single_lifting | 15d | no | the same article (e.g. the creditor objects) |
| railway_safety_violation | 7wd | yes | 384号: 7-working-day objection period before it applies |
| aviation_safety_violation | 7wd | yes | 385号: same publicity-period rule |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.catalog.model import Catalog, Duration, LegalRef
from xinyong.lists.rules import SUSPENDED_UNDER_OBJECTION
from xinyong.workdays import add_working_days, is_working_day


@dataclass(frozen=True)
class ObjectionRule:
    """How an objection against records of one type is handled."""

    deadline: Duration
    legal_basis: LegalRef
    note_zh: str
    note_en: str

    def describe(self, catalog: Catalog) -> str:
        """``10wd · 《关于进一步完善信用修复制度的实施方案》`` — stored with each objection."""
        return f"{self.deadline} · {catalog.cite(self.legal_basis)}"


DEFAULT_RULE = ObjectionRule(
    deadline=Duration(amount=10, unit="wd"),
    legal_basis=LegalRef(instrument="credit_repair_plan_2025"),
    note_zh="信用中国自受理之日起10个工作日内转交并反馈（异议期限未核实，按修复时限）",
    note_en="Credit China forwards and answers within 10 working days (the objection deadline "
    "itself is unconfirmed; the repair deadline is used)",
)

#: An objection to an enforcement act (a consumption restriction order, an exit ban, a single
#: lifting) is the Civil Procedure Law's, not the defaulter list's correction procedure.
_ENFORCEMENT_ACT = ObjectionRule(
    deadline=Duration(amount=15, unit="d"),
    legal_basis=LegalRef(instrument="civil_procedure_law_2023", article="236"),
    note_zh="向执行法院提出书面异议，法院十五日内审查；不服裁定的，自送达之日起十日内向上一级法院"
    "申请复议；异议期间不停止执行（条文号未核实）",
    note_en="a written objection to the enforcing court, reviewed within 15 days; against the "
    "ruling, reconsideration by the next higher court within 10 days of service; enforcement "
    "continues meanwhile (article number unconfirmed)",
)

#: Record type → its objection rule. Types not named here take ``DEFAULT_RULE``.
OBJECTION_RULES: dict[str, ObjectionRule] = {
    "judgment_defaulter": ObjectionRule(
        deadline=Duration(amount=15, unit="d"),
        legal_basis=LegalRef(instrument="spc_defaulter_list_2017", article="12"),
        note_zh="法院十五日内审查；理由成立的三个工作日内纠正；审查期间名单不停止执行",
        note_en="the court reviews within 15 days and corrects within 3 working days; the "
        "listing stands meanwhile",
    ),
    "consumption_restriction_order": _ENFORCEMENT_ACT,
    "exit_restriction_decision": _ENFORCEMENT_ACT,
    "consumption_restriction_single_lifting": _ENFORCEMENT_ACT,
    "railway_safety_violation": ObjectionRule(
        deadline=Duration(amount=7, unit="wd"),
        legal_basis=LegalRef(instrument="ndrc_railway_2018", article="publication"),
        note_zh="公示期7个工作日内可提出异议，异议期间暂不实施限制",
        note_en="objections within the 7-working-day publicity period; no restriction meanwhile",
    ),
    "aviation_safety_violation": ObjectionRule(
        deadline=Duration(amount=7, unit="wd"),
        legal_basis=LegalRef(instrument="ndrc_aviation_2018", article="publication"),
        note_zh="同铁路名单的公示与异议规则",
        note_en="the same publicity and objection rule as the railway list",
    ),
}


def objection_rule(record_type: str) -> ObjectionRule:
    return OBJECTION_RULES.get(record_type, DEFAULT_RULE)


def suspends_during_objection(record_type: str) -> bool:
    """Whether a record of this type carries no measures while an objection against it is open.

    The lists step applies it (``xinyong.lists.rules.lists_subject``, in Python and in SQL), so
    the restriction index, every check, screen and replica follow: a record with status
    ``under_objection`` keeps its list entries and restrictions unless this says True.
    """
    return record_type in SUSPENDED_UNDER_OBJECTION


def deadline_after(start: date, period: Duration) -> date:
    """The deadline ``period`` after ``start``, in working days or calendar days (rolled forward
    to a working day). Raises ``CalendarUnknown`` past the years the calendar knows."""
    if period.unit == "wd":
        return add_working_days(start, period.amount)
    end = period.add_to(start)
    while not is_working_day(end):
        end += timedelta(days=1)
    return end
