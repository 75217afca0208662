"""Turning what people type into the bare code: one ``str.translate`` table for every scheme.

Removes spaces (ASCII, no-break, ideographic) and hyphens of every width, folds full-width forms
(``９１３５…``, ``Ａ``) to half-width and lower case to upper case. Anything else passes through
unchanged, for the validator to reject as a bad character.
"""

from __future__ import annotations

from xinyong.errors import InvalidCharset

_REMOVE = " \t\r\n\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"


def _table() -> dict[int, int | None]:
    table: dict[int, int | None] = {ord(ch): None for ch in _REMOVE}
    for ascii_code in range(0x21, 0x7F):
        full_width = ascii_code + 0xFEE0
        if full_width == 0xFF0D:  # full-width hyphen: removed above
            continue
        table[full_width] = ord(chr(ascii_code).upper())
    for ch in "abcdefghijklmnopqrstuvwxyz":
        table[ord(ch)] = ord(ch.upper())
    return table


COMPACT_TABLE = _table()


def compact(code: str) -> str:
    """The code without separators, half-width, upper case. Non-strings raise InvalidCharset."""
    if not isinstance(code, str):
        raise InvalidCharset("not a string / 不是字符串")
    return code.translate(COMPACT_TABLE)


_ASCII_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_REMOVE = b" \t\r\n-"


def compact_bytes(code: str) -> bytes:
    """:func:`compact` as ASCII bytes, the validators' fast path (``bytes.translate`` in C).

    Text that is still not ASCII after compaction comes back UTF-8 encoded, so the validators
    see characters outside their alphabet and say ``charset``.
    """
    if not isinstance(code, str):
        raise InvalidCharset("not a string / 不是字符串")
    if code.isascii():
        return code.encode().translate(_ASCII_UPPER, _ASCII_REMOVE)
    return code.translate(COMPACT_TABLE).encode("utf-8", "surrogatepass")
