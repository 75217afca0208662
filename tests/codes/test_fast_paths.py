"""The code checks' fast paths are their plain forms, on any input.

``normalise.compact_bytes`` (``bytes.translate`` for ASCII) is ``normalise.compact`` encoded, and
``orgcode.body_check_fast`` (one ``int(body, 35)``) is ``orgcode.body_check`` (the weighted sum
of GB 11714) for every body without ``Z``: every USCC's and every generated one. The set of
valid birth dates behind a citizen number's fast check is built once, not once per thread.
"""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.codes import normalise, orgcode, ric

SETTINGS = settings(max_examples=400, deadline=None)
#: What people type into a code field: ASCII, full-width forms, separators of every width.
TYPED = st.text(
    alphabet=st.sampled_from(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz -\t\u3000\u2014\uff0d\uff10\uff21\uff41中"
    ),
    max_size=24,
)


@SETTINGS
@given(st.one_of(TYPED, st.text(max_size=24)))
def test_compact_bytes_is_compact_encoded(text: str) -> None:
    assert normalise.compact_bytes(text) == normalise.compact(text).encode("utf-8", "surrogatepass")


@SETTINGS
@given(st.text(alphabet=orgcode.BODY_ALPHABET.replace("Z", ""), min_size=8, max_size=8))
def test_fast_organisation_check_is_the_weighted_sum(body: str) -> None:
    assert chr(orgcode.body_check_fast(body.encode())) == orgcode.body_check(body)


def test_threads_asking_while_the_birth_dates_are_built_build_them_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The valid birth dates are built once per day, however many threads ask at the same time
    (a worker's first burst of checks): each build takes 0.3 s of a core."""
    builds: list[datetime.date] = []
    real = ric._dates

    def slow(today: datetime.date) -> frozenset[bytes]:
        builds.append(today)
        time.sleep(0.05)
        return real(today)

    monkeypatch.setattr(ric, "_dates", slow)
    dates = ric._BirthDates()
    start = threading.Barrier(8)
    answers: list[bool] = []

    def ask() -> None:
        start.wait()
        answers.append(b"19900101" in dates)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [True] * 8
    assert len(builds) == 1
