"""Which measures a fact of the restriction index carries: the catalog's part, worked out once.

An index row is a fact (a list entry reaching a subject: the listed subject itself, or a person
who holds a role in a listed enterprise); which measures, actions and effects it carries follows
from the catalog alone, so the index does not store them (issue 19: its size follows the facts,
not facts × measures × actions). :func:`reach_of` gives, per catalog (cached by identity; a
catalog is immutable):

- ``direct(list_id, kind)``: the list's measures that ``applies_to`` a listed subject of that
  kind;
- ``linked(list_id, role)``: the list's role-linked measures that name ``role`` and apply to
  individuals (法释〔2015〕17号 art. 3);

each in the catalog's measure order (``Catalog.measures_for``), and ``for_action(…)``, the same
narrowed to one action: what a check expands a fact into. The index derives a row only when
such a measure exists (``xinyong.measures.index.rows_for``); the batch layer's ``VALUES`` tables
(``xinyong.measures.batch``) are written from the same parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xinyong.catalog.model import Catalog, Measure

#: A fact's way of reaching its subject: ``("kind", <subject kind>)`` for the listed subject,
#: ``("role", <role>)`` for a person reached through an enterprise.
Way = tuple[str, str]


def way_of(kind: str | None, role: str | None) -> Way:
    """How an index row reaches its subject: by its role when it has one, else by its kind."""
    return ("role", role) if role is not None else ("kind", kind or "")


@dataclass
class Reach:
    """The catalog's measures by list and way of reaching; see the module's doc."""

    catalog: Catalog
    by_list: dict[str, dict[Way, tuple[Measure, ...]]] = field(default_factory=dict)
    #: Measure id → its place in the catalog's order.
    position: dict[str, int] = field(default_factory=dict)
    _by_action: dict[tuple[str, Way, str], tuple[Measure, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {measure_id: n for n, measure_id in enumerate(self.catalog.measures)}
        for list_id in self.catalog.lists:
            ways: dict[Way, list[Measure]] = {}
            for measure in self.catalog.measures_for(list_id):
                for kind in measure.applies_to:
                    ways.setdefault(("kind", kind), []).append(measure)
                if measure.role_linked and "individual" in measure.applies_to:
                    for role in measure.role_linked:
                        ways.setdefault(("role", role), []).append(measure)
            self.by_list[list_id] = {way: tuple(found) for way, found in ways.items()}

    def measures(self, list_id: str, way: Way) -> tuple[Measure, ...]:
        """The measures a fact of ``list_id`` reaching its subject ``way`` carries."""
        return self.by_list.get(list_id, {}).get(way, ())

    def direct(self, list_id: str, kind: str | None) -> tuple[Measure, ...]:
        return self.measures(list_id, ("kind", kind or ""))

    def linked(self, list_id: str, role: str) -> tuple[Measure, ...]:
        return self.measures(list_id, ("role", role))

    def for_action(self, list_id: str, way: Way, action: str) -> tuple[Measure, ...]:
        """``measures`` narrowed to those that restrict ``action``."""
        key = (list_id, way, action)
        found = self._by_action.get(key)
        if found is None:
            found = tuple(m for m in self.measures(list_id, way) if action in m.actions)
            if len(self._by_action) > 100_000:
                self._by_action.clear()
            self._by_action[key] = found
        return found

    def lists_for(self, action: str) -> frozenset[str]:
        """The lists some measure of which restricts ``action``."""
        return frozenset(
            list_id
            for list_id, ways in self.by_list.items()
            if any(action in m.actions for found in ways.values() for m in found)
        )


#: Per catalog, by identity (the catalog object is kept, so an id is never reused wrongly).
_REACH: dict[int, Reach] = {}


def reach_of(catalog: Catalog) -> Reach:
    """The catalog's :class:`Reach`, made once per catalog object."""
    found = _REACH.get(id(catalog))
    if found is None or found.catalog is not catalog:
        if len(_REACH) >= 8:
            _REACH.clear()
        found = _REACH[id(catalog)] = Reach(catalog)
    return found
