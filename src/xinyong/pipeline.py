"""The one orchestrator: carries a change through link → lists → measures → feed.

A change (a loaded batch, an objection's outcome, a repair) runs through ``STEPS`` in order, in
the caller's transaction, so either every derived fact follows the change or none does. Steps
never call each other: each reads the ``Change`` (:mod:`xinyong.changes`) and adds what it
derived (linking adds the affected subjects; the lists step re-derives their memberships;
measures then the restriction index; feed the outbox events).

To add a step, write ``def step(conn, change) -> None`` in its own package and add it to
``STEPS`` below, in data-flow order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from sqlalchemy import Connection

from xinyong.catalog.model import Catalog
from xinyong.changes import Change
from xinyong.feed.events import feed_step
from xinyong.link import link_records, relation_types
from xinyong.lists import lists_step, rebuild
from xinyong.measures import measures_step, rebuild_index
from xinyong.measures.reach import reach_of, way_of
from xinyong.store.footprint import Footprint, remember, require_covered

Step = Callable[[Connection, Change], None]


def link_step(conn: Connection, change: Change) -> None:
    """Attach the change's records to subjects by code; the rest get leads."""
    result = link_records(
        conn,
        change.record_ids,
        kind_for=subject_kinds(change.catalog),
        registration_types=relation_types(change.catalog),
    )
    change.subject_ids |= result.subject_ids
    change.unlinked_record_ids.extend(result.unlinked)


#: The steps, in data-flow order.
STEPS: tuple[Step, ...] = (
    link_step,
    lists_step,
    measures_step,
    feed_step,
)


def apply_records(
    conn: Connection,
    record_ids: Sequence[int],
    *,
    catalog: Catalog,
    at: date,
    keys: Mapping[int, str] | None = None,
) -> set[int]:
    """Run new or changed records through every step; returns the affected subject ids.

    Refused with ``CatalogMismatch`` before any step when ``catalog`` lacks a list, measure or
    action the store's derived tables hold (``xinyong.store.footprint``); the ids the run
    derived are remembered after the steps. ``keys``: the records' ``record_key`` by id, where
    the caller knows them (``Change.record_keys``)."""
    footprint = require_covered(conn, catalog)
    change = Change(record_ids=record_ids, catalog=catalog, at=at, record_keys=keys or {})
    for step in STEPS:
        step(conn, change)
    _remember(conn, catalog, footprint, change)
    return change.subject_ids


def apply_law(conn: Connection, *, catalog: Catalog, at: date) -> Change:
    """A change of law: re-derive every subject's list entries and the whole restriction index
    under ``catalog`` (the rules with their dates), and publish what changed to the feed, in
    the caller's transaction; the caller audits it as one event naming the instruments
    (``xinyong catalog impact --apply``). Refused like ``apply_records`` when ``catalog`` lacks
    what the store's derived tables hold."""
    footprint = require_covered(conn, catalog)
    change = Change(record_ids=(), catalog=catalog, at=at)
    change.list_changes.extend(rebuild(conn, catalog, at=at))
    change.restriction_changes.extend(rebuild_index(conn, catalog))
    feed_step(conn, change)
    _remember(conn, catalog, footprint, change)
    return change


def _remember(conn: Connection, catalog: Catalog, footprint: Footprint, change: Change) -> None:
    """Add what ``change`` derived (lists, measures and actions it added) to the store's
    catalog footprint (``store.footprint``)."""
    reach = reach_of(catalog)
    ways = {
        (c.list_id, way_of(c.subject_kind, c.role))
        for c in change.restriction_changes
        if c.kind == "added" and c.list_id is not None
    }
    implied = [m for list_id, way in ways for m in reach.measures(list_id, way)]
    remember(
        conn,
        catalog,
        footprint,
        lists={c.list_id for c in change.list_changes},
        measures={m.id for m in implied},
        actions={a for m in implied for a in m.actions},
    )


def subject_kinds(catalog: Catalog) -> dict[str, str]:
    """Record type → the subject kind it fixes: a record type that admits one kind only."""
    return {
        rt_id: rt.subject_kinds[0]
        for rt_id, rt in catalog.record_types.items()
        if len(rt.subject_kinds) == 1
    }
