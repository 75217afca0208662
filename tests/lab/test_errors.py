"""Error injection: each kind makes exactly its error, the truth records it, seeds repeat."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from xinyong.catalog import default_catalog
from xinyong.codes.identifiers import reason_of
from xinyong.errors import UnusableInput
from xinyong.lab import SubjectPool, organisations, people, records
from xinyong.lab.errors import (
    DEFAULT_SPEC,
    ERROR_KINDS,
    ErrorSpec,
    NamesakeIndex,
    ending_fields,
    inject,
)
from xinyong.lab.records import RecordBatch

START, END = date(2019, 1, 1), date(2025, 12, 31)
World = tuple[pa.Table, pa.Table, dict[str, RecordBatch]]


@pytest.fixture(scope="module")
def world() -> World:
    rng = np.random.default_rng(7)
    folk = people(rng, 30_000, at=END)
    orgs = organisations(rng, 4_000, folk, at=END, first_id=30_001)
    catalog = default_catalog()
    subset = catalog.model_copy(
        update={
            "record_types": {
                k: catalog.record_types[k]
                for k in ("judgment_defaulter", "consumption_restriction_order")
            }
        }
    )
    batches = {
        b.record_type.id: b
        for b in records(rng, SubjectPool.from_tables(folk, orgs), subset, start=START, end=END)
    }
    return folk, orgs, batches


def only(kind: str, rate: float = 1.0) -> ErrorSpec:
    return ErrorSpec({kind: rate})


def is_valid(code: str) -> bool:
    _, _, problem = reason_of(code)
    return problem is None


def test_wrong_digit_changes_one_character_and_breaks_the_check(world: World) -> None:
    _, _, batches = world
    batch = batches["judgment_defaulter"]
    out = inject(np.random.default_rng(1), batch, only("wrong_digit"))
    before = batch.rows.column("subject_code").to_pylist()
    after = out.rows.column("subject_code").to_pylist()
    assert out.truth.column("error").to_pylist() == ["wrong_digit"] * len(before)
    for old, new in zip(before, after, strict=True):
        assert len(old) == len(new)
        assert sum(a != b for a, b in zip(old, new, strict=True)) == 1
        assert is_valid(old) and not is_valid(new)
    # The truth still names the real subject.
    assert out.truth.column("subject_code").to_pylist() == before


def test_transposition_swaps_two_adjacent_characters(world: World) -> None:
    _, _, batches = world
    batch = batches["consumption_restriction_order"]
    out = inject(np.random.default_rng(2), batch, only("transposition"))
    for old, new in zip(
        batch.rows.column("subject_code").to_pylist(),
        out.rows.column("subject_code").to_pylist(),
        strict=True,
    ):
        diff = [i for i in range(len(old)) if old[i] != new[i]]
        assert len(diff) == 2 and diff[1] == diff[0] + 1
        assert old[diff[0]] == new[diff[1]] and old[diff[1]] == new[diff[0]]
        assert not is_valid(new)
    assert set(out.truth.column("error").to_pylist()) == {"transposition"}


def test_name_only_drops_the_code_keeps_the_name(world: World) -> None:
    _, _, batches = world
    batch = batches["judgment_defaulter"]
    out = inject(np.random.default_rng(3), batch, only("name_only"))
    assert set(out.rows.column("subject_code").to_pylist()) == {None}
    assert out.rows.column("subject_name").equals(batch.rows.column("subject_name"))
    assert set(out.truth.column("error").to_pylist()) == {"name_only"}


def test_namesake_carries_another_subjects_valid_code_and_same_name(world: World) -> None:
    folk, orgs, batches = world
    batch = batches["judgment_defaulter"]
    index = NamesakeIndex.from_tables(folk, orgs)
    out = inject(np.random.default_rng(4), batch, only("namesake"), index)
    code_of = dict(
        zip(folk.column("code").to_pylist(), folk.column("name").to_pylist(), strict=True)
    )
    errors = out.truth.column("error").to_pylist()
    assert "namesake" in errors
    for row, truth, error in zip(out.rows.to_pylist(), out.truth.to_pylist(), errors, strict=True):
        if error == "namesake":
            assert row["subject_code"] != truth["subject_code"]
            assert is_valid(row["subject_code"])
            assert code_of[row["subject_code"]] == truth["subject_name"] == row["subject_name"]
        else:  # no namesake in the population: the row stays as it was
            assert row["subject_code"] == truth["subject_code"]
            assert (
                len(
                    index.others(
                        truth["subject_kind"] == "individual",
                        row["subject_name"],
                        row["subject_code"],
                    )
                )
                == 0
            )


def test_stale_empties_the_ending_only_where_there_was_one(world: World) -> None:
    _, _, batches = world
    batch = batches["consumption_restriction_order"]
    assert ending_fields(batch) == ["lifted_on"]
    out = inject(np.random.default_rng(5), batch, only("stale"))
    lifted = batch.rows.column("lifted_on").to_pylist()
    assert any(lifted) and not all(lifted)
    assert set(out.rows.column("lifted_on").to_pylist()) == {None}
    errors = out.truth.column("error").to_pylist()
    assert errors == ["stale" if v is not None else None for v in lifted]
    # No ending field at all: nothing can go stale.
    defaulters = batches["judgment_defaulter"]
    untouched = inject(np.random.default_rng(5), defaulters, only("stale"))
    assert untouched.rows.equals(defaulters.rows)
    assert set(untouched.truth.column("error").to_pylist()) == {None}


def test_duplicate_adds_a_copy_with_another_document_number(world: World) -> None:
    _, _, batches = world
    batch = batches["judgment_defaulter"]
    out = inject(np.random.default_rng(6), batch, only("duplicate", 0.2))
    errors = out.truth.column("error").to_pylist()
    copies = errors.count("duplicate")
    assert copies > 0 and out.rows.num_rows == batch.rows.num_rows + copies
    rows, truth = out.rows.to_pylist(), out.truth.to_pylist()
    for i, error in enumerate(errors):
        if error == "duplicate":
            original = rows[i - 1]
            assert truth[i]["row_no"] == truth[i - 1]["row_no"]
            assert rows[i]["document_no"] != original["document_no"]
            assert (
                rows[i]["document_no"].replace("(", "〔").replace(")", "〕")
                == original["document_no"]
            )
            assert {k: v for k, v in rows[i].items() if k != "document_no"} == {
                k: v for k, v in original.items() if k != "document_no"
            }


def test_rates_are_per_row_and_seeded(world: World) -> None:
    folk, orgs, batches = world
    index = NamesakeIndex.from_tables(folk, orgs)
    batch = batches["consumption_restriction_order"]
    spec = ErrorSpec.parse(DEFAULT_SPEC)
    one = inject(np.random.default_rng(9), batch, spec, index)
    two = inject(np.random.default_rng(9), batch, spec, index)
    assert one.rows.equals(two.rows) and one.truth.equals(two.truth)
    other = inject(np.random.default_rng(10), batch, spec, index)
    assert not other.rows.equals(one.rows)
    errors = one.truth.column("error").to_pylist()
    n = batch.rows.num_rows
    # name_only at 2%: within five binomial standard deviations.
    expected = 0.02 * n
    assert abs(errors.count("name_only") - expected) < 5 * (expected * 0.98) ** 0.5 + 1
    assert inject(np.random.default_rng(9), batch, ErrorSpec.parse("none")) is batch


@pytest.mark.parametrize(
    "text",
    [
        "typo=0.1",
        "wrong_digit",
        "wrong_digit=abc",
        "wrong_digit=1.5",
        "wrong_digit=-0.1",
        "wrong_digit=0.1,wrong_digit=0.2",
        "wrong_digit=0.6,name_only=0.6",
        "=0.1",
    ],
)
def test_bad_specs_are_refused(text: str) -> None:
    with pytest.raises(UnusableInput):
        ErrorSpec.parse(text)


def test_spec_round_trips() -> None:
    spec = ErrorSpec.parse(DEFAULT_SPEC)
    assert set(spec.rates) == set(ERROR_KINDS)
    assert ErrorSpec.parse(str(spec)) == spec
    assert str(ErrorSpec.parse("none")) == "none"
