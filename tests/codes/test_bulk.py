"""``codes.bulk.uscc_reasons`` gives ``uscc.reason_ascii``'s verdict for every code."""

from __future__ import annotations

import random
import string

import pytest

from xinyong.codes import bulk, uscc


def _codes(n: int, seed: int) -> list[bytes]:
    """Valid codes and codes with every kind of error: a changed, swapped or foreign character
    at each position, letters in the region, lower case, bytes above 127."""
    rng = random.Random(seed)
    out = []
    junk = uscc.ALPHABET + "IOSVZ" + string.ascii_lowercase + "-* "
    for i in range(n):
        code = uscc.generate(rng, authority=rng.choice("123456789ANY") if i % 3 == 0 else None)
        raw = bytearray(code.encode())
        kind = i % 5
        if kind == 1:
            raw[rng.randrange(18)] = ord(rng.choice(junk))
        elif kind == 2:
            j = rng.randrange(17)
            raw[j], raw[j + 1] = raw[j + 1], raw[j]
        elif kind == 3:
            raw[rng.randrange(18)] = rng.randrange(128, 256)
        out.append(bytes(raw))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_verdicts_equal_the_one_by_one_verdicts(seed: int) -> None:
    codes = _codes(4000, seed)
    got = [bulk.REASONS[r] for r in bulk.uscc_reasons(codes)]
    expected = [uscc.reason_ascii(c) for c in codes]
    assert got == expected
    assert set(expected) == set(bulk.REASONS)  # every verdict was tried


def test_central_region_and_an_empty_list() -> None:
    code = uscc.generate(random.Random(5), region=uscc.CENTRAL_REGION).encode()
    assert bulk.REASONS[bulk.uscc_reasons([code])[0]] is None
    assert len(bulk.uscc_reasons([])) == 0
    with pytest.raises(ValueError):
        bulk.uscc_reasons([b"123"])


def test_letters_anywhere_in_the_region_fail_as_region() -> None:
    """Two letters in the six region places (the weighted sum must not wrap around)."""
    code = uscc.generate(random.Random(9)).encode()
    bad = []
    for i in range(2, 8):
        for j in range(i + 1, 8):
            raw = bytearray(code)
            raw[i], raw[j] = ord("Y"), ord("A")
            bad.append(bytes(raw))
    assert [bulk.REASONS[r] for r in bulk.uscc_reasons(bad)] == ["region"] * len(bad)
