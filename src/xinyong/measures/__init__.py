"""Measures and decisions: the restriction index and the checks agencies make against it.

- ``check(conn, subject, action, at=None, known_at=None, *, catalog=None, actor=None,
  log=True) -> Decision`` — one decision with its reasons, logged in ``decisions``.
- ``Decision`` / ``Reason`` / ``Basis`` / ``WayOut`` — frozen dataclasses; ``as_json()``.
- ``combine(reasons)`` — the documented order deny > review > prefer > permit; latest ``until``.
- ``replay(conn, decision_id)`` — the same decision again, as known when it was taken.
- ``derive_restrictions(conn, catalog, subject_ids)``, ``rebuild_index(conn, catalog)`` — the
  index; ``measures_step`` is its pipeline step.
"""

from xinyong.measures.decisions import (
    PRECEDENCE,
    Basis,
    Decision,
    Reason,
    WayOut,
    check,
    combine,
    replay,
)
from xinyong.measures.index import derive_restrictions, measures_step, rebuild_index

__all__ = [
    "PRECEDENCE",
    "Basis",
    "Decision",
    "Reason",
    "WayOut",
    "check",
    "combine",
    "derive_restrictions",
    "measures_step",
    "rebuild_index",
    "replay",
]
