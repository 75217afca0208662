"""Measures and decisions: the restriction index and the checks agencies make against it.

- ``check(conn, subject, action, at=None, known_at=None, *, catalog, actor=None,
  log=True) -> Decision`` — one decision with its reasons, logged in ``decisions``.
- ``Decision`` / ``Reason`` / ``Basis`` / ``WayOut`` — frozen dataclasses; ``as_json()``.
- ``combine(reasons)`` — the documented order deny > review > prefer > permit; latest ``until``.
- ``replay(conn, decision_id, *, catalog)`` — the same decision again, as known when it was taken.
- ``checker.Checker(engine, catalog).check(subject, action, at, known_at, *, actor, audit)``
  / ``checker.checker_for(engine, catalog)`` — the same decisions on the hot path (API): fixed
  SQL on a per-thread connection, logged and audited by ``writer.DecisionWriter`` (group
  commit: answered once committed)
  (``XINYONG_DECISION_LOG=sync`` for one transaction per decision).
- ``screen.screen(engine, path, action, out, *, catalog, …)`` — a file of codes, checked in
  DuckDB SQL.
- ``derive_restrictions(conn, catalog, subject_ids)``, ``rebuild_index(conn, catalog)`` — the
  index; ``derive_entry_restrictions(conn, catalog, entry_ids)`` — only the rows of some list
  entries; ``measures_step`` is its pipeline step (changed entries, plus every row of subjects
  whose relations the change's registration records may have changed).
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
from xinyong.measures.index import (
    derive_entry_restrictions,
    derive_restrictions,
    measures_step,
    rebuild_index,
)

__all__ = [
    "PRECEDENCE",
    "Basis",
    "Decision",
    "Reason",
    "WayOut",
    "check",
    "combine",
    "derive_entry_restrictions",
    "derive_restrictions",
    "measures_step",
    "rebuild_index",
    "replay",
]
