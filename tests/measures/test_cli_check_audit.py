"""A check from the command line is a read of the subject's file: audited in the hash chain as
the operator's read, with its purpose, in the decision's transaction (issue 16: every read
audited, nothing answered and forgotten)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.measures.conftest import PERSON_D, Load, defaulter, runner

from xinyong.audit import list_events
from xinyong.audit.verify import verify
from xinyong.cli import app
from xinyong.measures import decisions as decisions_module
from xinyong.measures.tables import decisions


def _events_about(engine: Engine, code: str) -> list[Any]:
    with engine.connect() as conn:
        return list(list_events(conn, subject=code))


def test_a_cli_check_is_in_the_subjects_who_looked_list(
    db_url: str, engine: Engine, load: Load
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    args = ["check", PERSON_D, "buy_flight_ticket", "--at", "2025-01-01", "--db", db_url]
    assert runner.invoke(app, args).exit_code == 0
    given = runner.invoke(app, [*args, "--purpose", "售票核查", "--by", "clerk-7", "--json"])
    assert given.exit_code == 0, given.output

    first, second = _events_about(engine, PERSON_D)
    assert (first.role, first.action, first.purpose) == (
        "operator",
        "check:buy_flight_ticket",
        "命令行查询 / command-line query",
    )
    assert first.actor.startswith("cli:") and first.outcome == "deny"
    assert (second.actor, second.purpose, second.outcome) == ("clerk-7", "售票核查", "deny")
    # The event names the decision it audits, and the chain stays whole.
    assert second.resource in given.stdout
    with engine.connect() as conn:
        assert verify(conn).ok

    # `xinyong audit log CODE` (the subject's "who looked") shows both reads.
    shown = runner.invoke(app, ["audit", "log", PERSON_D, "--db", db_url])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.count("check:buy_flight_ticket") == 2 and "售票核查" in shown.stdout


@pytest.mark.parametrize("purpose", ["", "   "])
def test_an_empty_purpose_is_refused_and_nothing_is_logged(
    db_url: str, engine: Engine, purpose: str
) -> None:
    got = runner.invoke(
        app, ["check", PERSON_D, "buy_flight_ticket", "--purpose", purpose, "--db", db_url]
    )
    assert got.exit_code == 2
    assert "--purpose" in got.output and "Traceback" not in got.output
    assert _events_about(engine, PERSON_D) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 0


def test_no_audit_no_answer(
    db_url: str, engine: Engine, load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the audit event cannot be written, the decision is not given and not logged."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(decisions_module, "record_event", broken)
    got = runner.invoke(app, ["check", PERSON_D, "buy_flight_ticket", "--json", "--db", db_url])
    assert got.exit_code != 0
    assert '"outcome"' not in got.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 0
    assert _events_about(engine, PERSON_D) == []
