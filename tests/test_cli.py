"""The command shell itself: help, version, bad usage without tracebacks, and the lazy command
registry (``xinyong --help`` lists every command without importing them)."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer._click import Context
from typer.core import TyperGroup
from typer.testing import CliRunner

from xinyong import __version__
from xinyong.cli import COMMANDS, app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"xinyong {__version__}"


def test_every_command_answers_its_own_help() -> None:
    for name in COMMANDS:
        own = runner.invoke(app, [name, "--help"])
        assert own.exit_code == 0, (name, own.output)
        assert f"Usage: xinyong {name}" in own.output, name


def test_unknown_command_is_usage_error_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xinyong", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "No such command 'no-such-command'" in proc.stderr
    assert "--help' for help." in proc.stderr, "it says where to look"
    assert "Traceback" not in proc.stderr


def _title(help_text: str | None) -> str:
    """The Chinese head of a help text: what comes before the first ``/``."""
    return (help_text or "").split("/", 1)[0].strip()


def _root() -> TyperGroup:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def test_help_lists_every_command_with_its_line_on_one_line() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for name, entry in COMMANDS.items():
        row = [line for line in lines if line.startswith(f"│ {name} ")]
        if entry.alias_of is not None:
            assert row == [], f"{name} is an alias: it is not listed"
            continue
        assert len(row) == 1, name
        assert entry.help in row[0], f"{name}: its line is cut or wraps: {row[0]!r}"


def test_the_lazy_registry_and_the_real_commands_agree() -> None:
    root = _root()
    context = Context(root)
    assert root.list_commands(context) == list(COMMANDS)
    for name, entry in COMMANDS.items():
        command = root.get_command(context, name)
        assert command is not None and command.name == name
        if entry.alias_of is None:
            # The registry's line names the same thing as the command's own help.
            assert _title(entry.help) == _title(command.help), name
            assert not command.hidden
        else:
            target = root.get_command(context, entry.alias_of)
            assert target is not None and command.hidden
            assert f"xinyong {entry.alias_of}" in (command.help or "")
            assert [p.name for p in command.params] == [p.name for p in target.params]
    assert root.get_command(context, "no-such-command") is None


def test_version_and_help_do_not_import_the_library() -> None:
    code = (
        "import sys; from xinyong.cli import main; sys.argv = ['xinyong', '{arg}']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('xinyong.')))"
    )
    for arg in ("--version", "--help"):
        proc = subprocess.run(
            [sys.executable, "-c", code.format(arg=arg)],
            capture_output=True,
            text=True,
            check=True,
        )
        loaded = proc.stdout.strip().splitlines()[-1]
        assert loaded == "['xinyong.cli', 'xinyong.errors']", (arg, loaded)


def test_a_command_runs_from_its_lazily_imported_module() -> None:
    result = runner.invoke(app, ["code", "check", "91350100M000100Y43"])
    assert result.exit_code == 0 and "91350100M000100Y43" in result.stdout
    result = runner.invoke(app, ["scor"])
    assert result.exit_code == 2 and "score" in result.output  # suggests the registered name
