"""The disclosure policy, walked over its whole matrix, and masking."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
import sqlalchemy

from xinyong.catalog import default_catalog
from xinyong.disclose.masking import mask_ric, mask_text, public_fields
from xinyong.disclose.policy import (
    AUDIENCES,
    PUBLIC_FOR_INDIVIDUALS,
    check_audience,
    entry_shown_sql,
    may_see,
    may_see_entry,
    shows_record,
)
from xinyong.errors import UnusableInput
from xinyong.store.queries import StoredRecord
from xinyong.store.tables import RECORD_STATUSES, SUBJECT_KINDS

DISCLOSURES = ("public", "shared", "subject_only")


@pytest.mark.parametrize(
    ("audience", "disclosure", "status", "kind", "period_open", "own"),
    list(
        itertools.product(
            AUDIENCES, DISCLOSURES, RECORD_STATUSES, SUBJECT_KINDS, (True, False), (True, False)
        )
    ),
)
def test_matrix(
    audience: str, disclosure: str, status: str, kind: str, period_open: bool, own: bool
) -> None:
    for record_type, ends in itertools.product(
        ("admin_penalty", "judgment_defaulter"), (False, True)
    ):
        seen = may_see(
            audience,
            disclosure=disclosure,
            record_type=record_type,
            status=status,
            subject_kind=kind,
            period_open=period_open,
            own_record=own,
            repair_ends_sharing=ends,
        )
        # Written out independently of the tables, as the policy reads in docs/reports.md.
        if status == "corrected":
            expected = False  # a superseded wrong version is never shown as current
        elif audience == "public":
            expected = (
                disclosure == "public"
                and status in ("active", "under_objection")
                and period_open
                and (kind != "individual" or record_type in PUBLIC_FOR_INDIVIDUALS)
            )
        elif audience == "agency":  # order No. 36: a repair ends sharing too
            expected = (
                disclosure in ("public", "shared")
                and status != "withdrawn"
                and not (status == "repaired" and ends)
            )
        elif audience == "source":
            expected = (disclosure in ("public", "shared") or own) and (
                status != "withdrawn" or own
            )
        else:  # the subject itself and the operator see everything current
            expected = True
        assert seen is expected, (
            audience,
            disclosure,
            status,
            kind,
            period_open,
            own,
            record_type,
            ends,
        )


def test_unknown_audience_is_bad_input() -> None:
    with pytest.raises(UnusableInput):
        check_audience("journalist")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("35010219820624462X", "3501**********462X"),
        ("350102198206244620", "3501**********4620"),
        ("350102820624462", "3501********462"),
    ],
)
def test_mask_ric(value: str, masked: str) -> None:
    assert mask_ric(value) == masked


def test_public_fields_mask_numbers_anywhere_and_drop_private_fields_of_individuals() -> None:
    fields = {
        "legal_representative_code": "350102198206244620",
        "facts": "当事人（身份证号350102198206244620）销售假冒商品",
        "home_address": "福州市鼓楼区某路1号",
        "contact_phone": "13800000000",
        "fine_amount": "2.0",
    }
    person = public_fields(fields, individual=True)
    assert person == {
        "legal_representative_code": "3501**********4620",
        "facts": "当事人（身份证号3501**********4620）销售假冒商品",
        "fine_amount": "2.0",
    }
    # A department's own columns, kept by ingest under their headers, are caught too.
    own = {"联系电话": "13800000000", "家庭住址": "福州市鼓楼区某路1号", "内部编号": "FZ-1"}
    assert public_fields(own, individual=True) == {"内部编号": "FZ-1"}
    company = public_fields({"registered_address": "福州市鼓楼区某路1号"}, individual=False)
    assert company == {"registered_address": "福州市鼓楼区某路1号"}
    assert mask_text("USCC 91350100M000100Y43 stays") == "USCC 91350100M000100Y43 stays"


def test_entry_rule_in_sql_is_the_python_rule() -> None:
    """``entry_shown_sql`` (the list pages' filter) says what ``may_see_entry`` says, for every
    audience, status, kind of subject and a type that publishes people by name or not."""
    rows = sqlalchemy.Table(
        "entries",
        sqlalchemy.MetaData(),
        sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True),
        sqlalchemy.Column("record_type", sqlalchemy.String),
        sqlalchemy.Column("status", sqlalchemy.String),
        sqlalchemy.Column("kind", sqlalchemy.String),
    )
    cases = list(
        itertools.product(("admin_penalty", "judgment_defaulter"), RECORD_STATUSES, SUBJECT_KINDS)
    )
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as conn:
        rows.metadata.create_all(conn)
        conn.execute(
            rows.insert(),
            [{"record_type": t, "status": s, "kind": k} for t, s, k in cases],
        )
        for audience in AUDIENCES:
            condition = entry_shown_sql(
                audience,
                record_type=rows.c.record_type,
                status=rows.c.status,
                individual=rows.c.kind == "individual",
            )
            in_sql = {
                (r.record_type, r.status, r.kind)
                for r in conn.execute(rows.select().where(condition))
            }
            in_python = {
                (t, s, k)
                for t, s, k in cases
                if may_see_entry(audience, record_type=t, status=s, subject_kind=k)
            }
            assert in_sql == in_python, audience
            assert in_python, audience


def _repaired_penalty(decided: str) -> StoredRecord:
    return StoredRecord(
        id=1, record_type="admin_penalty", source="samr", subject_id=1, subject_code=None,
        subject_name="某公司", document_no="罚字1号", decided_on=date.fromisoformat(decided),
        valid_from=date.fromisoformat(decided), valid_to=None,
        fields={"decided_on": decided, "severity": "general"}, status="repaired", version=2,
        supersedes=1, recorded_at=datetime(2025, 1, 1, tzinfo=UTC), superseded_at=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("at", "agency_sees"),
    [
        (date(2026, 3, 31), True),  # order No. 58: a repair stops public display only
        (date(2026, 4, 1), False),  # order No. 36: sharing and use end too
    ],
)
def test_a_repaired_record_leaves_the_agencies_when_order_36_takes_effect(
    at: date, agency_sees: bool
) -> None:
    """A penalty decided 2025-06-01 and repaired: implementing agencies see it under order
    No. 58, not from 2026-04-01; the public never, its source, the subject and the operator
    always (before this change agencies kept seeing every repaired record)."""
    catalog = default_catalog()
    record = _repaired_penalty("2025-06-01")
    seen = {
        audience: shows_record(audience, catalog, record, subject_kind="enterprise", at=at,
                               source="samr")
        for audience in AUDIENCES
    }  # fmt: skip
    assert seen == {
        "public": False,
        "agency": agency_sees,
        "source": True,
        "subject": True,
        "operator": True,
    }
