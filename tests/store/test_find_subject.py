"""``store.find_subject``: the one way from a code as typed to a subject."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.process.conftest import ENTERPRISE, PERSON, defaulter, make_loader

from xinyong.errors import SubjectNotFound, UnusableInput
from xinyong.store.queries import find_subject, subject_by_id

ORGCODE = ENTERPRISE[8:17]  # the organisation code inside the USCC: M000100Y4


@pytest.fixture()
def known(sqlite_engine: Engine, tmp_path: Path) -> Engine:
    load = make_loader(sqlite_engine, tmp_path)
    load(
        "judgment_defaulter",
        [
            defaulter(PERSON, "王伟", "（2024）闽0102执9号"),
            defaulter(ORGCODE, "福州某某贸易有限公司", "（2024）闽0102执10号"),
        ],
        source="court",
    )
    return sqlite_engine


def test_codes_are_normalised_before_the_lookup(known: Engine) -> None:
    with known.connect() as conn:
        person = find_subject(conn, PERSON)
        assert (person.kind, person.code) == ("individual", PERSON)
        assert find_subject(conn, f"  {PERSON[:6]} {PERSON[6:14]} {PERSON[14:]} ") == person
        firm = find_subject(conn, ORGCODE)
        assert firm.kind != "individual"
        # Written with its hyphen and in lower case, and inside the USCC the firm got later.
        assert find_subject(conn, f"{ORGCODE[:8].lower()}-{ORGCODE[8]}") == firm
        assert find_subject(conn, ENTERPRISE) == firm
        assert subject_by_id(conn, firm.id) == firm


def test_unknown_and_invalid_codes(known: Engine) -> None:
    with known.connect() as conn:
        with pytest.raises(SubjectNotFound) as missing:
            find_subject(conn, "411724195812068238")
        assert "no such subject" in missing.value.bilingual()
        assert "411724195812068238" in missing.value.bilingual()
        with pytest.raises(UnusableInput) as invalid:
            find_subject(conn, "91350100M000100Y4X")
        assert "reason: checksum" in str(invalid.value)
        with pytest.raises(SubjectNotFound):
            subject_by_id(conn, 10**9)
