"""``xinyong demo`` and ``xinyong serve`` from the command line (without starting a server)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from xinyong.cli import app

runner = CliRunner()
#: ``serve`` refuses to start without it; these tests are about what it checks next.
SECRET = {"XINYONG_SECRET": "a-secret-of-at-least-32-characters-for-tests"}


def test_demo_builds_once_then_reuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--db", url, "--subjects", "300", "--no-serve", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    built = json.loads(first.output)
    assert built["built"] is True
    assert built["subjects"] > 100
    assert built["summary"]["rejected"] == 0
    assert {"operator", "department", "agency", "subject"} <= {x["role"] for x in built["logins"]}
    again = json.loads(runner.invoke(app, args).output)
    assert again["built"] is False
    assert again["subjects"] == built["subjects"]
    fresh = json.loads(runner.invoke(app, [*args, "--fresh"]).output)
    assert fresh["built"] is True


def test_serve_refuses_a_missing_database_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'none.db'}"], env=SECRET)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert f"no database file at {tmp_path / 'none.db'}" in line
    assert "run `xinyong init` first" in line, "it says what to do"
    assert not (tmp_path / "none.db").exists(), "serve does not make an empty store"


def test_port_in_use_is_bad_usage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--db", url, "--port", str(port)], env=SECRET)
    assert result.exit_code == 2
    assert str(port) in result.output
