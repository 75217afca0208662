"""The lifecycle of each kind of case: the state it starts in and the moves it may make.

One table, read by the database schema (:mod:`xinyong.process.tables` allows exactly these
states) and by :mod:`xinyong.process.cases`, which refuses any other move::

    objection   open    → upheld | rejected        decided by the source authority
    repair      pending → granted | refused        decided by the deciding authority
    commitment  open    → fulfilled | breached     found by the accepting authority

An outcome is final: nothing moves a case out of it, so a second decision is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinyong.errors import Conflict


@dataclass(frozen=True)
class Lifecycle:
    """One kind of case: its name (``objection``), what it is called, and its moves."""

    name: str
    noun_zh: str
    noun_en: str
    start: str
    #: State → the states a case in it may move to (states not named here are final).
    moves: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def states(self) -> tuple[str, ...]:
        """Every state, the starting one first."""
        found = [self.start]
        for state, targets in self.moves:
            found += [s for s in (state, *targets) if s not in found]
        return tuple(found)

    def allowed(self, state: str) -> tuple[str, ...]:
        """The states a case in ``state`` may move to (none from an outcome)."""
        return dict(self.moves).get(state, ())

    def check(self, case_id: int, state: str, to: str) -> None:
        """Refuse (``Conflict``) a move the lifecycle does not allow."""
        if to in self.allowed(state):
            return
        if to not in self.states:
            raise Conflict(
                f"{self.noun_zh}没有 {to} 状态 / no {self.noun_en} state is called {to!r} "
                f"({', '.join(self.states)})"
            )
        raise Conflict(
            f"{self.noun_zh} {case_id} 已是 {state}，不能改为 {to} / {self.noun_en} {case_id} "
            f"is {state}; it cannot become {to}"
        )


OBJECTION = Lifecycle(
    "objection", "异议", "objection", start="open", moves=(("open", ("upheld", "rejected")),)
)
REPAIR = Lifecycle(
    "repair",
    "修复申请",
    "repair application",
    start="pending",
    moves=(("pending", ("granted", "refused")),),
)
COMMITMENT = Lifecycle(
    "commitment",
    "承诺",
    "commitment",
    start="open",
    moves=(("open", ("fulfilled", "breached")),),
)
