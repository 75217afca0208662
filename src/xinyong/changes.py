"""What a run of the pipeline carries: the ``Change`` and the facts its steps derive.

A leaf module (it imports only the catalog's model), so the pipeline and each of its steps
(linking, lists, measures, feed) can name these types without importing one another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

from xinyong.catalog.model import Catalog


@dataclass(frozen=True)
class ListChange:
    """A subject's list entry changed: what the feed publishes and subscribers act on."""

    subject_id: int
    list_id: str
    entry_id: int
    kind: Literal["notified", "published", "extended", "expired", "removed"]
    reason: str | None = None
    #: The entry's first version, written by this change: nothing can refer to it yet.
    created: bool = False


class RestrictionChange(NamedTuple):
    """A row of the restriction index appeared or went: one fact — a list entry (``list_id``,
    ``entry_id``, the ``record_key`` of its record) reaching a subject, and for a person reached
    through an enterprise ``via_subject_id``, ``role`` and ``relation_record_id``: with
    ``subject_id``, the index row's key. The measures and actions it carries follow from the
    catalog (``xinyong.measures.reach``: by ``subject_kind`` or ``role``). A named tuple: a large
    batch makes hundreds of thousands."""

    subject_id: int
    subject_kind: str
    kind: Literal["added", "lifted"]
    valid_from: date | None = None
    valid_to: date | None = None
    list_id: str | None = None
    entry_id: int | None = None
    record_key: str | None = None
    via_subject_id: int | None = None
    role: str | None = None
    relation_record_id: int | None = None


@dataclass
class Change:
    """What one run of the pipeline is about, and what the steps have derived so far.

    Each step reads what the steps before it added and adds its own: linking fills
    ``subject_ids``; the lists step ``list_changes``; the measures step ``restriction_changes``;
    the feed step turns all of it (and ``record_ids``) into outbox events.
    """

    record_ids: Sequence[int]
    catalog: Catalog
    at: date
    #: ``record_key`` of the records in ``record_ids``, where the caller knows it (ingest, of the
    #: rows it has just written): steps read those records in their partition of ``records``
    #: (``xinyong.link.bulk.by_id``) instead of probing every partition for each id.
    record_keys: Mapping[int, str] = field(default_factory=dict)
    subject_ids: set[int] = field(default_factory=set)
    unlinked_record_ids: list[int] = field(default_factory=list)
    list_changes: list[ListChange] = field(default_factory=list)
    restriction_changes: list[RestrictionChange] = field(default_factory=list)
