"""``xinyong audit verify`` and ``xinyong audit log``: exit codes, output, unusable databases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update
from typer.testing import CliRunner

from xinyong.audit import AuditEvent, record
from xinyong.audit.tables import audit_events
from xinyong.cli import app
from xinyong.store.engine import connect

runner = CliRunner()
SUBJECT = "91110000100000000A"


def fill(engine: Engine, n: int = 3) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with engine.begin() as conn:
            events.append(
                record(
                    conn,
                    actor=f"railway-{i}",
                    role="agency",
                    purpose="购票核查 / ticket check",
                    subject=SUBJECT if i % 2 == 0 else "110101199003077777",
                    action="check",
                    resource="buy_train_ticket",
                    outcome="deny",
                    at=datetime(2025, 2, 5, 9, i, tzinfo=UTC),
                )
            )
    return events


def test_verify_intact_prints_count_and_head(audit_engine: Engine, db_url: str) -> None:
    events = fill(audit_engine)
    result = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    assert events[-1].hash in result.output
    assert "intact" in result.output


def test_verify_json(audit_engine: Engine, db_url: str) -> None:
    events = fill(audit_engine)
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["ok"] is True
    assert body["count"] == 3
    assert body["head_hash"] == events[-1].hash
    assert body["first_broken"] is None


@pytest.mark.parametrize(
    ("statement", "broken", "reason"),
    [
        (update(audit_events).where(audit_events.c.id == 2).values(outcome="permit"), 2, "changed"),
        (delete(audit_events).where(audit_events.c.id == 2), 2, "deleted"),
    ],
)
def test_verify_broken_exits_1_naming_the_event(
    audit_engine: Engine, db_url: str, statement: object, broken: int, reason: str
) -> None:
    fill(audit_engine)
    with audit_engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]
    result = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 1
    assert f"event {broken} ({reason})" in result.output
    as_json = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert as_json.exit_code == 1
    body = json.loads(as_json.output)
    assert (body["ok"], body["first_broken"], body["reason"]) == (False, broken, reason)


def test_verify_against_anchor(audit_engine: Engine, db_url: str) -> None:
    events = fill(audit_engine)
    good = runner.invoke(
        app, ["audit", "verify", "--db", db_url, "--anchor", f"2:{events[1].hash}"]
    )
    assert good.exit_code == 0
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchor", f"2:{'a' * 64}"])
    assert bad.exit_code == 1
    assert "(anchor)" in bad.output


@pytest.mark.parametrize("anchor", ["2", "x:" + "a" * 64, "2:abc", "2:" + "g" * 64])
def test_verify_bad_anchor_is_usage_error(audit_engine: Engine, db_url: str, anchor: str) -> None:
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchor", anchor])
    assert result.exit_code == 2
    assert "ID:HASH" in result.output


def test_log_lists_one_subjects_events(audit_engine: Engine, db_url: str) -> None:
    fill(audit_engine, 4)
    result = runner.invoke(app, ["audit", "log", SUBJECT, "--db", db_url, "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert [e["id"] for e in body] == [1, 3]
    assert {e["subject"] for e in body} == {SUBJECT}
    assert body[0]["purpose"] == "购票核查 / ticket check"
    assert body[0]["at"] == "2025-02-05T09:00:00.000000Z"
    table = runner.invoke(app, ["audit", "log", "--db", db_url, "--limit", "2"])
    assert table.exit_code == 0
    assert "railway-3" in table.output
    assert "railway-1" not in table.output
    empty = runner.invoke(app, ["audit", "log", "nobody", "--db", db_url])
    assert empty.exit_code == 0
    assert "no audit events" in empty.output


UNUSABLE = {
    "absent": "sqlite:///{tmp}/absent.db",
    "garbage": "sqlite:///{tmp}/garbage.db",
    "no audit tables": "sqlite:///{tmp}/empty.db",
    "unsupported": "mysql://nobody@127.0.0.1/x",
    "not a url": "not a url",
    "unreachable": "postgresql+psycopg://nobody@127.0.0.1:1/x",
}


@pytest.mark.parametrize("command", ["verify", "log"])
@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_unusable_databases_exit_2_in_one_line(tmp_path: Path, kind: str, command: str) -> None:
    (tmp_path / "garbage.db").write_bytes(b"\x00\xffnot a database at all" * 100)
    connect(f"sqlite:///{tmp_path / 'empty.db'}").dispose()
    url = UNUSABLE[kind].format(tmp=tmp_path)
    result = runner.invoke(app, ["audit", command, "--db", url])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("错误 / error:")
    assert not (tmp_path / "absent.db").exists()


def test_unusable_database_from_the_real_command_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "xinyong",
            "audit",
            "verify",
            "--db",
            f"sqlite:///{tmp_path}/garbage.db",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("错误 / error: ") and "cannot read the database" in line


def _example(command: str) -> list[str]:
    """The example line of ``xinyong audit COMMAND --help``, as arguments."""
    result = runner.invoke(app, ["audit", command, "--help"])
    assert result.exit_code == 0
    (line,) = [x for x in result.output.splitlines() if "Example: xinyong audit " + command in x]
    return line.split("Example: xinyong ", 1)[1].split()


def test_the_help_examples_work(sqlite_store_url: str, sqlite_engine: Engine) -> None:
    """Each command's help ends with an example; run on a store, with the anchor it elides
    filled in, each example does what it says."""
    events = fill(sqlite_engine, 3)
    log = _example("log")
    assert log[2] == SUBJECT and log[log.index("--db") + 1] == "sqlite:///xinyong.db"
    log[log.index("--db") + 1] = sqlite_store_url
    shown = runner.invoke(app, log)
    assert shown.exit_code == 0, shown.output
    assert [e["id"] for e in json.loads(shown.stdout)] == [1, 3], "the subject's events only"

    verify = _example("verify")
    verify[verify.index("--db") + 1] = sqlite_store_url
    anchor = verify.index("--anchor") + 1
    assert verify[anchor].startswith("1024:"), "a sequence number and a hash"
    verify[anchor] = f"2:{events[1].hash}"
    checked = runner.invoke(app, verify)
    assert checked.exit_code == 0, checked.output
    assert "intact" in checked.output and events[-1].hash in checked.output


def test_database_made_by_init_is_verifiable(db_url: str) -> None:
    # The migration's audit tables (store/migrations/versions/0002_audit.py), not create_all.
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    empty = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert empty.exit_code == 0
    assert json.loads(empty.output)["count"] == 0
    engine = connect(db_url)
    try:
        events = fill(engine, 3)
    finally:
        engine.dispose()
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["head_hash"] == events[-1].hash
