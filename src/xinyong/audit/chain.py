"""How an audit event is hashed: canonical JSON of its fields and the previous event's hash.

::

    hash(event n) = sha256( canonical_json({
        "v": 1, "at": "2025-01-24T08:00:00.000000Z", "actor": …, "role": …, "purpose": …,
        "subject": …, "action": …, "resource": …, "outcome": …, "detail": "<JSON text>",
        "prev": hash(event n - 1) }) )

``canonical_json`` is UTF-8 JSON with sorted keys and no spaces. ``at`` is UTC with
microseconds; ``detail`` enters as the exact JSON text stored in the row. The first event's
``prev`` is ``GENESIS_HASH``. Changing any field of an event changes its hash; the next event
names the old hash, so the change shows there too unless every later event is rewritten (which
is what anchoring the head hash elsewhere catches, see docs/audit.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any

#: ``prev_hash`` of the first event: a fixed value, the same in every database.
GENESIS_HASH = "0" * 64
#: Version of the hashed form; goes into every hash so a future form cannot be confused.
CHAIN_VERSION = 1


def canonical_json(value: Any) -> str:
    """The one JSON text for ``value``: sorted keys, no spaces, UTF-8, no NaN or infinity.

    ``_CANONICAL.encode``, with the C encoder it makes per call made here directly: the same
    arguments (a new circular-reference memo each call), without ``encode``'s and
    ``iterencode``'s Python frames and closures."""
    if _make_encoder is None or isinstance(value, str):
        return _CANONICAL.encode(value)
    encoder = _make_encoder(
        {}, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, False
    )
    return "".join(encoder(value, 0))


#: The C encoder's constructor (None without the accelerator: ``encode`` then, as ``json`` does).
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

#: ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
#: allow_nan=False)``, its encoder made once (``dumps`` makes one per call with these options).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_time(at: datetime) -> str:
    """``at`` in UTC, ISO 8601 with microseconds and a ``Z``.

    The text of ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` (the definition), cut from ``isoformat``
    (a fifth of the cost) where the two agree: years 1000–9999, for which ``%Y`` has four digits
    (before 1000 it has fewer and ``strftime`` is kept; tests/audit pins both)."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    utc = at.astimezone(UTC)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.isoformat(timespec="microseconds")[:26] + "Z"  # less the "+00:00"


def event_hash(
    *,
    at: datetime,
    actor: str,
    role: str,
    purpose: str,
    subject: str | None,
    action: str,
    resource: str | None,
    outcome: str | None,
    detail: str | None,
    prev_hash: str,
) -> str:
    """The sha256 (hex) of one event's canonical form, chained to ``prev_hash``.

    The text is ``canonical_json`` of the body in the module docstring, written out in its
    sorted key order with each string escaped as ``json.dumps`` escapes it (one C call each):
    the same bytes, a third of the cost (tests/audit: ``test_the_fast_form_is_canonical_json``,
    and fixed digests in ``test_a_fixed_event_hashes_to_its_fixed_digest``). The required
    fields (``actor``, ``role``, ``purpose``, ``action``, ``prev_hash``) are text.
    """
    return hash_of_values(
        action=_quoted(action),
        actor=_quoted(actor),
        at=f'"{canonical_time(at)}"',
        detail=json_text(detail),
        outcome=json_text(outcome),
        prev=_quoted(prev_hash),
        purpose=_quoted(purpose),
        resource=json_text(resource),
        role=_quoted(role),
        subject=json_text(subject),
    )


def hash_of_values(
    *,
    action: str,
    actor: str,
    at: str,
    detail: str,
    outcome: str,
    prev: str,
    purpose: str,
    resource: str,
    role: str,
    subject: str,
) -> str:
    """``event_hash`` of fields already written as JSON values (``json_text``; ``at`` the
    quoted ``canonical_time``): for a caller that writes the same values into JSON rows as well
    (``xinyong.audit.events.append_after``), each field quoted once for both."""
    text = (
        f'{{"action":{action},"actor":{actor},"at":{at},"detail":{detail},'
        f'"outcome":{outcome},"prev":{prev},"purpose":{purpose},"resource":{resource},'
        f'"role":{role},"subject":{subject},"v":{CHAIN_VERSION}}}'
    )
    return sha256(text.encode()).hexdigest()


def json_text(value: str | None) -> str:
    """A text field as a JSON value: quoted (``quote_text``), or ``null``."""
    return "null" if value is None else _quoted(value)


def canonical_body(
    *,
    at: datetime,
    actor: str,
    role: str,
    purpose: str,
    subject: str | None,
    action: str,
    resource: str | None,
    outcome: str | None,
    detail: str | None,
    prev_hash: str,
) -> str:
    """The hashed text by its definition: ``canonical_json`` of the event's body."""
    body = {
        "v": CHAIN_VERSION,
        "at": canonical_time(at),
        "actor": actor,
        "role": role,
        "purpose": purpose,
        "subject": subject,
        "action": action,
        "resource": resource,
        "outcome": outcome,
        "detail": detail,
        "prev": prev_hash,
    }
    return canonical_json(body)


#: A string as ``json.dumps(..., ensure_ascii=False)`` writes it (one C call).
quote_text = _quoted = encode_basestring
