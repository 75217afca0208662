"""Masking for public output: ID numbers of individuals, their addresses and phones.

``mask_ric("35010219900101123X")`` → ``3501**********123X``: the first four and last four
characters stay (region prefix and the check group), the birth date and sequence do not. A
15-digit number keeps four and three. Any value anywhere in a public record that looks like a
citizen ID number is masked, whatever field it sits in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xinyong.disclose.policy import is_private_field

RIC_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
RIC15_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")


def mask_ric(value: str) -> str:
    """An individual's ID number with the middle starred; other text unchanged."""
    text = value.strip()
    if len(text) == 18:
        return text[:4] + "*" * 10 + text[-4:]
    if len(text) == 15:
        return text[:4] + "*" * 8 + text[-3:]
    return "*" * len(text)


def mask_text(value: str) -> str:
    """Every ID-number-like run inside ``value`` masked."""
    value = RIC_LIKE.sub(lambda m: mask_ric(m.group(0)), value)
    return RIC15_LIKE.sub(lambda m: mask_ric(m.group(0)), value)


def public_fields(fields: Mapping[str, Any], *, individual: bool) -> dict[str, Any]:
    """A record's fields as the public may see them."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if individual and is_private_field(name):
            continue
        out[name] = mask_text(value) if isinstance(value, str) else value
    return out
