"""A record's canonical text and hash: one form, whether its values are parsed or JSON.

Ingest hashes parsed values (dates as dates, on its reading thread); the processes hash JSON
values. Both must give the same ``row_hash``, or a record re-submitted by another path would be
stored again as a new version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.store.identity import canonical_json, content_hash

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.dates(),
)
_VALUES = st.dictionaries(
    st.text(), st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
)


def _as_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


@given(_VALUES)
def test_parsed_values_read_as_their_json_values(values: dict[str, Any]) -> None:
    as_json = {key: _as_json(value) for key, value in values.items()}
    expected = json.dumps(as_json, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert canonical_json(values) == expected
    assert canonical_json(as_json) == expected
    assert content_hash(values) == hashlib.sha256(expected.encode()).hexdigest()


def test_the_hashed_form_is_pinned() -> None:
    """Stored ``row_hash`` values depend on these bytes: a change of form is a migration."""
    fields = {"决定日期": date(2026, 3, 1), "金额": 12.5, "b": [1, None, "甲"], "a": True}
    assert (
        canonical_json(fields) == '{"a":true,"b":[1,null,"甲"],"决定日期":"2026-03-01","金额":12.5}'
    )
    assert content_hash(fields) == hashlib.sha256(canonical_json(fields).encode()).hexdigest()


@pytest.mark.parametrize("value", [Decimal("1.5"), object(), {1, 2}, b"bytes"])
def test_what_json_cannot_hold_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json({"x": value})
