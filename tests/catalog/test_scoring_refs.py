"""The loader refuses, at load, a scoring model whose rules name a record type, field or value
the catalog does not have: file, line and entity, as for lists and measures."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.catalog import load_catalog
from xinyong.cli import app
from xinyong.errors import CatalogError

MODEL = """\
scoring_models:
  town_points:
    name_zh: 镇信用积分
    name_en: town credit points
    authority: government_bodies
    legal_basis: [{instrument: rongcheng_credit_points_measures}]
    subject_kinds: [individual]
    example: true
    spec:
      kind: points
      base: 100
      rules:
        - id: defaulter
          record_type: judgment_defaulter
          points: -40
          legal_basis: [{instrument: rongcheng_credit_points_measures}]
          reason_zh: 失信被执行人
          reason_en: judgment defaulter
        - id: penalty
          record_type: admin_penalty
          where: {severity: serious}
          points: -20
          legal_basis: [{instrument: rongcheng_credit_points_measures}]
          reason_zh: 严重行政处罚
          reason_en: serious administrative penalty
      grade_rules:
        - when: {record_type: tax_credit_rating, where: {grade: D}}
          at_most: B
          legal_basis: [{instrument: rongcheng_credit_points_measures}]
          reason_zh: 纳税信用 D 级
          reason_en: tax credit grade D
      bands:
        - {grade: A, min: 90, label_zh: 好, label_en: good}
        - {grade: B, label_zh: 差, label_en: poor}
"""


def write(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "operator"
    directory.mkdir()
    (directory / "town.yaml").write_text(text, encoding="utf-8")
    return directory


def test_a_well_formed_model_loads(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, MODEL)])
    assert catalog.scoring_models["town_points"].origin is not None


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        # A rule naming a record type the catalog does not have.
        (
            "record_type: judgment_defaulter",
            "record_type: judgement_defaulter",
            14,
            ["'judgement_defaulter'", "unknown record_type"],
        ),
        # A rule's condition on a field the record type does not have.
        (
            "where: {severity: serious}",
            "where: {seriousness: serious}",
            21,
            ["spec.rules.1", "seriousness", "not a field of record type admin_penalty"],
        ),
        # A rule's condition on an enum value the field does not have.
        (
            "where: {severity: serious}",
            "where: {severity: grave}",
            21,
            ["spec.rules.1", "'grave'", "not a value of field severity"],
        ),
        # A grade rule on an unknown record type and on an unknown field.
        (
            "when: {record_type: tax_credit_rating, where: {grade: D}}",
            "when: {record_type: tax_rating, where: {grade: D}}",
            27,
            ["tax_rating", "unknown record_type"],
        ),
        (
            "when: {record_type: tax_credit_rating, where: {grade: D}}",
            "when: {record_type: tax_credit_rating, where: {level: D}}",
            27,
            ["spec.grade_rules.0.when", "level"],
        ),
    ],
)
def test_dangling_references_are_refused_with_file_line_entity(
    tmp_path: Path, old: str, new: str, line: int, words: list[str]
) -> None:
    assert MODEL.count(old) == 1
    directory = write(tmp_path, MODEL.replace(old, new))
    with pytest.raises(CatalogError) as info:
        load_catalog([directory])
    err = info.value
    assert err.file == str(directory / "town.yaml")
    assert err.entity == "scoring_model:town_points"
    assert err.line == line, str(err)
    message = str(err)
    assert f"{directory / 'town.yaml'}:{line} [scoring_model:town_points]: " in message
    for word in words:
        assert word in message


def test_catalog_check_refuses_the_file_with_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    directory = write(tmp_path, MODEL.replace("severity: serious", "severity: grave"))
    result = CliRunner().invoke(app, ["catalog", "check", str(directory)])
    assert result.exit_code == 2, result.output
    assert "town.yaml:21" in result.stderr and "grave" in result.stderr
