"""Every data file the package needs ships in a wheel, not only in an editable install."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "xinyong"


def _package_dirs() -> list[Path]:
    return [p.parent for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts]


def test_every_data_file_matches_a_package_data_pattern() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns: list[str] = config["tool"]["setuptools"]["package-data"]["*"]
    packages = _package_dirs()
    missing = []
    for path in PACKAGE.rglob("*"):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        # The nearest enclosing package is the one whose package-data globs apply.
        owner = max((p for p in packages if p in path.parents), key=lambda p: len(p.parts))
        relative = path.relative_to(owner).as_posix()
        if not any(fnmatch(relative, pattern) for pattern in patterns):
            missing.append(path.relative_to(ROOT).as_posix())
    assert missing == [], f"not shipped in a wheel: {missing}"
