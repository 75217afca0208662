"""docs/deploy.md keeps up with the settings and with deploy/: every setting with its default,
every unit file described, each unit restartable and reading the environment file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from xinyong.settings import Settings, env_name

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
UNITS = sorted((ROOT / "deploy").glob("*.service"))


def _shown(default: object) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "1" if default else "0"
    return str(default) if default != "" else "(empty)"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_guide_with_its_default(field: str) -> None:
    default = Settings.model_fields[field].default
    row = re.search(rf"^\| `{env_name(field)}` \| `([^`]*)` \|", GUIDE, re.MULTILINE)
    assert row is not None, f"{env_name(field)} is not in docs/deploy.md's settings table"
    assert row.group(1) == _shown(default), f"{env_name(field)}: the guide says {row.group(1)}"


def test_the_guide_lists_no_setting_that_does_not_exist() -> None:
    listed = set(re.findall(r"^\| `(XINYONG_[A-Z_]+)` \|", GUIDE, re.MULTILINE))
    assert listed == {env_name(f) for f in Settings.model_fields}


def test_the_units() -> None:
    assert {u.name for u in UNITS} == {
        "xinyong-api.service",
        "xinyong-feed.service",
        "xinyong-federation.service",
    }
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        assert f"`{unit.name}`" in GUIDE, unit.name
        assert re.search(r"^Restart=(always|on-failure)$", text, re.MULTILINE), unit.name
        assert "EnvironmentFile=/etc/xinyong/xinyong.env" in text, unit.name
        assert re.search(r"^ExecStart=/opt/xinyong/venv/bin/xinyong ", text, re.MULTILINE)


def test_the_example_environment_names_only_settings() -> None:
    example = (ROOT / "deploy" / "xinyong.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^(XINYONG_[A-Z_]+)=", example, re.MULTILINE))
    assert named and named <= {env_name(f) for f in Settings.model_fields}


def test_the_smoke_test_exists_and_ci_runs_it() -> None:
    smoke = ROOT / "scripts" / "smoke-deploy"
    assert os.access(smoke, os.X_OK)
    assert "bash scripts/smoke-deploy" in (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    text = smoke.read_text(encoding="utf-8")
    for step in ("createdb", "xinyong serve --workers 2 --host 127.0.0.1", "xinyong feed run"):
        assert step in text and step.split()[0] in GUIDE
