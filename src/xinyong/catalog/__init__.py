"""The catalog (信用信息目录): record types, lists, measures, actions and their legal bases.

Load it with :func:`load_catalog` (shipped YAML plus an operator's directories) or
:func:`default_catalog` (shipped only, cached). The model lives in :mod:`.model`, the two-pass
loader in :mod:`.loader`, the shipped files in ``data/``.
"""

from __future__ import annotations

from xinyong.catalog.loader import CATALOG_SERIES, SHIPPED_DIR, default_catalog, load_catalog
from xinyong.catalog.model import (
    COMMON_FIELD_NAMES,
    ROLES,
    SUBJECT_KINDS,
    Action,
    Article,
    Authority,
    Catalog,
    Category,
    Criterion,
    Duration,
    EnumValue,
    FieldSpec,
    FieldType,
    Instrument,
    LegalRef,
    ListDef,
    Measure,
    Notice,
    PeriodRule,
    PeriodVariant,
    RecordType,
    RepairRule,
    ScoringModel,
    normalise_header,
)

__all__ = [
    "CATALOG_SERIES",
    "COMMON_FIELD_NAMES",
    "ROLES",
    "SHIPPED_DIR",
    "SUBJECT_KINDS",
    "Action",
    "Article",
    "Authority",
    "Catalog",
    "Category",
    "Criterion",
    "Duration",
    "EnumValue",
    "FieldSpec",
    "FieldType",
    "Instrument",
    "LegalRef",
    "ListDef",
    "Measure",
    "Notice",
    "PeriodRule",
    "PeriodVariant",
    "RecordType",
    "RepairRule",
    "ScoringModel",
    "default_catalog",
    "load_catalog",
    "normalise_header",
]
