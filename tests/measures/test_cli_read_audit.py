"""Every read of a subject's file from the command line is in that subject's "who looked" list:
``xinyong screen`` (one event per subject matched), ``xinyong subject show`` and ``xinyong
report --as subject|agency``; and none of them answers when its audit cannot be written
(issue 16: every read audited, nothing answered and forgotten)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from tests.measures.conftest import ENTERPRISE, PERSON_A, PERSON_C, PERSON_D, Load, defaulter
from tests.measures.conftest import runner as cli

from xinyong.audit import events as audit_events
from xinyong.audit import list_events
from xinyong.audit.verify import verify
from xinyong.cli import app


def _who_looked(db_url: str, code: str) -> list[dict[str, Any]]:
    """The subject's own "who looked" list, as ``report --as subject`` shows it to them."""
    got = cli.invoke(app, ["report", code, "--as", "subject", "--format", "json", "--db", db_url])
    assert got.exit_code == 0, got.output
    queries: list[dict[str, Any]] = json.loads(got.stdout)["queries"]
    return queries


def _events(engine: Engine, code: str) -> list[Any]:
    with engine.connect() as conn:
        return list_events(conn, subject=code)


def _break_the_audit_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit tables cannot be written (as when the database refuses the write)."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("audit log unavailable"))

    monkeypatch.setattr(audit_events, "_append", refused)


@pytest.fixture()
def listed(load: Load) -> None:
    """PERSON_D is a judgment defaulter; ENTERPRISE and PERSON_A are known (a registration)."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    load("judgment_defaulter", [defaulter(ENTERPRISE, "某公司", "（2024）浙0106执2号")])


def _codes_file(tmp_path: Path, codes: list[str]) -> Path:
    path = tmp_path / "buyers.csv"
    path.write_text("code\n" + "\n".join(codes) + "\n", encoding="utf-8")
    return path


def test_screen_audits_each_subject_matched_once(
    db_url: str, engine: Engine, listed: None, tmp_path: Path
) -> None:
    # PERSON_D twice, ENTERPRISE by its organisation code, an unknown person, junk.
    codes = [PERSON_D, PERSON_D, ENTERPRISE[8:17], PERSON_C, "not-a-code"]
    out = tmp_path / "out.csv"
    args = [
        "screen",
        str(_codes_file(tmp_path, codes)),
        "--action",
        "buy_flight_ticket",
        "--at",
        "2025-01-01",
    ]
    got = cli.invoke(
        app, [*args, "--out", str(out), "--purpose", "购票核查", "--by", "clerk-9", "--db", db_url]
    )
    assert got.exit_code == 0, got.output
    assert out.read_text(encoding="utf-8").count("deny") == 3

    (person,) = _events(engine, PERSON_D)
    assert (person.actor, person.role, person.purpose) == ("clerk-9", "operator", "购票核查")
    assert (person.action, person.outcome) == ("screen:buy_flight_ticket", "deny")
    assert person.detail["file"] == "buyers.csv"
    (firm,) = _events(engine, ENTERPRISE)  # found by the organisation code inside its USCC
    assert firm.outcome == "deny"
    assert _events(engine, PERSON_C) == []  # no one's file: a code the store does not hold
    with engine.connect() as conn:
        assert verify(conn).ok
    assert [q["action"] for q in _who_looked(db_url, PERSON_D)][:1] == ["screen:buy_flight_ticket"]


def test_screen_defaults_to_the_operators_command_line_read(
    db_url: str, engine: Engine, listed: None, tmp_path: Path
) -> None:
    args = [
        "screen",
        str(_codes_file(tmp_path, [PERSON_D])),
        "--action",
        "buy_train_ticket",
        "--at",
        "2025-01-01",
    ]
    got = cli.invoke(app, [*args, "--out", str(tmp_path / "o.csv"), "--db", db_url])
    assert got.exit_code == 0, got.output
    (event,) = _events(engine, PERSON_D)
    assert event.actor.startswith("cli:") and event.purpose == "命令行查询 / command-line query"
    empty = cli.invoke(app, [*args, "--out", str(tmp_path / "e.csv"), "--purpose", " "])
    assert empty.exit_code == 2 and "--purpose" in empty.output
    assert not (tmp_path / "e.csv").exists()


def test_screen_without_its_audit_writes_no_result(
    db_url: str, engine: Engine, listed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_the_audit_log(monkeypatch)
    results = tmp_path / "results"
    results.mkdir()
    out = results / "out.csv"
    args = [
        "screen",
        str(_codes_file(tmp_path, [PERSON_D])),
        "--action",
        "buy_flight_ticket",
        "--at",
        "2025-01-01",
    ]
    got = cli.invoke(app, [*args, "--out", str(out), "--db", db_url])
    assert got.exit_code == 2, got.output
    assert "deny" not in got.stdout and "Traceback" not in got.output
    assert list(results.iterdir()) == []  # nothing answered, no partial file left
    monkeypatch.undo()
    assert _events(engine, PERSON_D) == []


def test_subject_show_is_in_the_who_looked_list(db_url: str, engine: Engine, listed: None) -> None:
    shown = cli.invoke(app, ["subject", "show", PERSON_D, "--json", "--db", db_url])
    assert shown.exit_code == 0, shown.output
    given = ["subject", "show", PERSON_D, "--purpose", "异议核实", "--by", "ops-2", "--db", db_url]
    assert cli.invoke(app, given).exit_code == 0
    first, second = _events(engine, PERSON_D)
    assert (first.role, first.action) == ("operator", "subject.show")
    assert first.actor.startswith("cli:") and first.purpose == "命令行查询 / command-line query"
    assert (second.actor, second.purpose) == ("ops-2", "异议核实")
    looked = _who_looked(db_url, PERSON_D)
    assert [(q["actor"], q["action"]) for q in looked[:2]] == [
        (first.actor, "subject.show"),
        ("ops-2", "subject.show"),
    ]
    # An unknown subject: no file read, nothing audited (exit 1 as before).
    assert cli.invoke(app, ["subject", "show", PERSON_C, "--db", db_url]).exit_code == 1
    assert _events(engine, PERSON_C) == []
    empty = cli.invoke(app, ["subject", "show", PERSON_D, "--purpose", "", "--db", db_url])
    assert empty.exit_code == 2 and PERSON_D not in empty.stdout


def test_subject_show_without_its_audit_shows_nothing(
    db_url: str, engine: Engine, listed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_the_audit_log(monkeypatch)
    got = cli.invoke(app, ["subject", "show", PERSON_D, "--json", "--db", db_url])
    assert got.exit_code == 2, got.output
    assert "王五" not in got.stdout and "identifiers" not in got.stdout
    monkeypatch.undo()
    assert _events(engine, PERSON_D) == []


@pytest.mark.parametrize("audience", ["agency", "subject"])
def test_report_as_agency_or_subject_is_audited_or_not_given(
    db_url: str, engine: Engine, listed: None, audience: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [
        "report",
        PERSON_D,
        "--as",
        audience,
        "--format",
        "json",
        "--at",
        "2025-01-01",
        "--db",
        db_url,
    ]
    got = cli.invoke(app, args)
    assert got.exit_code == 0, got.output
    (event,) = _events(engine, PERSON_D)
    assert event.role == audience and event.actor.startswith("cli:")
    default = "命令行查询 / command-line query" if audience == "agency" else "本人查询 / own report"
    assert event.purpose == default
    assert any(q["role"] == audience for q in _who_looked(db_url, PERSON_D))

    _break_the_audit_log(monkeypatch)
    failed = cli.invoke(app, args)
    assert failed.exit_code == 2, failed.output
    assert "王五" not in failed.stdout and '"records"' not in failed.stdout


def test_a_public_report_reads_nothing_non_public(
    db_url: str, engine: Engine, listed: None
) -> None:
    got = cli.invoke(app, ["report", ENTERPRISE, "--format", "json", "--db", db_url])
    assert got.exit_code == 0, got.output
    assert _events(engine, ENTERPRISE) == []
    assert _events(engine, PERSON_A) == []


def test_a_check_by_another_of_its_codes_is_in_the_who_looked_list(
    db_url: str, engine: Engine, listed: None
) -> None:
    """A check names the code it was given; the subject's list gathers every code it holds."""
    org = ENTERPRISE[8:17]
    args = ["check", org, "buy_flight_ticket", "--at", "2025-01-01", "--by", "clerk-3"]
    assert cli.invoke(app, [*args, "--db", db_url]).exit_code == 0
    assert [e.subject for e in _events(engine, org)] == [org]
    looked = _who_looked(db_url, ENTERPRISE)
    assert ("clerk-3", "check:buy_flight_ticket") in [(q["actor"], q["action"]) for q in looked]
