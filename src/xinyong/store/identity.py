"""What makes a stored record the same record, and the same content.

- ``canonical_json`` — the one text form of a record's fields (sorted keys, no spaces, UTF-8;
  a parsed date written as its ISO text, as its JSON value is): hashed for its content, and
  stored as it is.
- ``content_hash`` — ``row_hash``: the sha256 of that text.
- ``record_identity`` — ``record_key``: record type + source + document number + subject (code,
  else name); without a document number the content is part of the identity.

Ingest (a department's file) and the processes (a breach of a credit commitment, a corrected
record) both write records; both name them this way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_iso
)


def canonical_json(fields: dict[str, Any]) -> str:
    """The one text form of a record's fields: hashed for its content, and stored as it is.
    Parsed values need no copy first: a date is written as its ISO text."""
    return _CANONICAL.encode(fields)


def content_hash(fields: dict[str, Any]) -> str:
    """A record's ``row_hash``: the sha256 of its fields' canonical JSON."""
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def record_identity(record_type: str, source: str, values: dict[str, Any], row_hash: str) -> str:
    """A record's ``record_key``: the same for every version of one record."""
    subject = values.get("subject_code") or values.get("subject_name") or ""
    parts = [record_type, source, values.get("document_no") or "", subject]
    if not values.get("document_no"):
        parts.append(row_hash)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
