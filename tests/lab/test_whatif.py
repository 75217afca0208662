"""Policy what-ifs: changes and overlays reach the lists and measures; bad input is refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.errors import UnusableInput
from xinyong.lab.errors import ErrorSpec
from xinyong.lab.harm import LabRun, simulate
from xinyong.lab.whatif import apply, load_overlay, parse_change, whatif


@pytest.fixture(scope="module")
def run() -> LabRun:
    return simulate(
        catalog=default_catalog(), subjects=30_000, seed=4, spec=ErrorSpec.parse("none")
    )


def test_no_change_affects_nobody(run: LabRun) -> None:
    result = whatif(run, run.catalog, points=3)
    assert result.newly_restricted == result.released == 0
    assert all(p["baseline"] == p["changed"] for p in result.series)
    assert result.series[-1]["baseline"] > 0


def test_longer_list_period_restricts_more_people_later(run: LabRun) -> None:
    catalog, caps = apply(run.catalog, [parse_change("list judgment_defaulters period=5y")])
    assert caps == {}
    assert str(catalog.lists["judgment_defaulters"].period.length) == "5y"
    result = whatif(run, catalog, points=4)
    assert result.newly_restricted > 0
    # Two years in, nothing has yet expired under either rule: the worlds agree.
    early = whatif(run, catalog, at=date(2020, 12, 31), points=2)
    assert early.newly_restricted == 0
    assert sum(r["newly_restricted"] for r in result.by_region) == result.newly_restricted
    assert sum(k["newly_restricted"] for k in result.by_kind.values()) == result.newly_restricted
    assert all(len(r["region"]) == 6 and r["name"] for r in result.by_region)


def test_measure_off_and_capped_release_only_people(run: LabRun) -> None:
    for text in (
        "measure serious_dishonesty_flight_ban off",
        "measure serious_dishonesty_flight_ban period=1y",
    ):
        change = parse_change(text)
        catalog, caps = apply(run.catalog, [change])
        result = whatif(run, catalog, caps=caps, changes=[text], points=3)
        assert result.released > 0 and result.newly_restricted == 0
        assert set(result.by_kind) == {"individual"}  # the measure applies to individuals only
    catalog, _ = apply(run.catalog, [parse_change("measure serious_dishonesty_flight_ban off")])
    assert "serious_dishonesty_flight_ban" not in catalog.measures


def test_overlay_extends_a_measure_to_enterprises(run: LabRun, tmp_path: Path) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(
        "measures:\n  serious_dishonesty_flight_ban:\n"
        "    applies_to: [individual, enterprise, sole_trader]\n",
        encoding="utf-8",
    )
    catalog = load_overlay(run.catalog, path)
    result = whatif(run, catalog, points=2)
    assert result.newly_restricted > 0 and result.released == 0
    assert set(result.by_kind) <= {"enterprise", "sole_trader"}


@pytest.mark.parametrize(
    "text",
    [
        "list judgment_defaulters",
        "lists judgment_defaulters period=3y",
        "list judgment_defaulters period=three",
        "list judgment_defaulters effect=deny",
        "measure nope period=1y",
        "list nope period=1y",
        "measure serious_dishonesty_flight_ban lists=no_such_list",
        "measure serious_dishonesty_flight_ban applies_to=aliens",
    ],
)
def test_bad_changes_are_refused(run: LabRun, text: str) -> None:
    with pytest.raises(UnusableInput):
        apply(run.catalog, [parse_change(text)])


@pytest.mark.parametrize(
    "content",
    [
        "records: {}\n",
        "measures: [1, 2]\n",
        "measures:\n  serious_dishonesty_flight_ban:\n    legal_basis: []\n",
        "lists: {x: 1}\n",
        ": : :\n",
    ],
)
def test_bad_overlays_are_refused(run: LabRun, tmp_path: Path, content: str) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnusableInput):
        load_overlay(run.catalog, path)


runner = CliRunner()


def test_cli_whatif_json() -> None:
    result = runner.invoke(
        app,
        [
            "lab", "whatif", "--change", "list judgment_defaulters period=5y",
            "--subjects", "5000", "--seed", "1", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changes"] == ["list judgment_defaulters period=5y"]
    for key in ("series", "by_region", "by_kind", "newly_restricted", "released"):
        assert key in data


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--change", "list x"],
        ["--overlay", "/nonexistent.yaml"],
        ["--change", "measure nope off"],
    ],
)
def test_cli_whatif_bad_usage(args: list[str]) -> None:
    result = runner.invoke(app, ["lab", "whatif", "--subjects", "200", *args])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
