"""The catalog's typed model: what a record type, list, measure, action and legal basis are.

Every class here is a frozen pydantic model that refuses unknown keys, so a typo in a catalog file
is an error, not a silently ignored setting. The model checks what one entity can check about
itself (a category outside the adjudicated ones, an enum field without values, an unknown role);
references between entities are resolved by :mod:`xinyong.catalog.loader` in its second pass.

Closed sets live here in code and cannot be extended from YAML: :class:`Category` (only
adjudicated facts, never social-media content, private communications, location, contacts,
consumption habits or opinions), :class:`FieldType`, the subject kinds, the disclosure classes and
the roles a measure may reach through (:data:`Role`).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_serializer,
    model_validator,
)

from xinyong.errors import NotFound


class Category(StrEnum):
    """The kinds of adjudicated fact a record type may hold (全国公共信用信息基础目录).

    A closed set: the catalog files cannot add to it. There is deliberately no category for
    social-media content, private communications, location, contacts, consumption habits or
    opinions.
    """

    REGISTRATION = "registration"
    COURT_DECISION = "court_decision"
    ADMIN_LICENSE = "admin_license"
    ADMIN_PENALTY = "admin_penalty"
    ADMIN_OTHER = "admin_other"
    PROFESSIONAL_QUALIFICATION = "professional_qualification"
    ABNORMAL_OPERATION = "abnormal_operation"
    SERIOUS_DISHONESTY_LIST = "serious_dishonesty_list"
    TAX_DETERMINATION = "tax_determination"
    CUSTOMS_DETERMINATION = "customs_determination"
    PUBLIC_CONTRACT_PERFORMANCE = "public_contract_performance"
    COMMITMENT = "commitment"
    CREDIT_EVALUATION = "credit_evaluation"
    HONOUR = "honour"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    LAW_COMPLIANCE = "law_compliance"
    VOLUNTARY = "voluntary"

    @property
    def label_zh(self) -> str:
        return CATEGORY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return CATEGORY_LABELS[self][1]


CATEGORY_LABELS: dict[Category, tuple[str, str]] = {
    Category.REGISTRATION: ("登记注册基本信息", "registration"),
    Category.COURT_DECISION: ("司法裁判及执行信息", "court decisions and enforcement"),
    Category.ADMIN_LICENSE: ("行政许可信息", "administrative licences"),
    Category.ADMIN_PENALTY: ("行政处罚信息", "administrative penalties"),
    Category.ADMIN_OTHER: (
        "行政强制、确认、征收、给付、裁决、补偿、奖励和监督检查信息",
        "other administrative acts (coercion, confirmation, levy, benefit, ruling, "
        "compensation, award, inspection)",
    ),
    Category.PROFESSIONAL_QUALIFICATION: ("职称和职业资格信息", "professional qualifications"),
    Category.ABNORMAL_OPERATION: ("经营（活动）异常名录（状态）信息", "abnormal operations"),
    Category.SERIOUS_DISHONESTY_LIST: ("严重失信主体名单信息", "serious dishonesty lists"),
    Category.TAX_DETERMINATION: ("纳税（税收）信息", "tax determinations"),
    Category.CUSTOMS_DETERMINATION: ("海关认定信息", "customs determinations"),
    Category.PUBLIC_CONTRACT_PERFORMANCE: (
        "公共机构合同履行信息",
        "contract performance of public bodies",
    ),
    Category.COMMITMENT: ("信用承诺及其履行情况信息", "credit commitments and their performance"),
    Category.CREDIT_EVALUATION: ("信用评价结果信息", "credit evaluation results"),
    Category.HONOUR: ("诚实守信相关荣誉信息", "honours for honesty"),
    Category.INTELLECTUAL_PROPERTY: ("知识产权信息", "intellectual property"),
    Category.LAW_COMPLIANCE: (
        "遵守法律法规情况信息（含社会保险缴纳）",
        "compliance with laws and regulations (social-insurance contributions among them)",
    ),
    Category.VOLUNTARY: ("信用主体自愿提供的信用信息", "information the subject supplies itself"),
}

# Kinds of information the platform must never hold. Named here only to refuse them clearly.
FORBIDDEN_TOPICS_ZH = "社交媒体内容、私人通信、位置、联系人、消费习惯或观点"
FORBIDDEN_TOPICS_EN = (
    "social-media content, private communications, location, contacts, consumption habits "
    "or opinions"
)


class FieldType(StrEnum):
    """The value types a record field may have (a closed set)."""

    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    ENUM = "enum"
    USCC = "uscc"
    RIC = "ric"
    ORGCODE = "orgcode"
    SUBJECT_CODE = "subject_code"
    REGION = "region"


SubjectKind = Literal["enterprise", "organisation", "government", "individual", "sole_trader"]
SUBJECT_KINDS: tuple[str, ...] = get_args(SubjectKind)
Disclosure = Literal["public", "shared", "subject_only"]
Polarity = Literal["red", "black"]
MeasurePolarity = Literal["punishment", "reward"]
Effect = Literal["deny", "prefer", "review"]
Until = Literal["performance", "lifted", "removal"]
InstrumentKind = Literal[
    "law",
    "administrative_regulation",
    "judicial_interpretation",
    "judicial_document",
    "departmental_rule",
    "policy_document",
    "normative_document",
    "catalog",
]
AuthorityRole = Literal["issuer", "implementing_agency", "source"]
DateKey = Literal["adopted_on", "promulgated_on", "effective_on", "repealed_on"]

Role = Literal["legal_representative", "principal", "actual_controller"]
"""Whom a measure may reach besides the listed subject itself, and only where the law says so
(e.g. 法释〔2015〕17号 art. 3: a unit debtor's legal representative, principal responsible
persons and actual controller). Family, friends and employees are never a role."""
ROLES: tuple[str, ...] = get_args(Role)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def normalise_header(text: str) -> str:
    """A column header as it is compared: NFKC (full-width → half-width), no spaces, casefolded,
    no trailing ``*`` or ``:`` (marks of required columns in department templates)."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    text = "".join(text.split()).casefold()
    return text.rstrip("*:")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(_Frozen):
    """Where an entity was declared: the catalog file and the line of its id."""

    file: str
    line: int


_DURATION = re.compile(r"^\s*(\d+)\s*(d|wd|m|y)\s*$")


class Duration(_Frozen):
    """A length of time written ``180d``, ``7wd`` (working days), ``3m`` or ``2y``."""

    amount: int = Field(gt=0)
    unit: Literal["d", "wd", "m", "y"]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _DURATION.match(value)
            if match is None:
                raise ValueError(
                    f"期限格式应为 180d、7wd、3m 或 2y / a duration looks like 180d, 7wd, 3m "
                    f"or 2y, not {value!r}"
                )
            return {"amount": int(match[1]), "unit": match[2]}
        return value

    @model_serializer
    def _to_text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def add_to(self, start: date) -> date:
        """The day ``start`` plus this duration (months clamp to the month's last day).

        Working days (``wd``) need the Chinese working-day calendar, which lives with the
        processes that count deadlines; asking here raises ``ValueError``.
        """
        if self.unit == "d":
            return date.fromordinal(start.toordinal() + self.amount)
        if self.unit == "wd":
            raise ValueError("working days need the working-day calendar / 工作日需按工作日历计算")
        months = self.amount * (12 if self.unit == "y" else 1)
        year, month0 = divmod(start.month - 1 + months, 12)
        year += start.year
        day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
        return date(year, month0 + 1, day)


class LegalRef(_Frozen):
    """A legal basis: an instrument, and where the instrument lists articles, one of them."""

    instrument: str
    article: str | None = None
    paragraph: int | None = None
    item: int | None = None
    note: str | None = None

    @field_validator("article", mode="before")
    @classmethod
    def _article_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Article(_Frozen):
    """One article (or part) of an instrument, with a summary of what it says."""

    label_zh: str
    summary_zh: str
    summary_en: str
    authorises_roles: list[Role] = []
    note: str | None = None


class Instrument(_Frozen):
    """A legal instrument: law, regulation, judicial interpretation, rule or policy document."""

    id: str
    title_zh: str
    title_en: str
    number: str | None = None
    kind: InstrumentKind
    issuers: list[str] = Field(min_length=1)
    adopted_on: date | None = None
    promulgated_on: date | None = None
    effective_on: date | None = None
    #: The day it stops being in force (the day its repeal or replacement takes effect).
    repealed_on: date | None = None
    #: The instrument that replaced it (from ``repealed_on``).
    replaced_by: str | None = None
    #: Which of its dates are not confirmed from a primary source (reported only).
    unconfirmed: list[DateKey] = []
    sources: list[str] = []
    note: str | None = None
    articles: dict[str, Article] = {}
    origin: Origin | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Instrument:
        if self.replaced_by is not None and self.repealed_on is None:
            raise ValueError(
                "replaced_by 须同时给出 repealed_on / replaced_by needs repealed_on (the day the "
                "replacement takes over)"
            )
        if (
            self.repealed_on is not None
            and self.effective_on is not None
            and self.repealed_on <= self.effective_on
        ):
            raise ValueError(
                f"废止日期 {self.repealed_on} 须晚于施行日期 {self.effective_on} / "
                "repealed_on must be after effective_on"
            )
        for key in self.unconfirmed:
            if getattr(self, key) is None:
                raise ValueError(
                    f"unconfirmed 列出的 {key} 没有给出 / unconfirmed names {key}, which is "
                    "not given"
                )
        return self

    def in_force_on(self, day: date) -> bool:
        """In force on ``day``: from ``effective_on`` (unknown: always before) until the day
        before ``repealed_on``."""
        return (self.effective_on is None or self.effective_on <= day) and (
            self.repealed_on is None or day < self.repealed_on
        )

    @field_validator("articles", mode="before")
    @classmethod
    def _article_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    def cite(self, ref: LegalRef | None = None) -> str:
        """A short citation: ``法释〔2017〕7号 第一条（第一项）`` or the title without a number."""
        text = self.number or f"《{self.title_zh}》"
        if ref is not None and ref.article is not None:
            article = self.articles.get(ref.article)
            text += " " + (article.label_zh if article else ref.article)
            if ref.paragraph is not None:
                text += f"第{ref.paragraph}款"
            if ref.item is not None:
                text += f"第{ref.item}项"
        return text


class Authority(_Frozen):
    """An issuing department, an implementing agency, or a source of records."""

    id: str
    name_zh: str
    name_en: str
    roles: list[AuthorityRole] = Field(min_length=1)
    note: str | None = None
    origin: Origin | None = None


class EnumValue(_Frozen):
    """One value of an enum field, with the wordings departments publish for it."""

    id: str
    label_zh: str
    label_en: str
    aliases: list[str] = []


#: Units a money field may be kept in; a column headed ``（万元）`` or ``（元）`` is converted.
Unit = Literal["yuan", "ten_thousand_yuan"]
#: Unit → how many yuan one unit is.
UNIT_YUAN: dict[str, int] = {"yuan": 1, "ten_thousand_yuan": 10_000}


class FieldSpec(_Frozen):
    """One field of a record type."""

    name: str
    type: FieldType
    required: bool = False
    aliases: list[str] = []
    enum: list[EnumValue] | None = None
    unit: Unit | None = None
    description: str = ""

    @model_validator(mode="after")
    def _enum_values(self) -> FieldSpec:
        if not ID_PATTERN.match(self.name):
            raise ValueError(
                f"字段名须为英文 snake_case / field name must be snake_case: {self.name!r}"
            )
        if self.type is FieldType.ENUM and not self.enum:
            raise ValueError(
                f"枚举字段 {self.name} 缺少取值 / enum field {self.name} lists no values"
            )
        if self.type is not FieldType.ENUM and self.enum is not None:
            raise ValueError(
                f"字段 {self.name} 不是枚举却列出取值 / "
                f"field {self.name} is not an enum but lists values"
            )
        if self.unit is not None and self.type is not FieldType.DECIMAL:
            raise ValueError(
                f"只有 decimal 字段可以有单位 / only a decimal field has a unit: {self.name}"
            )
        if self.enum:
            seen: dict[str, str] = {}
            for value in self.enum:
                for word in (value.id, value.label_zh, value.label_en, *value.aliases):
                    key = normalise_header(word)
                    if seen.setdefault(key, value.id) != value.id:
                        raise ValueError(
                            f"字段 {self.name} 的取值写法 {word!r} 同时指向 "
                            f"{seen[key]} 和 {value.id} / "
                            f"wording {word!r} of field {self.name} names both {seen[key]} and "
                            f"{value.id}"
                        )
        self._index = {
            normalise_header(word): value
            for value in self.enum or ()
            for word in (value.id, value.label_zh, value.label_en, *value.aliases)
        }
        return self

    # Filled when the model is validated, so equal models have equal caches.
    _index: dict[str, EnumValue] | None = PrivateAttr(default=None)

    def lookup(self, text: str) -> EnumValue | None:
        """The enum value whose id, label or published wording matches ``text`` (normalised)."""
        return (self._index or {}).get(normalise_header(text))


class Transitional(_Frozen):
    """A transitional provision: the rule keeps governing facts decided before a day (usually
    the day its instrument is repealed), with the article that says so."""

    governs_facts_decided_before: date
    legal_basis: list[LegalRef] = Field(min_length=1)
    note: str | None = None


class Window(_Frozen):
    """The days a rule is in force: ``start`` (None: since before anything the catalog knows)
    up to the day before ``end`` (None: still in force). Derived from the instruments the rule
    cites (:mod:`xinyong.catalog.law`)."""

    start: date | None = None
    end: date | None = None

    def holds_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


class Dated(_Frozen):
    """A rule that holds only while the instruments it cites are in force: its ``window`` is
    set once by the loader (pass 2); a rule built in code holds always. ``transitional``: it
    keeps governing facts decided before a day after it has left force."""

    transitional: Transitional | None = None
    _window: Window = PrivateAttr(default_factory=Window)

    @property
    def window(self) -> Window:
        return self._window

    def bind_window(self, window: Window) -> None:
        """Set the window (the loader's pass 2, once, before the catalog is handed out)."""
        self._window = window

    def governs(self, fact_on: date | None, at: date) -> bool:
        """Whether this rule governs a fact decided ``fact_on`` asked about on ``at``: it is in
        force on ``at``, or its transitional provision keeps it for a fact decided before the
        day while it was in force."""
        if self._window.holds_on(at):
            return True
        t = self.transitional
        return (
            t is not None
            and fact_on is not None
            and fact_on < t.governs_facts_decided_before
            and self._window.holds_on(fact_on)
        )


class Extension(_Frozen):
    """A period's possible extension: how long, and on what condition."""

    min: Duration | None = None
    max: Duration
    when_zh: str
    when_en: str
    legal_basis: list[LegalRef] = []


class _PeriodTerms(_Frozen):
    length: Duration | None = None
    min: Duration | None = None
    max: Duration | None = None
    extension: Extension | None = None
    until: Until | None = None
    legal_basis: list[LegalRef] = []
    note: str | None = None


class PeriodVariant(_PeriodTerms):
    """Terms that replace the rule's own where the record's fields match ``when``."""

    when: dict[str, str | list[str]] = Field(min_length=1)


class PeriodRule(_PeriodTerms, Dated):
    """How long something runs: from a date field, for a fixed ``length`` or between ``min`` and
    ``max``, possibly extended, or ``until`` an event (performance, an order lifted, removal).

    ``earlier``: the versions of this rule under earlier law, each with its own legal basis
    (the rule itself is the newest); :func:`xinyong.catalog.law.governing` picks the version for
    a fact."""

    from_field: str = "decided_on"
    fallback_from_field: str | None = None
    variants: list[PeriodVariant] = []
    earlier: list[PeriodRule] = []

    @model_validator(mode="after")
    def _has_an_end(self) -> PeriodRule:
        terms = [self, *self.variants]
        for term in terms:
            if term.length is not None and (term.min is not None or term.max is not None):
                raise ValueError(
                    "length 与 min/max 不能同时给出 / give length or min/max, not both"
                )
        if self.length is None and self.max is None and self.until is None and not self.variants:
            raise ValueError("期限须有 length、max 或 until / a period needs length, max or until")
        if any(v.earlier for v in self.earlier):
            raise ValueError(
                "earlier 中的版本不能再有 earlier / an earlier version lists no earlier versions"
            )
        for term in terms:
            spans = [term.length, term.min, term.max]
            if term.extension is not None:
                spans += [term.extension.min, term.extension.max]
            if any(s is not None and s.unit == "wd" for s in spans):
                raise ValueError(
                    "期限按年、月、日计算，不按工作日（《民法典》第二百零一条）；工作日只用于告知等"
                    "程序期限 / a period counts years, months or days, not working days (Civil "
                    "Code art. 201); working days are for procedural deadlines such as notice"
                )
        return self

    def start_fields(self) -> list[str]:
        """The date fields the period may start from, in order of preference."""
        return [f for f in (self.from_field, self.fallback_from_field) if f is not None]

    def versions(self) -> list[PeriodRule]:
        """Every version, the oldest first (by the day each takes effect), the rule last."""
        return _by_start([*self.earlier, self])

    def terms_for(self, values: Mapping[str, Any]) -> _PeriodTerms:
        """The terms that apply to a record with these field values: the first matching variant,
        else the rule's own terms."""
        for variant in self.variants:
            if all(_matches(values.get(k), v) for k, v in variant.when.items()):
                return variant
        return self


def _matches(actual: Any, wanted: str | list[str]) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    return actual is not None and str(actual) in options


class RepairRule(Dated):
    """Credit repair for a record type: whether, from when, on what conditions, decided by whom,
    and what a repair ends: publication always; ``ends_sharing`` — sharing among authorities
    too (NDRC order No. 36). ``earlier``: the versions under earlier law (see ``PeriodRule``)."""

    available: bool = True
    ends_sharing: bool = False
    earlier: list[RepairRule] = []
    earliest: Literal["any_time", "after_min_period", "not_applicable"] = "any_time"
    decided_by: str | None = None
    conditions_zh: list[str] = []
    conditions_en: list[str] = []
    legal_basis: list[LegalRef] = []
    note: str | None = None

    def versions(self) -> list[RepairRule]:
        """Every version, the oldest first, the rule last."""
        return _by_start([*self.earlier, self])


_R = TypeVar("_R", bound=Dated)


def _by_start(rules: list[_R]) -> list[_R]:
    """Rules ordered by the day they take effect (no start: first); stable."""
    return sorted(rules, key=lambda r: (r.window.start is not None, r.window.start or date.min))


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        name="subject_code",
        type=FieldType.SUBJECT_CODE,
        aliases=["统一社会信用代码", "主体代码", "身份证号码", "组织机构代码", "证件号码"],
        description="统一社会信用代码、身份证号码或组织机构代码；缺失时记录不关联主体 / "
        "USCC, citizen ID number or organisation code; without it the record stays unlinked",
    ),
    FieldSpec(
        name="subject_name",
        type=FieldType.STRING,
        required=True,
        aliases=["主体名称", "名称", "姓名", "当事人名称", "行政相对人名称"],
        description="主体名称或姓名 / the subject's name",
    ),
    FieldSpec(
        name="document_no",
        type=FieldType.STRING,
        aliases=["决定文书号", "文书号", "案号"],
        description="决定文书号或案号；与记录类型、主体一起构成幂等键 / document or case number; "
        "with the record type and subject, the idempotency key",
    ),
    FieldSpec(
        name="decided_on",
        type=FieldType.DATE,
        aliases=["决定日期", "作出决定日期"],
        description="决定日期：有效时间的起点 / decision date: start of valid time",
    ),
    FieldSpec(
        name="published_on",
        type=FieldType.DATE,
        aliases=["发布时间", "公示日期", "公布日期"],
        description="发布或公示日期 / date published",
    ),
    FieldSpec(
        name="valid_until",
        type=FieldType.DATE,
        aliases=["有效期至", "截止日期"],
        description="有效期截止日期 / valid until",
    ),
)
COMMON_FIELD_NAMES = tuple(f.name for f in COMMON_FIELDS)


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(f"标识须为英文 snake_case / an id must be English snake_case: {value!r}")
    return value


#: Field types that hold a subject's code.
CODE_TYPES = frozenset({FieldType.USCC, FieldType.RIC, FieldType.ORGCODE, FieldType.SUBJECT_CODE})


class CodeSource(_Frozen):
    """Another column a row's ``subject_code`` may come from when its own cell is empty:
    ``{field: id_number, when: {id_type: resident_id_card}}``. ``scheme`` names the code
    scheme of a column whose codes cannot be told by shape (``regno``: a 15-digit registration
    number looks like an old citizen number), so its codes are checked and linked by that
    scheme alone."""

    field: str
    when: dict[str, str | list[str]] = {}
    scheme: Literal["regno"] | None = None


class Layout(_Frozen):
    """A column set departments export as a published standard or site lays it out: detected in
    a file by its headers and reported; every column maps to a field of the record type."""

    id: str
    name_zh: str
    name_en: str
    source: str
    urls: list[str] = []
    note: str | None = None
    columns: list[str] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value)


class AdultsOnly(_Frozen):
    """A record type that may concern only persons aged 18 or over on its decision date
    (法释〔2017〕7号第四条 for defaulters): the article, and what is unconfirmed. Age comes from the
    citizen number's birth date (:func:`xinyong.codes.ric.is_minor_on`), or a published age where
    the number is masked."""

    legal_basis: list[LegalRef] = Field(min_length=1)
    note: str | None = None


class LiftRule(_Frozen):
    """A court decision that lifts measures for one action within a window (单次解除): the
    record's ``action_field`` names the action, its ``valid_from`` and ``valid_until`` the window
    (both required fields of the type). ``check`` answers ``permit`` for that action in that
    window only, naming the decision (docs/decisions.md, "Single lifting")."""

    #: The court's lists whose measures it lifts (a list of another authority's, e.g. major tax
    #: violators, keeps its measures).
    lists: list[str] = Field(min_length=1)
    action_field: str
    legal_basis: list[LegalRef] = Field(min_length=1)
    note: str | None = None


class _Entity(_Frozen):
    id: str
    name_zh: str
    name_en: str
    note: str | None = None
    origin: Origin | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value)


class RecordType(_Entity):
    """A kind of adjudicated fact that departments submit (信用信息目录中的一类记录)."""

    category: Category
    authority: str
    #: The authorities that may submit records of this type (ingest refuses any other source).
    sources: list[str] = Field(min_length=1)
    legal_basis: list[LegalRef] = Field(min_length=1)
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    fields: list[FieldSpec] = Field(default=[], validate_default=True)
    disclosure: Disclosure
    disclosure_period: PeriodRule | None = None
    repair: RepairRule | None = None
    #: Whether a row with a name and no code loads (unlinked, for a person to confirm).
    name_only_rows: bool = True
    #: Where ``subject_code`` comes from when its own column is empty, in order.
    code_from: list[CodeSource] = []
    layouts: list[Layout] = []
    #: Rows about a person under 18 on the decision date are refused at ingest, citing this.
    adults_only: AdultsOnly | None = None
    #: Records of this type lift measures for one action within a window (单次解除).
    lifts: LiftRule | None = None

    @field_validator("category", mode="before")
    @classmethod
    def _adjudicated(cls, value: Any) -> Any:
        allowed = [c.value for c in Category]
        if value not in allowed:
            raise ValueError(
                f"类别 {value!r} 不属于已裁决事实的类别；目录不收录{FORBIDDEN_TOPICS_ZH}"
                f"（允许：{', '.join(allowed)}）"
                f" / category {value!r} is not a category of adjudicated facts; the catalog holds "
                f"no {FORBIDDEN_TOPICS_EN} (allowed: {', '.join(allowed)})"
            )
        return value

    @field_validator("fields", mode="after")
    @classmethod
    def _with_common_fields(cls, fields: list[FieldSpec]) -> list[FieldSpec]:
        declared = {f.name: f for f in fields}
        if len(declared) != len(fields):
            names = [f.name for f in fields]
            dup = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"字段重复 / duplicate field {dup!r}")
        for common in COMMON_FIELDS:
            mine = declared.get(common.name)
            if mine is None:
                continue
            if mine.type is not common.type:
                raise ValueError(
                    f"公共字段 {common.name} 的类型须为 {common.type.value} / common field "
                    f"{common.name} must have type {common.type.value}"
                )
            if common.name == "subject_code" and mine.required:
                raise ValueError(
                    "subject_code 不能是必填：只有名称的行也须能载入（不关联主体） / subject_code "
                    "cannot be required: a row with a name only must load (unlinked)"
                )
            if common.name == "subject_name" and not mine.required:
                raise ValueError("subject_name 必须必填 / subject_name must be required")
        extra = [c for c in COMMON_FIELDS if c.name not in declared]
        return [*fields, *extra]

    @model_validator(mode="after")
    def _headers_unique(self) -> RecordType:
        self.header_map()
        names = {f.name for f in self.fields}
        periods = [self.disclosure_period] if self.disclosure_period else []
        for rule in periods:
            for start in rule.start_fields():
                if start not in names:
                    raise ValueError(
                        f"期限起算字段 {start!r} 不是本类型的字段 / period starts from "
                        f"{start!r}, which is not a field of this record type"
                    )
            for variant in rule.variants:
                check_where(self, variant.when)
        self._check_code_sources()
        self._check_layouts()
        self._check_lifts()
        return self

    def _check_lifts(self) -> None:
        if self.lifts is None:
            return
        specs = {f.name: f for f in self.fields}
        action = specs.get(self.lifts.action_field)
        if action is None or action.type is not FieldType.ENUM or not action.required:
            raise ValueError(
                f"lifts.action_field {self.lifts.action_field!r} 须是本类型的必填枚举字段 / "
                "must be a required enum field of this record type"
            )
        for name in ("valid_from", "valid_until"):
            spec = specs.get(name)
            if spec is None or spec.type is not FieldType.DATE or not spec.required:
                raise ValueError(
                    f"解除窗口须由必填日期字段 {name} 给出 / a lifting's window needs the "
                    f"required date field {name}"
                )

    def _check_code_sources(self) -> None:
        specs = {f.name: f for f in self.fields}
        for source in self.code_from:
            spec = specs.get(source.field)
            if spec is None:
                raise ValueError(
                    f"code_from 字段 {source.field!r} 不是本类型的字段 / code_from names "
                    f"{source.field!r}, which is not a field of this record type"
                )
            if spec.type not in CODE_TYPES and spec.type is not FieldType.STRING:
                raise ValueError(
                    f"code_from 字段 {source.field} 须是代码或文本字段 / code_from field "
                    f"{source.field} must be a code or string field"
                )
            check_where(self, source.when)

    def _check_layouts(self) -> None:
        mapping = self.header_map()
        seen: set[str] = set()
        for layout in self.layouts:
            if layout.id in seen:
                raise ValueError(f"版式重复 / duplicate layout {layout.id!r}")
            seen.add(layout.id)
            for column in layout.columns:
                if normalise_header(column) not in mapping:
                    raise ValueError(
                        f"版式 {layout.id} 的列 {column!r} 不对应任何字段 / column {column!r} of "
                        f"layout {layout.id} maps to no field"
                    )

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; ``NotFound`` if there is none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise NotFound(
            f"记录类型 {self.id} 没有字段 {name} / record type {self.id} has no field {name}"
        )

    # Filled when the model is validated (``_headers_unique``), so equal models compare equal.
    _headers: dict[str, str] | None = PrivateAttr(default=None)

    def header_map(self) -> dict[str, str]:
        """Every accepted column header (field name and each Chinese alias, normalised) → field.

        An alias shared by two fields is a catalog error (``ValueError`` here, reported by the
        loader with its file and line)."""
        if self._headers is None:
            self._headers = self._build_header_map()
        return dict(self._headers)

    def _build_header_map(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for spec in self.fields:
            for header in (spec.name, *spec.aliases):
                key = normalise_header(header)
                other = mapping.setdefault(key, spec.name)
                if other != spec.name:
                    raise ValueError(
                        f"表头 {header!r} 同时对应字段 {other} 和 {spec.name} / header {header!r} "
                        f"names both {other} and {spec.name}"
                    )
        return mapping


def check_where(record_type: RecordType, where: dict[str, Any]) -> None:
    """Each key names a field of ``record_type``; enum values are among the field's values."""
    names = {f.name: f for f in record_type.fields}
    for key, wanted in where.items():
        spec = names.get(key)
        if spec is None:
            raise ValueError(
                f"条件字段 {key!r} 不是记录类型 {record_type.id} 的字段 / condition field "
                f"{key!r} is not a field of record type {record_type.id}"
            )
        if spec.enum is not None:
            ids = {v.id for v in spec.enum}
            for option in wanted if isinstance(wanted, list) else [wanted]:
                if str(option) not in ids:
                    raise ValueError(
                        f"{option!r} 不是字段 {key} 的取值（{', '.join(sorted(ids))}）/ {option!r} "
                        f"is not a value of field {key} ({', '.join(sorted(ids))})"
                    )


class Criterion(_Frozen):
    """Records of one type, optionally with simple field conditions, that put a subject on a
    list: ``{record_type: tax_credit_rating, where: {grade: A}}``."""

    record_type: str
    where: dict[str, str | int | bool | list[str]] = {}


class Notice(_Frozen):
    """Whether the subject must be told (告知) before publication, and how long they have."""

    required: bool
    period: Duration | None = None
    legal_basis: list[LegalRef] = []
    note: str | None = None


class ListDef(_Entity, Dated):
    """A red or black list (红名单 / 黑名单): which records put a subject on it, for how long."""

    polarity: Polarity
    authority: str
    legal_basis: list[LegalRef] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    period: PeriodRule
    notice: Notice | None = None


def _check_roles(value: Any) -> Any:
    if isinstance(value, list):
        for role in value:
            if role not in ROLES:
                raise ValueError(
                    f"角色 {role!r} 不可关联惩戒：只有 {', '.join(ROLES)}，且须法律明确授权；"
                    f"不得及于家属、朋友或雇员 / role {role!r} cannot be reached by a measure: "
                    "only "
                    f"{', '.join(ROLES)}, where the law says so; never family, friends or employees"
                )
    return value


class Measure(_Entity, Dated):
    """A joint punishment or reward (联合惩戒 / 激励措施) that an implementing agency applies."""

    polarity: MeasurePolarity
    lists: list[str] = Field(min_length=1)
    actions: list[str] = Field(min_length=1)
    effect: Effect
    legal_basis: list[LegalRef] = Field(min_length=1)
    implementing_agency: str
    applies_to: list[SubjectKind] = Field(min_length=1)
    role_linked: list[Role] = []

    _roles = field_validator("role_linked", mode="before")(_check_roles)

    @model_validator(mode="after")
    def _effect_fits_polarity(self) -> Measure:
        if self.polarity == "reward" and self.effect != "prefer":
            raise ValueError("激励措施的效果须为 prefer / a reward's effect must be prefer")
        if self.polarity == "punishment" and self.effect == "prefer":
            raise ValueError(
                "惩戒措施的效果须为 deny 或 review / a punishment's effect must be deny or review"
            )
        return self

    @property
    def authority(self) -> str:
        """The authority that answers for the measure: its implementing agency."""
        return self.implementing_agency


class Action(_Frozen):
    """Something a subject asks to do that a measure may govern (buy a flight ticket, bid)."""

    id: str
    name_zh: str
    name_en: str
    description: str = ""
    origin: Origin | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value)


class RecordCondition(_Frozen):
    """Records of one type, optionally with field conditions and decided ``within`` a period
    before the scoring date: ``{record_type: tax_credit_rating, where: {grade: D}, within: 1y}``.
    """

    record_type: str
    where: dict[str, str | int | bool | list[str]] = {}
    within: Duration | None = None


class PointsRule(RecordCondition, Dated):
    """Points for each record that matches, with its legal basis, an optional cap on the rule's
    total, and when a record stops counting: at the end of its disclosure period (default),
    ``never``, or a fixed duration after its decision date."""

    id: str
    points: int
    cap: int | None = Field(default=None, gt=0)
    expires: Literal["disclosure_period", "never"] | Duration = "disclosure_period"
    legal_basis: list[LegalRef] = Field(min_length=1)
    reason_zh: str
    reason_en: str
    example: bool = False
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _rule_id(cls, value: str) -> str:
        return _check_id(value)


class GradeBand(_Frozen):
    """A grade from a minimum score (inclusive); the lowest band has no minimum."""

    grade: str
    min: int | None = None
    label_zh: str
    label_en: str
    example: bool = False


class GradeRule(Dated):
    """An ordered grade rule: where a record matches ``when``, the grade is ``grade`` whatever the
    points (直接判级), or at most ``at_most`` (a grade it cannot rise above)."""

    when: RecordCondition
    grade: str | None = None
    at_most: str | None = None
    legal_basis: list[LegalRef] = Field(min_length=1)
    reason_zh: str
    reason_en: str
    example: bool = False

    @model_validator(mode="after")
    def _one_outcome(self) -> GradeRule:
        if (self.grade is None) == (self.at_most is None):
            raise ValueError("规则须给出 grade 或 at_most 之一 / a rule gives grade or at_most")
        return self


class PointsSpec(_Frozen):
    """A points ledger (积分): a base, points per record type, caps, expiry tied to disclosure
    periods, ordered grade rules and grade bands."""

    kind: Literal["points"]
    base: int
    floor: int | None = None
    ceiling: int | None = None
    rules: list[PointsRule] = Field(min_length=1)
    grade_rules: list[GradeRule] = []
    bands: list[GradeBand] = Field(min_length=1)
    grades: list[str] = []
    """Every grade, best first, where rules give grades no band has (tax grade M); default: the
    bands' grades."""

    @property
    def grade_order(self) -> list[str]:
        """Every grade the model gives, best first."""
        return list(self.grades) or [b.grade for b in self.bands]

    @model_validator(mode="after")
    def _bands_in_order(self) -> PointsSpec:
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"规则标识重复 / duplicate rule ids in {ids}")
        mins = [b.min for b in self.bands]
        if mins[-1] is not None or any(m is None for m in mins[:-1]):
            raise ValueError(
                "只有最后一档可以没有 min / every band but the last needs a min, the last has none"
            )
        known = [m for m in mins if m is not None]
        if known != sorted(known, reverse=True) or len(set(known)) != len(known):
            raise ValueError("等级档须按 min 从高到低 / bands must run from the highest min down")
        grades = set(self.grade_order)
        if not {b.grade for b in self.bands} <= grades:
            raise ValueError("grades 须包含每一档的等级 / grades must hold every band's grade")
        for rule in self.grade_rules:
            for grade in (rule.grade, rule.at_most):
                if grade is not None and grade not in grades:
                    raise ValueError(
                        f"等级 {grade!r} 不在 grades 中 / grade {grade!r} is not among the grades"
                    )
        return self


class ScorecardSpec(_Frozen):
    """A statistical scorecard trained by ``xinyong score train``: the model file (relative to
    the catalog file that declares it) holds its binning tables and coefficients."""

    kind: Literal["scorecard"]
    file: str


class ScoringModel(_Entity):
    """A scoring model: a points ledger with grade rules, or a trained scorecard."""

    authority: str
    legal_basis: list[LegalRef] = Field(min_length=1)
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    example: bool = False
    spec: PointsSpec | ScorecardSpec = Field(discriminator="kind")
    #: A points model made for adults: a person under 18 on the scoring date gets no grade from
    #: it (the arithmetic is shown, as for a kind the model is not made for), citing this. The
    #: age is the citizen number's (:func:`xinyong.codes.ric.is_minor_on`; its SQL twin in the
    #: batch, ``ric.is_minor_on_sql``).
    adults_only: AdultsOnly | None = None

    @model_validator(mode="after")
    def _adults_only_on_points(self) -> ScoringModel:
        if self.adults_only is not None and not isinstance(self.spec, PointsSpec):
            raise ValueError(
                "adults_only 只用于积分模型 / adults_only is for points models (the batch and "
                "the ledger apply it)"
            )
        return self

    def conditions(self) -> list[tuple[str, RecordCondition]]:
        """Every record condition of the model with a path to it, for the loader's pass 2."""
        if not isinstance(self.spec, PointsSpec):
            return []
        found: list[tuple[str, RecordCondition]] = [
            (f"spec.rules.{i}", rule) for i, rule in enumerate(self.spec.rules)
        ]
        found += [
            (f"spec.grade_rules.{i}.when", rule.when)
            for i, rule in enumerate(self.spec.grade_rules)
        ]
        return found

    def check_references(self, record_types: dict[str, RecordType]) -> None:
        """Each condition names a record type with the fields and enum values it uses
        (``ValueError`` otherwise)."""
        for path, condition in self.conditions():
            target = record_types.get(condition.record_type)
            if target is None:
                raise ValueError(
                    f"{path}: 未知的记录类型 {condition.record_type!r} / unknown record type "
                    f"{condition.record_type!r}"
                )
            try:
                check_where(target, dict(condition.where))
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None


Entity = Authority | Instrument | RecordType | ListDef | Measure | Action | ScoringModel

SECTIONS: dict[str, type[BaseModel]] = {
    "authorities": Authority,
    "instruments": Instrument,
    "record_types": RecordType,
    "lists": ListDef,
    "measures": Measure,
    "actions": Action,
    "scoring_models": ScoringModel,
}
"""Top-level keys of a catalog file, each a mapping from id to entity. Nothing else is allowed."""


class Catalog(_Frozen):
    """Everything loaded, by id. Build it with :func:`xinyong.catalog.load_catalog`."""

    version: str
    authorities: dict[str, Authority] = {}
    instruments: dict[str, Instrument] = {}
    record_types: dict[str, RecordType] = {}
    lists: dict[str, ListDef] = {}
    measures: dict[str, Measure] = {}
    actions: dict[str, Action] = {}
    scoring_models: dict[str, ScoringModel] = {}
    files: list[str] = []

    def section(self, name: str) -> dict[str, Any]:
        """One section (``record_types``, ``lists``, …) by its name."""
        if name not in SECTIONS:
            raise NotFound(f"没有这一类目录条目 / no catalog section {name!r}")
        section: dict[str, Any] = getattr(self, name)
        return section

    def find(self, entity_id: str) -> list[tuple[str, Any]]:
        """Every (section, entity) with this id; ``section/id`` picks one section."""
        if "/" in entity_id:
            name, _, wanted = entity_id.partition("/")
            found = self.section(name).get(wanted)
            return [(name, found)] if found is not None else []
        return [
            (name, getattr(self, name)[entity_id])
            for name in SECTIONS
            if entity_id in getattr(self, name)
        ]

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SECTIONS}

    def cite(self, ref: LegalRef) -> str:
        """``法释〔2017〕7号 第一条`` for a legal reference of this catalog."""
        return self.instruments[ref.instrument].cite(ref)

    def article(self, ref: LegalRef) -> Article | None:
        """The article a legal reference points to, if the instrument lists articles."""
        if ref.article is None:
            return None
        return self.instruments[ref.instrument].articles.get(ref.article)

    def measures_for(self, list_id: str) -> list[Measure]:
        """The measures that a list triggers."""
        return [m for m in self.measures.values() if list_id in m.lists]
