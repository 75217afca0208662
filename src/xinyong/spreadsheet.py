"""Cells safe to open in a spreadsheet: the OWASP rule against CSV/formula injection.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel, LibreOffice and WPS. Every CSV and XLSX we write for people (list
downloads, screen results, rejects files, lab exports) passes its cells through
:func:`neutralise`, which prefixes such a cell with a single quote. A number stays a number:
``-12.5`` or ``+86`` is data, not a formula, and is written unchanged so that a column of
amounts still reads back as numbers. Machine formats (JSON Lines, Parquet) are not touched.

The rule runs on three engines: :func:`neutralise` (Python, a cell at a time),
:func:`neutralise_sql` (DuckDB) and :func:`neutralise_arrow` (an Arrow column at a time, for the
screen's CSV), with one number pattern whose digits are ASCII on all three (RE2's ``\\d`` is;
Python's is made so): ``-３`` or ``-٣`` is not a number a spreadsheet reads, so it is prefixed
(docs/semantics.md, rule 11).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.arrow_text import text_buffers

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A number a spreadsheet reads as one: ASCII digits only (``re.ASCII``, as RE2 reads ``\d`` in
#: the SQL and Arrow forms, which use this pattern's text).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    text = isinstance(value, str)
    if text and value.startswith(FORMULA_PREFIXES) and _NUMBER.fullmatch(value) is None:
        return "'" + value
    return value


def neutralise_sql(expr: str) -> str:
    """The same rule as a SQL expression over the text expression ``expr`` (DuckDB)."""
    return (
        f"CASE WHEN regexp_matches({expr}, '^[=+\\-@\\t\\r]')"
        f" AND NOT regexp_full_match({expr}, '{_NUMBER.pattern}')"
        f" THEN '''' || {expr} ELSE {expr} END"
    )


_PREFIX_BYTE = np.zeros(256, dtype=np.bool_)
_PREFIX_BYTE[[ord(p) for p in FORMULA_PREFIXES]] = True


def neutralise_arrow(cells: pa.Array) -> pa.Array:
    """The same rule over an Arrow ``string`` array, as :func:`neutralise_sql` gives it (NULL
    stays NULL). Each cell's first byte is looked at in numpy (the prefixes are ASCII, so a
    first byte among them is a first character among them); only the cells it picks are
    matched against the number (RE2, as DuckDB does) and prefixed."""
    if not len(cells):
        return cells
    if cells.type != pa.string():
        cells = cells.cast(pa.string())
    offsets, data = text_buffers(cells)
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]
    first = np.zeros(len(cells), dtype=np.uint8)
    first[offsets[1:] > offsets[:-1]] = data[starts]
    prefixed = _PREFIX_BYTE[first]
    if not prefixed.any():
        return cells
    picked = np.flatnonzero(prefixed & cells.is_valid().to_numpy(zero_copy_only=False))
    some = cells.take(pa.array(picked))
    number = pc.match_substring_regex(some, f"^(?:{_NUMBER.pattern})$").to_numpy(
        zero_copy_only=False
    )
    formula = np.zeros(len(cells), dtype=np.bool_)
    formula[picked[~number]] = True
    prefixed_cells = pc.binary_join_element_wise("'", some.filter(pa.array(~number)), "")
    return pc.replace_with_mask(cells, pa.array(formula), prefixed_cells)
