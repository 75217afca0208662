"""How often each kind of record happens, per eligible subject per year.

Calibrated where a published figure exists (cited at each rate); where
none does the rate is an assumption and says so. Looked up by record type id first, then by the
record type's category, so a record type added to the catalog later still gets rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinyong.catalog import Category, RecordType

#: Residents (census 2020, 31 provinces) and adults aged 18+ (census age groups, lab spread).
POPULATION = 1_409_778_724
ADULTS = 1_150_000_000


@dataclass(frozen=True)
class Rate:
    """Records per eligible subject per year, for individuals and for organisations."""

    individual: float
    organisation: float
    source: str
    once: bool = False
    """One record per organisation, dated on its registration (registration data)."""


#: 2024: 2.457 million new judgment-defaulter listings (SPC via 人民日报 2025-12-09), almost all
#: of natural persons: 2.457e6 / 1.15e9 adults ≈ 2.1e-3 per adult per year. Units: assumed
#: 5e-3 per organisation per year (no published split).
DEFAULTER = Rate(2.1e-3, 5e-3, "SPC 2024 new listings 2.457 million / 1.15 billion adults")

BY_ID: dict[str, Rate] = {
    "judgment_defaulter": DEFAULTER,
    # Consumption-restriction orders accompany every listing and also reach debtors who are
    # not listed (法释〔2015〕17号 art. 1): assumed 1.5 × the listing rate.
    "consumption_restriction_order": Rate(3.2e-3, 7.5e-3, "assumed 1.5 × judgment_defaulter"),
    # Major tax violations are rare next to yearly ratings: assumed.
    "major_tax_violation": Rate(0.0, 5e-4, "assumed"),
    # First lists (2018-06-01): 86 air passengers, 31 rail passengers. Real rates are far lower;
    # 5e-5 keeps a few rows in small runs.
    "aviation_safety_violation": Rate(5e-5, 0.0, "assumed; first CAAC list 86 people"),
    "railway_safety_violation": Rate(5e-5, 0.0, "assumed; first railway list 31 people"),
    # A single lifting is a court's decision about one trip of one restricted person, not a
    # population rate: none are drawn (the decision tests write their own).
    "consumption_restriction_single_lifting": Rate(0.0, 0.0, "not drawn"),
    # Exit bans and procurement or tender debarments are rare next to penalties: assumed.
    "exit_restriction_decision": Rate(2e-4, 0.0, "assumed"),
    "procurement_debarment": Rate(0.0, 5e-4, "assumed"),
    "tender_debarment": Rate(0.0, 5e-4, "assumed"),
}

BY_CATEGORY: dict[Category, Rate] = {
    Category.COURT_DECISION: DEFAULTER,
    # 807 × 10^8 records on 1.8 × 10^8 entities (NDRC 2025-04-02) ≈ 450 records per entity over
    # ten years of collection, most of them licences and registration facts; the split between
    # kinds is not published: licences 0.3, penalties 0.05 per organisation per year assumed.
    Category.ADMIN_LICENSE: Rate(0.0, 0.3, "assumed; platform holds ~450 records per entity"),
    Category.ADMIN_PENALTY: Rate(2e-3, 0.05, "assumed"),
    Category.ADMIN_OTHER: Rate(5e-4, 0.02, "assumed"),
    Category.PROFESSIONAL_QUALIFICATION: Rate(5e-3, 0.0, "assumed"),
    Category.ABNORMAL_OPERATION: Rate(0.0, 0.02, "assumed"),
    Category.SERIOUS_DISHONESTY_LIST: Rate(1e-4, 1e-3, "assumed"),
    Category.TAX_DETERMINATION: Rate(1e-4, 0.05, "assumed; yearly tax credit ratings"),
    Category.CUSTOMS_DETERMINATION: Rate(0.0, 1e-3, "assumed"),
    Category.PUBLIC_CONTRACT_PERFORMANCE: Rate(0.0, 1e-3, "assumed"),
    Category.COMMITMENT: Rate(1e-4, 0.05, "assumed"),
    Category.CREDIT_EVALUATION: Rate(0.0, 0.05, "assumed"),
    Category.HONOUR: Rate(1e-4, 2e-3, "assumed"),
    Category.REGISTRATION: Rate(0.0, 0.0, "one per organisation", once=True),
}

DEFAULT = Rate(1e-3, 1e-2, "assumed (no figure for this category)")


def rate_for(record_type: RecordType) -> Rate:
    """The rate for one record type: by id, else by category, else ``DEFAULT``."""
    return BY_ID.get(record_type.id) or BY_CATEGORY.get(record_type.category, DEFAULT)
