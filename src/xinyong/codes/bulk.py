"""Verdicts for many codes at once: ``xinyong.codes``' checks vectorised with numpy.

``uscc_reasons(codes)`` takes compacted 18-byte codes (bytes) and gives, for each, the index in
``REASONS`` of the first check it fails — ``None`` (valid), ``"charset"``, ``"category"``,
``"authority"``, ``"region"``, ``"org_checksum"``, ``"checksum"`` — in :mod:`uscc`'s order.
The rules and tables are :mod:`uscc`'s, :mod:`orgcode`'s and :mod:`regions`' own (nothing is
restated here); ``tests/codes/test_bulk.py`` holds the verdicts equal to ``reason_ascii`` on
codes with every kind of error. Used by ``xinyong code check --kind uscc --file``: a million
codes in a fraction of a second instead of a Python call each.

``verdicts(raw)`` does for an Arrow column of codes as given what
:func:`xinyong.codes.identifiers.reason_of` does for one (unqualified) code: the compacted
code, the scheme it is read as and the first check it fails, for every kind — the USCC checks
above, the organisation code's, and the citizen number's (characters, region, birth date, ISO
7064 MOD 11-2; a valid 15-digit number widened to 18, as ``ric.to_18``). Used by
``xinyong.measures.screen``; ``tests/codes/test_bulk_verdicts.py`` holds it to ``reason_of``
and to the SQL checks (``measures.screen.codes_sql``) on codes with every kind of error.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xinyong import codes
from xinyong.arrow_text import text_buffers
from xinyong.codes import normalise, orgcode, regions, ric, uscc

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


#: Every verdict :func:`verdicts` gives: :data:`REASONS`, then the citizen number's birth date
#: and the length of a code of no scheme.
CODE_REASONS: tuple[str | None, ...] = (*REASONS, "birth_date", "length")
BIRTH_DATE, LENGTH = len(REASONS), len(REASONS) + 1
#: The scheme a code is read as (``None``: no scheme has its shape).
KINDS: tuple[str | None, ...] = (None, "uscc", "orgcode", "ric")
NO_KIND, USCC, ORGCODE, RIC = range(len(KINDS))


@dataclass(frozen=True)
class Verdicts:
    """Per code: ``value``, the compacted code (a valid 15-digit citizen number widened to 18,
    the identifier it is found by); ``kind``, the index in :data:`KINDS` of its scheme (only
    meaningful for a valid code); ``reason``, the index in :data:`CODE_REASONS` of the first
    check it fails (0, ``None``, when valid)."""

    value: pa.StringArray
    kind: npt.NDArray[np.uint8]
    reason: npt.NDArray[np.uint8]
    #: A valid code of 17 digits and a digit or ``X`` (a citizen number, or a USCC of digits)
    #: as one integer, ``int(first 17) · 11`` plus the last (``X`` is 10): one to one, below
    #: 2^63, a key to find it by without hashing text; -1 for any other code.
    number: npt.NDArray[np.int64]


def _loose(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Per byte: not ``[0-9A-Z]`` (``orgcode.BODY_ALPHABET``'s bytes, two ranges)."""
    return np.asarray(((data - np.uint8(ord("0"))) > 9) & ((data - np.uint8(ord("A"))) > 25))


def _high(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Per byte: above 127 (part of a character that is not ASCII)."""
    return np.asarray(data > 127)


def _per_row(
    flag: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.bool_]],
    data: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Whether ``flag`` holds for any of each row's bytes."""
    used = flag(data[starts[0] : starts[-1]])
    if not used.any():  # the common case: no count
        return np.zeros(len(starts) - 1, dtype=bool)
    total = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(used, out=total[1:])
    return np.asarray(total[starts[1:] - starts[0]] > total[starts[:-1] - starts[0]])


def _grid(
    data: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    rows: npt.NDArray[np.intp],
    width: int,
) -> npt.NDArray[np.uint8]:
    """The ``width`` bytes of each of ``rows`` (all that long) as an ``(len(rows), width)`` grid."""
    if len(rows) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    first = starts[rows]
    begin, end = int(first[0]), int(first[-1]) + width
    if end - begin == width * len(rows):  # one after the other, nothing between: no copy
        return data[begin:end].reshape(len(rows), width)
    return np.asarray(data[first[:, None] + np.arange(width)])


@cache
def _code_tables() -> tuple[npt.NDArray[np.int64], ...]:
    """Per-byte tables for :func:`verdicts`: a digit's value (``_OUTSIDE`` for any other
    byte); a citizen number's check character's value (``-1`` for any other); the known
    regions (GB/T 2260, no central one); the digit prefixes of a USCC."""
    digit = np.full(256, _OUTSIDE, dtype=np.int64)
    digit[ord("0") : ord("9") + 1] = np.arange(10)
    check = np.array(ric._CHECK_VALUE, dtype=np.int64)
    region = np.zeros(1_000_000, dtype=np.uint8)
    region[[int(c) for c in regions.valid_codes_ascii()]] = 1
    digit_prefix = np.zeros(1 << 16, dtype=np.uint8)
    for p in codes._USCC_DIGIT_PREFIXES:
        digit_prefix[ord(p[0]) << 8 | ord(p[1])] = 1
    return digit, check, region, digit_prefix  # type: ignore[return-value]


#: A birth date ``YYYYMMDD`` as a place in :func:`_birth_dates`' table: ``(YYYY − 1880) ·
#: 10000 + MMDD``.
_FIRST_YEAR = ric.EARLIEST_BIRTH.year


@cache
def _birth_dates(today: datetime.date) -> npt.NDArray[np.bool_]:
    """Which places (``_FIRST_YEAR``'s numbering) are birth dates ``ric`` takes up to
    ``today``: every day from ``ric.EARLIEST_BIRTH`` to ``today``, as ``ric._dates`` lists
    them (here by numpy's calendar, in one pass)."""
    first, last = np.datetime64(ric.EARLIEST_BIRTH, "D"), np.datetime64(today, "D")
    days = np.arange(first, last + 1, dtype="M8[D]")
    years = days.astype("M8[Y]")
    months = days.astype("M8[M]")
    place = (years.astype(np.int64) + 1970 - _FIRST_YEAR) * 10000
    place += ((months - years).astype(np.int64) + 1) * 100 + (days - months).astype(np.int64) + 1
    table = np.zeros((today.year - _FIRST_YEAR + 1) * 10000, dtype=bool)
    table[place] = True
    return table


def _born(yyyymmdd: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each ``YYYYMMDD`` is a birth date ``ric`` takes."""
    table = _birth_dates(datetime.date.today())
    place = yyyymmdd - _FIRST_YEAR * 10000
    inside = (place >= 0) & (place < len(table))
    return np.asarray(inside & table[np.where(inside, place, 0)])


def _products(
    grid: npt.NDArray[np.uint8], columns: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Each row's digits (the grid's first ``len(columns)`` bytes less ``0``) times
    ``columns``: one matrix product in float64, exact for the sums here (< 2^53)."""
    digits = grid[:, : len(columns)].astype(np.float64)
    digits -= ord("0")
    return (digits @ columns).astype(np.int64)


def _weights(length: int, *spans: tuple[int, int]) -> npt.NDArray[np.float64]:
    """The columns :func:`_products` takes for a citizen number of ``length`` digits: the check
    weights, then the decimal number in each ``(start, end)`` span."""
    columns = np.zeros((length, 1 + len(spans)), dtype=np.float64)
    columns[:, 0] = ric._WEIGHTS[:length]
    for k, (start, end) in enumerate(spans, 1):
        columns[start:end, k] = 10.0 ** np.arange(end - start - 1, -1, -1)
    return columns


_RIC15 = _weights(15, (0, 6), (6, 12))  # check sum (not used: no check character); region; born
_RIC_WEIGHTS = np.array(ric._WEIGHTS[:17], dtype=np.int64)


def _digits_only(grid: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Whether every byte of each row is a digit."""
    return np.asarray(((grid - np.uint8(ord("0"))) <= 9).all(axis=1))


_U64 = np.uint64
_ZEROS = _U64(0x3030303030303030)  # "0" in each byte
_HIGH_NIBBLES = _U64(0xF0F0F0F0F0F0F0F0)


def _eight_digits(
    grid: npt.NDArray[np.uint8], start: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Characters ``start`` to ``start + 7`` of each row as one 64-bit word: whether all are
    digits, their decimal number, and their number read in base 2 (``Σ d_j · 2^(7−j)``), each
    in a few operations on the word (the first character is its lowest byte)."""
    # Read in place, eight bytes every row's width apart (not aligned: numpy allows it).
    word = grid[:, start : start + 8].view("<u8")[:, 0]
    # Each byte 0x30–0x39: high nibble 3, and adding 6 does not carry into it.
    nibbles = (word + _U64(0x0606060606060606)) & _HIGH_NIBBLES
    digits = ((word & _HIGH_NIBBLES) | (nibbles >> _U64(4))) == _U64(0x3333333333333333)
    values = word - _ZEROS
    numbers = []
    for pair, quad, octet in ((10, 100, 10_000), (2, 4, 16)):
        v = (values * _U64(pair) + (values >> _U64(8))) & _U64(0x00FF00FF00FF00FF)
        v = (v * _U64(quad) + (v >> _U64(16))) & _U64(0x0000FFFF0000FFFF)
        numbers.append(((v * _U64(octet) + (v >> _U64(32))) & _U64(0xFFFFFFFF)).astype(np.int64))
    return np.asarray(digits), numbers[0], numbers[1]


def _ric18(
    grid: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``ric.reason_ascii`` of each row of an ``(n, 18)`` grid, the number its characters
    1–8 make (for :func:`codes._shape`'s province and century) and the row's ``Verdicts.number``
    (meaningful where the reason is not ``charset``).

    The weights 7, 9, 10, … 2 of characters 1–17 are ``2^(18−i)`` mod 11, so their sum is,
    mod 11, ``2 · (2^9 · b1 + 2 · b2 + d17)`` with ``b1``, ``b2`` characters 1–8 and 9–16 read
    in base 2."""
    _, check_value, region, _ = _code_tables()
    ok1, first, base2_1 = _eight_digits(grid, 0)
    ok2, second, base2_2 = _eight_digits(grid, 8)
    last = grid[:, 16].astype(np.int64) - ord("0")
    check = np.take(check_value, grid[:, 17].astype(np.intp))
    total = 2 * (512 * base2_1 + 2 * base2_2 + last)
    out = np.zeros(len(grid), dtype=np.uint8)
    out[(total + check) % 11 != 1] = CHECKSUM
    out[~_born((first % 100) * 1_000_000 + second // 100)] = BIRTH_DATE
    out[region[np.clip(first // 100, 0, 999_999)] == 0] = REGION
    out[~(ok1 & ok2) | (last < 0) | (last > 9) | (check < 0)] = CHARSET
    number = ((first * 100_000_000 + second) * 10 + last) * 11 + check
    return out, np.asarray(first, dtype=np.int64), np.asarray(number, dtype=np.int64)


def _ric15(grid: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``ric.reason_ascii`` of each row of an ``(n, 15)`` grid of digits."""
    region = _code_tables()[2]
    _, place, born = _products(grid, _RIC15).T
    out = np.zeros(len(grid), dtype=np.uint8)
    out[~_born(19_000_000 + born)] = BIRTH_DATE
    out[region[place] == 0] = REGION
    return out


def _widened(grid: npt.NDArray[np.uint8]) -> tuple[pa.StringArray, npt.NDArray[np.int64]]:
    """``ric.to_18`` of each row of an ``(n, 15)`` grid of a valid number (``19`` after the
    region, and the check character), and its ``Verdicts.number``."""
    nineteen = np.full((len(grid), 2), list(b"19"), dtype=np.uint8)
    first17 = np.concatenate([grid[:, :6], nineteen, grid[:, 6:]], axis=1)
    check = np.frombuffer(ric._CHECK.encode(), dtype=np.uint8)
    total = (first17.astype(np.int64) - ord("0")) @ _RIC_WEIGHTS
    full = np.ascontiguousarray(np.concatenate([first17, check[total % 11][:, None]], axis=1))
    offsets = pa.py_buffer(np.arange(0, 18 * len(grid) + 1, 18, dtype=np.int32).tobytes())
    text = pa.Array.from_buffers(pa.string(), len(grid), [None, offsets, pa.py_buffer(full)])
    return text, _ric18(full)[2]


_BODY_VALUE = np.full(256, _OUTSIDE, dtype=np.int64)
_BODY_VALUE[list(orgcode.BODY_ALPHABET.encode())] = np.arange(len(orgcode.BODY_ALPHABET))


def _orgcode9(grid: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``orgcode.reason_ascii`` of each row of an ``(n, 9)`` grid."""
    check_bytes = np.frombuffer(orgcode._CHECK_BYTES, dtype=np.uint8)
    total = np.take(_BODY_VALUE, grid[:, :8].astype(np.intp)) @ _ORG_WEIGHTS.astype(np.int64)
    out = np.zeros(len(grid), dtype=np.uint8)
    out[check_bytes[total % 11] != grid[:, 8]] = CHECKSUM
    out[(total < 0) | ~np.isin(grid[:, 8], check_bytes)] = CHARSET
    return out


def verdicts(raw: pa.Array) -> Verdicts:
    """What ``identifiers.reason_of`` says of each code of ``raw`` (strings as given; a null
    is an empty code), unqualified, as :class:`Verdicts`.

    Compaction (``normalise.compact``, a ``str.translate``) runs only on the codes that are not
    already bare ``[0-9A-Z]`` (one pass over the bytes finds them); then every code of a
    scheme's length is checked as a grid of bytes. A code that is not ASCII after compaction
    fails every scheme on its characters (``charset``).
    """
    if raw.type != pa.string():
        raw = raw.cast(pa.string())
    digit_prefix = _code_tables()[3]
    starts, data = text_buffers(raw)
    loose = _per_row(_loose, data, starts)
    if raw.null_count:
        loose |= raw.is_null().to_numpy(zero_copy_only=False)
    value = raw
    foreign = np.zeros(len(raw), dtype=bool)
    if loose.any():
        rows = np.flatnonzero(loose)
        compacted = [normalise.compact(c or "") for c in raw.take(pa.array(rows)).to_pylist()]
        value = pc.replace_with_mask(raw, pa.array(loose), pa.array(compacted, pa.string()))
        starts, data = text_buffers(value)
        loose = _per_row(_loose, data, starts)
        foreign = _per_row(_high, data, starts)
    length = np.diff(starts)
    kind = np.zeros(len(raw), dtype=np.uint8)
    # No scheme's length (or not ASCII): charset if any character is not [0-9A-Z], else length.
    reason = np.where(loose, CHARSET, LENGTH).astype(np.uint8)

    rows = np.flatnonzero((length == 9) & ~foreign)
    kind[rows] = ORGCODE
    reason[rows] = _orgcode9(_grid(data, starts, rows, 9))

    rows = np.flatnonzero((length == 15) & ~loose)
    grid = _grid(data, starts, rows, 15)
    digits = _digits_only(grid)
    rows, grid = rows[digits], grid[digits]
    kind[rows] = RIC
    reason[rows] = _ric15(grid)
    valid = reason[rows] == VALID
    number = np.full(len(raw), -1, dtype=np.int64)
    if valid.any():
        mask = np.zeros(len(raw), dtype=bool)
        mask[rows[valid]] = True
        widened, number[rows[valid]] = _widened(grid[valid])
        value = pc.replace_with_mask(value, pa.array(mask), widened)

    rows = np.flatnonzero((length == 18) & ~foreign)
    grid = _grid(data, starts, rows, 18)
    as_ric, first, numbers = _ric18(grid)
    d18 = as_ric != CHARSET  # 17 digits and a digit or X
    lead = grid[:, 0].astype(np.intp)
    century = first % 100
    person = d18 & (first >= 10_000_000) & (first < 90_000_000) & (century >= 18) & (century <= 20)
    firm = ~d18 | (grid[:, 17] != ord("X")) | (digit_prefix[lead << 8 | grid[:, 1]] == 1)
    read_ric = person | ~firm
    as_uscc = np.zeros(len(rows), dtype=np.uint8)
    need = ~read_ric | (as_ric != VALID)  # read as a USCC, or the other reading of a bad one
    as_uscc[need] = uscc_reasons_grid(np.ascontiguousarray(grid[need]))
    first = np.where(read_ric, as_ric, as_uscc)
    other = np.where(read_ric, as_uscc, as_ric)
    swap = (first != VALID) & (other == VALID)
    kind[rows] = np.where(read_ric != swap, RIC, USCC)
    reason[rows] = np.where(swap, VALID, first)
    number[rows[d18 & (reason[rows] == VALID)]] = numbers[d18 & (reason[rows] == VALID)]
    return Verdicts(value, kind, reason, number)
