"""Cells safe to open in a spreadsheet: the OWASP rule against CSV/formula injection.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel, LibreOffice and WPS. Every CSV and XLSX we write for people (list
downloads, screen results, rejects files, lab exports) passes its cells through
:func:`neutralise`, which prefixes such a cell with a single quote. A number stays a number:
``-12.5`` or ``+86`` is data, not a formula, and is written unchanged so that a column of
amounts still reads back as numbers. Machine formats (JSON Lines, Parquet) are not touched.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


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
