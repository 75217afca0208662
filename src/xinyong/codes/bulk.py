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


@cache
def _tables() -> tuple[npt.NDArray[np.int32], ...]:
    value = np.array([uscc._VALUE[b] for b in range(256)], dtype=np.int32)  # -1: not allowed
    body = np.array(
        [orgcode.BODY_ALPHABET.find(chr(b)) if b < 128 else -1 for b in range(256)], dtype=np.int32
    )
    prefix = np.zeros((256, 256), dtype=np.int32)
    for p in uscc._PREFIXES_ASCII:
        prefix[p[0], p[1]] = 1
    authority = np.zeros(256, dtype=np.int32)
    authority[list(uscc._AUTHORITY_BYTES)] = 1
    region = np.zeros(1_000_000, dtype=np.int32)
    region[[int(c) for c in regions.valid_codes_ascii()]] = 1
    region[int(uscc._CENTRAL_ASCII)] = 1
    check_bytes = np.frombuffer(orgcode._CHECK_BYTES, dtype=np.uint8).astype(np.int32)
    weights = np.array(uscc._WEIGHTS[:17], dtype=np.int32)
    return value, body, prefix, authority, region, check_bytes, weights


def uscc_reasons(codes: list[bytes]) -> npt.NDArray[np.uint8]:
    """The verdict index (into ``REASONS``) of each compacted 18-byte code.

    Every code must be exactly 18 bytes (a caller sends other lengths to ``uscc.reason``)."""
    raw = np.frombuffer(b"".join(codes), dtype=np.uint8)
    if raw.size != 18 * len(codes):
        raise ValueError("every code must be 18 bytes")
    return uscc_reasons_grid(raw.reshape(len(codes), 18))


def uscc_reasons_grid(grid: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """:func:`uscc_reasons` on an ``(n, 18)`` array of bytes (e.g. an ``S18`` array's view)."""
    out = np.zeros(len(grid), dtype=np.uint8)
    if len(grid) == 0:
        return out
    value, body, prefix, authority, region, check_bytes, weights = _tables()
    values = value[grid]
    # Assign from the last check to the first, so each code keeps the FIRST one it fails.
    total = (values[:, :17] * weights).sum(axis=1) + values[:, 17]
    out[total % 31 != 0] = CHECKSUM
    org = body[grid[:, 8:16]]
    org_ok = (org >= 0).all(axis=1)
    expected = check_bytes[(np.where(org >= 0, org, 0) * _ORG_WEIGHTS).sum(axis=1) % 11]
    out[~org_ok | (expected != grid[:, 16])] = ORG_CHECKSUM
    digits = grid[:, 2:8].astype(np.int32) - ord("0")
    is_digit: npt.NDArray[np.bool_] = (digits >= 0) & (digits <= 9)
    all_digits = np.all(is_digit, axis=1)
    number = (np.where(is_digit, digits, 0) * 10 ** np.arange(5, -1, -1)).sum(axis=1)
    out[~all_digits | (region[number] == 0)] = REGION
    no_prefix = prefix[grid[:, 0], grid[:, 1]] == 0
    out[no_prefix] = np.where(authority[grid[no_prefix, 0]] == 1, CATEGORY, AUTHORITY)
    out[(values < 0).any(axis=1)] = CHARSET
    return out
