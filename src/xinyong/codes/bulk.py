"""USCC verdicts for many codes at once: :func:`uscc.reason_ascii` vectorised with numpy.

``uscc_reasons(codes)`` takes compacted 18-byte codes (bytes) and gives, for each, the index in
``REASONS`` of the first check it fails — ``None`` (valid), ``"charset"``, ``"category"``,
``"authority"``, ``"region"``, ``"org_checksum"``, ``"checksum"`` — in :mod:`uscc`'s order.
The rules and tables are :mod:`uscc`'s, :mod:`orgcode`'s and :mod:`regions`' own (nothing is
restated here); ``tests/codes/test_bulk.py`` holds the verdicts equal to ``reason_ascii`` on
codes with every kind of error. Used by ``xinyong code check --kind uscc --file``: a million
codes in a fraction of a second instead of a Python call each.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from xinyong.codes import orgcode, regions, uscc

#: What each verdict index means (``None``: valid).
REASONS: tuple[str | None, ...] = (
    None,
    "charset",
    "category",
    "authority",
    "region",
    "org_checksum",
    "checksum",
)
VALID, CHARSET, CATEGORY, AUTHORITY, REGION, ORG_CHECKSUM, CHECKSUM = range(len(REASONS))

_ORG_WEIGHTS = np.array([pow(2, 8 - i, 11) for i in range(8)], dtype=np.int32)  # 3 7 9 10 5 8 4 2
_PLACES = np.array([10**i for i in range(5, -1, -1)], dtype=np.int64)

#: Stands for a byte outside a table's alphabet: large enough that any weighted sum holding
#: one is negative (the largest positive sum, 17 × 30 × 31 + 30 for the check, is < 2**14).
_OUTSIDE = -(1 << 20)


@cache
def _tables() -> tuple[npt.NDArray[np.int32] | npt.NDArray[np.int64], ...]:
    """Per-byte tables (``_OUTSIDE`` for bytes outside the alphabet) and membership tables."""
    value = np.array([uscc._VALUE[b] for b in range(256)], dtype=np.int32)
    value[value < 0] = _OUTSIDE
    body = np.array(
        [orgcode.BODY_ALPHABET.find(chr(b)) if b < 128 else -1 for b in range(256)], dtype=np.int32
    )
    body[body < 0] = _OUTSIDE
    digit = np.full(256, _OUTSIDE, dtype=np.int64)  # times 10**5: beyond int32
    digit[ord("0") : ord("9") + 1] = np.arange(10)
    prefix = np.zeros(1 << 16, dtype=np.int32)
    for p in uscc._PREFIXES_ASCII:
        prefix[p[0] << 8 | p[1]] = 1
    authority = np.zeros(256, dtype=np.int32)
    authority[list(uscc._AUTHORITY_BYTES)] = 1
    region = np.zeros(1_000_000, dtype=np.int32)
    region[[int(c) for c in regions.valid_codes_ascii()]] = 1
    region[int(uscc._CENTRAL_ASCII)] = 1
    check_bytes = np.frombuffer(orgcode._CHECK_BYTES, dtype=np.uint8).astype(np.int32)
    weights = np.array([*uscc._WEIGHTS[:17], 1], dtype=np.int32)
    return value, body, digit, prefix, authority, region, check_bytes, weights


def uscc_reasons(codes: list[bytes]) -> npt.NDArray[np.uint8]:
    """The verdict index (into ``REASONS``) of each compacted 18-byte code.

    Every code must be exactly 18 bytes (a caller sends other lengths to ``uscc.reason``)."""
    raw = np.frombuffer(b"".join(codes), dtype=np.uint8)
    if raw.size != 18 * len(codes):
        raise ValueError("every code must be 18 bytes")
    return uscc_reasons_grid(raw.reshape(len(codes), 18))


def uscc_reasons_grid(grid: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """:func:`uscc_reasons` on an ``(n, 18)`` array of bytes (e.g. an ``S18`` array's view).

    Each check is a weighted sum over the row (``einsum``, no temporary per byte), and a byte
    outside its alphabet makes the sum negative."""
    out = np.zeros(len(grid), dtype=np.uint8)
    if len(grid) == 0:
        return out
    value, body, digit, prefix, authority, region, check_bytes, weights = _tables()
    index = grid.astype(np.intp)  # np.take with native indices: several times faster
    total = np.einsum("ij,j->i", np.take(value, index), weights)
    org = np.einsum("ij,j->i", np.take(body, index[:, 8:16]), _ORG_WEIGHTS)
    number = np.einsum("ij,j->i", np.take(digit, index[:, 2:8]), _PLACES)
    first = grid[:, 0].astype(np.int32)
    # Assign from the last check to the first, so each code keeps the FIRST one it fails.
    out[total % 31 != 0] = CHECKSUM
    out[(org < 0) | (check_bytes[org % 11] != grid[:, 16])] = ORG_CHECKSUM
    out[(number < 0) | (region[np.maximum(number, 0)] == 0)] = REGION
    no_prefix = prefix[first << 8 | grid[:, 1]] == 0
    out[no_prefix] = np.where(authority[first[no_prefix]] == 1, CATEGORY, AUTHORITY)
    out[total < 0] = CHARSET
    return out
