"""The command shell itself: help, version, and bad usage without tracebacks."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from xinyong import __version__
from xinyong.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"xinyong {__version__}"


def test_help_lists_command_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "code" in result.output


def test_unknown_command_is_usage_error_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xinyong", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
