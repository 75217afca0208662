"""How deeply JSON may nest where someone else wrote it: ``MAX_DEPTH`` levels of arrays and
objects, checked on the bytes before anything parses them.

Python's ``json`` recurses once per level: a body of ten thousand ``[`` ends in a
``RecursionError`` (a 500), and a few hundred levels already cost stack and time for nothing —
no request or report of ours nests more than a few levels. :class:`NestingMeter` follows the
depth over a stream of chunks (strings and escapes understood, so ``"[[["`` inside a string does
not count); :func:`require_shallow` refuses a whole document with ``UnusableInput``.
``xinyong.api.bodylimit`` meters every JSON request body; report verification
(``xinyong.disclose.verification``) checks the uploaded report.
"""

from __future__ import annotations

import re

from xinyong.errors import UnusableInput

MAX_DEPTH = 64
"""The deepest nesting of arrays and objects accepted."""
TOO_DEEP = f"JSON 嵌套过深 / JSON nested too deeply (over {MAX_DEPTH} levels)"

_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class NestingMeter:
    """Feed chunks of a JSON text; :meth:`feed` says False once the nesting passes ``limit``."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, chunk: bytes) -> bool:
        skip = -1  # position of a character escaped by a backslash at the end of a chunk
        if self._escaped and chunk:
            skip, self._escaped = 0, False
        for found in _STRUCTURE.finditer(chunk):
            at = found.start()
            if at <= skip:
                continue
            char = chunk[at]
            if self._in_string:
                if char == 0x5C:  # backslash: the next character is escaped
                    if at + 1 < len(chunk):
                        skip = at + 1
                    else:
                        self._escaped = True
                elif char == 0x22:
                    self._in_string = False
            elif char == 0x22:
                self._in_string = True
            elif char in b"[{":
                self.depth += 1
                if self.depth > self.limit:
                    return False
            elif char in b"]}":
                self.depth -= 1
        return True


def require_shallow(data: bytes) -> None:
    """Refuse (``UnusableInput``) a JSON document nested deeper than ``MAX_DEPTH``."""
    if not NestingMeter().feed(data):
        raise UnusableInput(TOO_DEEP)
