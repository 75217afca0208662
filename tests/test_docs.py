"""The docs keep up with the code: every CLI command and every API route is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from xinyong.api import create_app
from xinyong.cli import app as cli_app

ROOT = Path(__file__).resolve().parent.parent


def _docs_text() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def _commands() -> Iterator[str]:
    root = typer.main.get_command(cli_app)
    context = typer.Context(root)

    def walk(command: object, prefix: list[str]) -> Iterator[str]:
        list_commands = getattr(command, "list_commands", None)
        if list_commands is None:
            yield " ".join(prefix)
            return
        for name in list_commands(context):
            sub = command.get_command(context, name)  # type: ignore[attr-defined]
            if sub is not None and not getattr(sub, "hidden", False):
                yield from walk(sub, [*prefix, name])

    yield from walk(root, [])


def _routes() -> Iterator[tuple[str, str]]:
    schema = create_app().openapi()
    for path, operations in schema["paths"].items():
        for method in operations:
            yield method.upper(), path


COMMANDS = sorted(set(_commands()))
ROUTES = sorted(set(_routes()))


def test_there_are_commands_and_routes() -> None:
    assert "code check" in COMMANDS
    assert ("GET", "/api/v1/check") in ROUTES


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    # "xinyong report issue" may be documented as its default form "xinyong report SUBJECT".
    words = command.split()
    forms = [f"xinyong {command}"]
    if len(words) == 2:
        forms.append(f"xinyong {words[0]} ")
    text = _docs_text()
    assert any(form in text for form in forms[:1]) or (
        len(words) == 2 and re.search(rf"xinyong {words[0]}\b[^\n]*\b{words[1]}\b", text)
    ), f"`xinyong {command}` is not in README.md or docs/*.md"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_is_documented(method: str, path: str) -> None:
    text = _docs_text()
    bare = path.replace("/api/v1", "")
    assert path in text or f"/api/v1{bare}" in text, f"{method} {path} is not in the docs"
