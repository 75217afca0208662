"""Harm per linking policy: code-only never reaches an innocent by linking; name policies do;
missed restrictions are blamed on their errors; the arithmetic agrees with the real pipeline;
``xinyong lab harm`` keeps its contract."""

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
from xinyong.lab.harm import (
    POLICIES,
    LabRun,
    Row,
    entries,
    evaluate,
    link_rows,
    parse_policies,
    restrictions,
    run_pipeline,
    simulate,
    window,
)

AT = date(2025, 12, 31)
#: High rates so a small population shows every effect.
HEAVY = ErrorSpec.parse(
    "wrong_digit=0.1,transposition=0.05,name_only=0.1,namesake=0.05,stale=0.05,duplicate=0.05"
)


@pytest.fixture(scope="module")
def run() -> LabRun:
    return simulate(catalog=default_catalog(), subjects=40_000, seed=3, spec=HEAVY)


def test_code_only_never_wrongly_restricts_by_linking(run: LabRun) -> None:
    (result,), _ = evaluate(run, ["code_only"], AT)
    assert result.wrongly_restricted == 0
    assert result.wrongly_restricted_individuals == 0
    # Every code-only link carries the subject's own code, letter for letter.
    for link in link_rows(run.population, run.observed, "code_only"):
        assert run.observed[link.row].values["subject_code"] == run.population.code[link.subject_id]
    # Namesake errors put the wrong valid code on a record: that harm is the source's, and shows.
    assert run.error_counts()["namesake"] > 0
    assert result.wrongly_restricted_by_source > 0
    assert result.by_error["namesake"]["wrongly_restricted"] > 0


def test_name_fuzzy_hurts_namesakes(run: LabRun) -> None:
    results, _ = evaluate(run, ["code_only", "name_fuzzy"], AT)
    code_only, fuzzy = results
    assert fuzzy.wrongly_restricted > 0
    assert fuzzy.wrongly_restricted_individuals > 0
    assert fuzzy.counterfactual and not code_only.counterfactual
    # It finds more of the people it should restrict, at the price of innocents.
    assert fuzzy.missed < code_only.missed
    names = {run.population.name[s] for s in range(1, run.population.size + 1)}
    assert len(names) < run.population.size  # namesakes exist


def test_name_and_birthdate_matches_a_namesake_born_the_same_day(run: LabRun) -> None:
    pop = run.population
    # Two people with the same name and birth date: a record with a broken code for one of
    # them reaches both under name_and_birthdate, neither under code_only.
    first = next(s for s in range(1, pop.size + 1) if pop.kind[s] == "individual")
    twin = next(s for s in range(first + 1, pop.size + 1) if pop.kind[s] == "individual")
    pop.name[twin], pop.birth[twin] = pop.name[first], pop.birth[first]
    code = pop.code[first]
    broken = code[:-1] + ("0" if code[-1] != "0" else "1")
    row = Row(
        0,
        "judgment_defaulter",
        {"subject_code": broken, "subject_name": pop.name[first], "decided_on": AT},
        first,
        "wrong_digit",
        ("judgment_defaulter", 0),
    )
    try:
        assert link_rows(pop, [row], "code_only") == []
        matched = {link.subject_id for link in link_rows(pop, [row], "name_and_birthdate")}
        assert matched >= {first, twin}
        fuzzy = {link.subject_id for link in link_rows(pop, [row], "name_fuzzy")}
        assert fuzzy >= {first, twin}
    finally:
        pop.name[twin] = pop.people.column("name")[twin - 1].as_py()
        pop.birth[twin] = pop.people.column("birth_date")[twin - 1].as_py()


def test_missed_restrictions_are_blamed_on_wrong_digits(run: LabRun) -> None:
    (result,), _ = evaluate(run, ["code_only"], AT)
    assert result.missed > 0
    assert result.by_error["wrong_digit"]["missed"] > 0
    assert result.by_error["name_only"]["missed"] > 0
    assert result.by_error["duplicate"]["wrongly_restricted"] == 0
    assert result.multiplier > 1
    assert result.objections_needed >= result.wrongly_restricted_by_source


def test_no_errors_no_harm() -> None:
    clean = simulate(
        catalog=default_catalog(), subjects=5_000, seed=1, spec=ErrorSpec.parse("none")
    )
    results, series = evaluate(clean, list(POLICIES), AT, series_points=3)
    for result in results:
        assert result.wrongly_restricted == result.missed == result.overdue == 0
        assert result.restricted == result.truly_restricted > 0
    assert [len(points) for points in series.values()] == [3, 3, 3]


def test_seeded_runs_repeat() -> None:
    one = simulate(catalog=default_catalog(), subjects=3_000, seed=5, spec=HEAVY)
    two = simulate(catalog=default_catalog(), subjects=3_000, seed=5, spec=HEAVY)
    assert [r.values for r in one.observed] == [r.values for r in two.observed]
    assert evaluate(one, ["name_fuzzy"], AT)[0] == evaluate(two, ["name_fuzzy"], AT)[0]


def test_windows_follow_the_catalog(run: LabRun) -> None:
    lists = run.catalog.lists
    start = date(2020, 3, 1)
    assert window(lists["judgment_defaulters"], {"decided_on": start}) == (start, date(2022, 3, 1))
    assert window(
        lists["judgment_defaulters"], {"decided_on": start, "ground": "refuse_despite_ability"}
    ) == (start, None)
    lifted = date(2021, 1, 1)
    assert window(lists["consumption_restricted"], {"decided_on": start, "lifted_on": lifted}) == (
        start,
        date(2020, 12, 31),
    )
    assert window(lists["consumption_restricted"], {"published_on": start}) == (start, None)
    assert window(lists["consumption_restricted"], {}) is None


@pytest.mark.parametrize("bad", ["everyone", "code_only,names"])
def test_bad_policies_are_refused(bad: str) -> None:
    with pytest.raises(UnusableInput):
        parse_policies([bad])


def test_policies_parse_in_order() -> None:
    assert parse_policies([]) == ["code_only"]
    assert parse_policies(["all"]) == list(POLICIES)
    assert parse_policies(["name_fuzzy", "code_only"]) == ["code_only", "name_fuzzy"]


def test_arithmetic_agrees_with_the_real_pipeline_and_decisions(
    sqlite_store_url: str, tmp_path: Path
) -> None:
    small = simulate(catalog=default_catalog(), subjects=4_000, seed=11, spec=HEAVY)
    real = run_pipeline(small, sqlite_store_url, tmp_path / "rows", AT)
    mine = sorted(
        link_rows(small.population, small.observed, "code_only"),
        key=lambda link: (link.row, link.subject_id),
    )
    assert len(real.links) > 100
    assert [(x.row, x.subject_id) for x in real.links] == [(x.row, x.subject_id) for x in mine]
    # Rows whose code was broken or left out are linked by neither.
    broken = {r.index for r in small.observed if r.error in ("wrong_digit", "name_only")}
    assert broken and not broken & {x.row for x in real.links}
    # The restriction index and the decisions match the arithmetic's measures.
    derived = entries(small.catalog, small.observed, mine)
    pairs = {
        (x.subject_id, x.measure_id)
        for x in restrictions(small.catalog, small.population, [e for e in derived if e.holds(AT)])
    }
    assert real.pairs and real.pairs == pairs
    assert real.restricted == {s for s, _ in pairs}
    assert real.decisions > len(real.restricted)


runner = CliRunner()


def test_cli_json_one_policy_is_an_object(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["lab", "harm", "--subjects", "3000", "--seed", "2", "--json", "--errors", "name_only=0.1"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    for key in ("policy", "subjects", "wrongly_restricted", "missed", "multiplier"):
        assert key in data
    assert data["policy"] == "code_only" and data["subjects"] == 3000
    assert data["wrongly_restricted"] == 0


def test_cli_json_several_policies_is_a_list_and_html_is_written(tmp_path: Path) -> None:
    out = tmp_path / "harm.html"
    result = runner.invoke(
        app,
        [
            "lab",
            "harm",
            "--subjects",
            "3000",
            "--seed",
            "2",
            "--policy",
            "all",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["policy"] for d in data] == list(POLICIES)
    page = out.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 2
    assert "反事实" in page and "counterfactual" in page


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--errors", "typo=0.1"], "unknown error kind 'typo' (choose from wrong_digit,"),
        (["--errors", "wrong_digit=2"], "the rate of wrong_digit must be between 0 and 1"),
        (["--policy", "names"], "unknown policy 'names' (choose from code_only,"),
        (["--subjects", "0"], "subjects must be 1 to 10,000,000"),
        (["--at", "yesterday"], "--at must be a date YYYY-MM-DD, not 'yesterday'"),
    ],
)
def test_cli_bad_usage_is_one_line_exit_2(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["lab", "harm", "--subjects", "100", "--json", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("错误 / error: ") and says in line, line


def test_report_without_a_cjk_font_falls_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xinyong.lab import report
    from xinyong.lab.harm import run_harm

    result = run_harm(
        catalog=default_catalog(),
        subjects=2_000,
        seed=1,
        spec=HEAVY,
        policies=POLICIES,
        series_points=2,
    )
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    page = report.render_html(result)
    assert "No CJK font found" in page
    assert page.count("data:image/png;base64,") == 3
