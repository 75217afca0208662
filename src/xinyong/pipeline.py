"""The one orchestrator: carries a change through link → lists → measures → feed.

A change (a loaded batch, an objection's outcome, a repair) runs through ``STEPS`` in order, in
the caller's transaction, so either every derived fact follows the change or none does. Steps
never call each other: each reads the ``Change`` and adds what it derived (linking adds the
affected subjects; the lists step, when it lands, re-derives their memberships; measures then the
restriction index; feed the outbox events).

To add a step, write ``def step(conn, change) -> None`` in its own package and add it to
``STEPS`` below, in data-flow order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

from sqlalchemy import Connection

from xinyong.catalog.model import Catalog, Category
from xinyong.feed.events import feed_step
from xinyong.link import link_records
from xinyong.lists import lists_step
from xinyong.measures import measures_step


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
    """A row of the restriction index appeared or went: one (subject, action, measure). A named
    tuple: a large batch makes hundreds of thousands."""

    subject_id: int
    action: str
    measure_id: str
    kind: Literal["added", "lifted"]
    valid_from: date | None = None
    valid_to: date | None = None


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
    subject_ids: set[int] = field(default_factory=set)
    unlinked_record_ids: list[int] = field(default_factory=list)
    list_changes: list[ListChange] = field(default_factory=list)
    restriction_changes: list[RestrictionChange] = field(default_factory=list)


Step = Callable[[Connection, Change], None]


def link_step(conn: Connection, change: Change) -> None:
    """Attach the change's records to subjects by code; the rest get leads."""
    result = link_records(
        conn,
        change.record_ids,
        kind_for=subject_kinds(change.catalog),
        registration_types=registration_types(change.catalog),
    )
    change.subject_ids |= result.subject_ids
    change.unlinked_record_ids.extend(result.unlinked)


#: The steps, in data-flow order. lists → measures → feed are added here as they land.
STEPS: tuple[Step, ...] = (
    link_step,
    lists_step,
    measures_step,
    feed_step,
)


def apply_records(
    conn: Connection, record_ids: Sequence[int], *, catalog: Catalog, at: date
) -> set[int]:
    """Run new or changed records through every step; returns the affected subject ids."""
    change = Change(record_ids=record_ids, catalog=catalog, at=at)
    for step in STEPS:
        step(conn, change)
    return change.subject_ids


def subject_kinds(catalog: Catalog) -> dict[str, str]:
    """Record type → the subject kind it fixes: a record type that admits one kind only."""
    return {
        rt_id: rt.subject_kinds[0]
        for rt_id, rt in catalog.record_types.items()
        if len(rt.subject_kinds) == 1
    }


def registration_types(catalog: Catalog) -> set[str]:
    """Record types whose rows name legal representatives and the like (relations)."""
    return {
        rt_id for rt_id, rt in catalog.record_types.items() if rt.category is Category.REGISTRATION
    }
