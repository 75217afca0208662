"""Masking for public output: an individual's citizen ID number is never shown whole.

The public sees the six-digit region code and the last four characters, the birth date and
order code replaced by asterisks (``110101********123X``), as the published defaulter lists do;
organisations' codes are public registration facts and are shown as they are. Names of listed
individuals are published by law and are shown; addresses never are.
"""

from __future__ import annotations

MASK = "*"


def mask_code(code: str | None) -> str | None:
    """``110101199003074477`` → ``110101********4477``; other codes unchanged; None → None."""
    if code is None:
        return None
    if len(code) == 18 and code[:17].isdigit():
        return code[:6] + MASK * 8 + code[-4:]
    if len(code) == 15 and code.isdigit():
        return code[:6] + MASK * 6 + code[-3:]
    return code


def mask_pattern(text: str) -> tuple[str, str]:
    """A masked number as typed (``110101********4477``) → (head, tail) to search by."""
    cleaned = text.strip().replace("＊", MASK).upper()
    head = cleaned.split(MASK, 1)[0]
    tail = cleaned.rsplit(MASK, 1)[-1]
    return head, tail
