"""Configuration: every ``XINYONG_*`` variable is read in one typed place and checked at start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.errors import ConfigurationError
from xinyong.settings import Settings, env_name, load

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_defaults_and_values_from_the_environment() -> None:
    defaults = load({})
    assert defaults.db is None and defaults.decision_log == "batched"
    assert defaults.oidc_subject_claim == "xinyong_subject" and not defaults.oidc_enabled
    given = load(
        {
            "XINYONG_RECORD_PARTITIONS": "64",
            "XINYONG_HTTPS": "1",
            "XINYONG_OIDC_ISSUER": "https://id.example.gov.cn/",
            "XINYONG_OIDC_CLIENT_ID": "xinyong",
            "OTHER": "ignored",
        }
    )
    assert given.record_partitions == 64 and given.https is True
    assert given.oidc_issuer == "https://id.example.gov.cn" and given.oidc_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("XINYONG_RECORD_PARTITIONS", "many"),
        ("XINYONG_RECORD_PARTITIONS", "0"),
        ("XINYONG_DECISION_LOG", "sometimes"),
        ("XINYONG_HTTPS", "perhaps"),
        ("XINYONG_OIDC_ISSUER", "id.example.gov.cn"),
        ("XINYONG_ROLES", "/no/such/roles.yaml"),
        ("XINYONG_LOG_FORMAT", "xml"),
        ("XINYONG_OIDC_CLIENT_ID", "xinyong-portal"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(
        ConfigurationError, match=name if "OIDC" not in name else "ISSUER"
    ) as caught:
        load({name: value})
    assert caught.value.bilingual().startswith("配置无效 / invalid configuration: ")


def test_a_bad_setting_stops_serve_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    result = runner.invoke(
        app,
        ["serve", "--db", url],
        env={"XINYONG_DECISION_LOG": "sometimes", "XINYONG_SECRET": "s3cret-never-shown"},
    )
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "XINYONG_DECISION_LOG" in line and "s3cret" not in line


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    for env in ({"XINYONG_SECRET": ""}, {"XINYONG_SECRET": "too-short"}):
        result = runner.invoke(app, ["serve", "--db", url], env=env)
        assert result.exit_code == 2, result.output
        (line,) = result.output.strip().splitlines()
        assert "XINYONG_SECRET" in line and " / " in line, "one line, Chinese and English"


def test_no_module_reads_a_xinyong_variable_itself() -> None:
    """``os.environ``/``getenv`` with a ``XINYONG_`` name appears in settings.py only (the CLI's
    typer options name theirs as ``envvar=``, also listed in the settings)."""
    constants = "|".join(re.findall(r"^(\w+) = \"XINYONG_", _source(), re.MULTILINE))
    pattern = re.compile(
        rf"(environ\b[^\n]*XINYONG_|getenv\([^)]*XINYONG_|environ\W+({constants})\b)"
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "xinyong").rglob("*.py")
        if path.name != "settings.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    named = set(re.findall(r"XINYONG_[A-Z_]+", _source()))
    fields = {env_name(f) for f in Settings.model_fields}
    assert named - fields <= {"XINYONG_"}, "every XINYONG_ name the code uses is a setting"


def _source() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "src" / "xinyong").rglob("*.py")
        if p.name != "settings.py"
    )
