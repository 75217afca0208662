"""The catalog (信用信息目录): record types, lists, measures, actions and their legal bases.

A running system uses :func:`catalog_in_force`: the shipped YAML plus the folders in
``$XINYONG_CATALOG`` plus a command's ``--catalog`` folders, loaded once per process
(:mod:`.in_force`). :func:`load_catalog` loads the shipped files plus given folders, uncached;
:func:`default_catalog` is the shipped catalog alone (tests, benchmarks). The model lives in
:mod:`.model`, the two-pass loader in :mod:`.loader`, the shipped files in ``data/``.
"""

from __future__ import annotations

from xinyong.catalog import law
from xinyong.catalog.in_force import CATALOG_ENV, catalog_dirs, catalog_in_force, default_catalog
from xinyong.catalog.loader import CATALOG_SERIES, SHIPPED_DIR, load_catalog
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
    "CATALOG_ENV",
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
    "catalog_dirs",
    "catalog_in_force",
    "default_catalog",
    "law",
    "load_catalog",
    "normalise_header",
]
