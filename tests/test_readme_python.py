"""The README's "From Python" snippet runs as written and prints what its comments say."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_snippet() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## From Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "README.md lost its From Python snippet"
    return found.group(1)


def test_the_readme_python_snippet_runs_as_written(tmp_path: Path) -> None:
    """Run from a copy of the repository's examples (the snippet reads one, and writes
    xinyong.db where it runs), in a fresh interpreter with no catalog folders set."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    snippet = readme_snippet()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    expected = [
        line.split("#", 1)[1].strip()
        for line in snippet.splitlines()
        if line.lstrip().startswith("print(") and "#" in line
    ]
    assert done.stdout.splitlines() == expected
    assert (tmp_path / "xinyong.db").is_file()


def test_import_xinyong_stays_cheap() -> None:
    """``import xinyong`` loads the facade on first use only: the CLI's --version stays fast."""
    code = "import sys, xinyong; print(sorted(m for m in sys.modules if m.startswith('xinyong')))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['xinyong']"
