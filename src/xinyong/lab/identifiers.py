"""Valid identifier codes drawn in bulk with numpy (citizen ID numbers, USCCs).

The checks are those of :mod:`xinyong.codes` (GB 11643 ISO 7064 MOD 11-2; GB 32100 MOD 31 with
the GB 11714 organisation code inside), computed on whole arrays so a million codes take well
under a second. The lab's tests validate every generated code with :mod:`xinyong.codes`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.array(list("10X98765432"))

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_USCC_CHARS = np.array(list(USCC_ALPHABET))
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# GB 11714 values characters 0-9 as themselves and A-Z as 10-35.
_ORG_VALUE = np.array([int(c, 36) for c in USCC_ALPHABET], dtype=np.int64)

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


def _digits(values: IntArray, width: int) -> IntArray:
    """``(n,)`` non-negative integers → ``(n, width)`` decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def ric_body(region: IntArray, birth: npt.NDArray[np.datetime64], sequence: IntArray) -> IntArray:
    """The first 17 digits as one integer: region (6) + YYYYMMDD (8) + sequence (3)."""
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = year * 10_000 + month * 100 + day
    body: IntArray = (region.astype(np.int64) * 100_000_000 + ymd) * 1_000 + sequence
    return body


def ric_from_body(body: IntArray) -> list[str]:
    """Citizen ID numbers (18 characters) from 17-digit bodies, check character appended."""
    digits = _digits(body, 17)
    check = RIC_CHECK[(digits @ RIC_WEIGHTS) % 11]
    return [f"{b:017d}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def ric_sequence(rng: np.random.Generator, male: npt.NDArray[np.bool_]) -> IntArray:
    """Order codes 000–999 whose last digit is odd for men and even for women."""
    base = rng.integers(0, 500, size=male.shape[0], dtype=np.int64) * 2
    return base + male.astype(np.int64)


def org_body(rng: np.random.Generator, registered_year: IntArray) -> StrArray:
    """Eight-character GB 11714 bodies: ``MA`` + six characters for registrations from 2016
    (the form newly issued codes take), eight digits for older ones."""
    n = registered_year.shape[0]
    chars = _USCC_CHARS[rng.integers(0, len(USCC_ALPHABET), size=(n, 8))]
    old = registered_year < 2016
    chars[old] = _USCC_CHARS[rng.integers(0, 10, size=(int(old.sum()), 8))]
    chars[~old, 0] = "M"
    chars[~old, 1] = "A"
    return np.array(["".join(row) for row in chars.tolist()])


def uscc(authority: StrArray, category: StrArray, region: StrArray, org: StrArray) -> list[str]:
    """Unified social credit codes from their parts, both check characters computed."""
    org_values = np.array(
        [[_USCC_VALUE[c] for c in body] for body in org.tolist()], dtype=np.int64
    ).reshape(-1, 8)
    org_sum = _ORG_VALUE[org_values] @ ORG_WEIGHTS
    org_check = (11 - org_sum % 11) % 11
    org_char = np.where(org_check == 10, "X", org_check.astype(str))
    bodies = [
        f"{a}{c}{r}{o}{k}"
        for a, c, r, o, k in zip(
            authority.tolist(),
            category.tolist(),
            region.tolist(),
            org.tolist(),
            org_char.tolist(),
            strict=True,
        )
    ]
    values = np.array([[_USCC_VALUE[c] for c in body] for body in bodies], dtype=np.int64)
    values = values.reshape(-1, 17)
    check = _USCC_CHARS[(31 - (values @ USCC_WEIGHTS) % 31) % 31]
    return [b + c for b, c in zip(bodies, check.tolist(), strict=True)]


def org_key(org: StrArray) -> IntArray:
    """An eight-character organisation code body as one integer (base 31), for uniqueness."""
    values = np.array([[_USCC_VALUE[c] for c in body] for body in org.tolist()], dtype=np.int64)
    powers = 31 ** np.arange(7, -1, -1, dtype=np.int64)
    return values.reshape(-1, 8) @ powers


class Issued:
    """Integer keys already issued in a run (ID bodies, organisation codes): 8 bytes each,
    kept as sorted arrays, one per batch, so memory grows with the keys and nothing else."""

    def __init__(self) -> None:
        self._batches: list[IntArray] = []

    def clashes(self, keys: IntArray) -> npt.NDArray[np.bool_]:
        """True where a key was issued before or repeats an earlier key of ``keys``."""
        clash = np.zeros(keys.shape[0], dtype=bool)
        _, first = np.unique(keys, return_index=True)
        clash[np.setdiff1d(np.arange(keys.shape[0]), first)] = True
        for issued in self._batches:
            pos = np.minimum(np.searchsorted(issued, keys), issued.shape[0] - 1)
            clash |= issued[pos] == keys
        return clash

    def add(self, keys: IntArray) -> None:
        if keys.shape[0]:
            self._batches.append(np.sort(keys))
