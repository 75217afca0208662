"""What the loader refuses, each with a tiny operator file: the message names file, line, entity."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from xinyong.catalog import Category, load_catalog
from xinyong.errors import CatalogError

RECORD_TYPE = """\
record_types:
  village_fine:
    name_zh: 村规罚款
    name_en: village fine
    category: admin_penalty
    authority: samr
    legal_basis:
      - {instrument: spc_defaulter_list_2017, article: 1}
    subject_kinds: [individual]
    disclosure: public
    sources: [samr]
"""

LIST = """\
lists:
  extra_list:
    name_zh: 附加名单
    name_en: extra list
    polarity: black
    authority: court
    legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]
    criteria:
      - {record_type: judgment_defaulter}
    period: {length: 2y}
"""

MEASURE = """\
measures:
  extra_measure:
    name_zh: 附加措施
    name_en: extra measure
    polarity: punishment
    lists: [judgment_defaulters]
    actions: [buy_flight_ticket]
    effect: deny
    legal_basis: [{instrument: spc_defaulter_list_2017, article: 8}]
    implementing_agency: caac
    applies_to: [individual]
"""


def write(directory: Path, text: str, name: str = "operator.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refuse(directory: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_catalog([directory])
    return info.value


def test_valid_operator_file_extends_the_catalog(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE + LIST + MEASURE)
    catalog = load_catalog([tmp_path])
    assert "village_fine" in catalog.record_types
    assert catalog.measures["extra_measure"].lists == ["judgment_defaulters"]
    assert catalog.version != load_catalog().version
    assert catalog.record_types["village_fine"].origin is not None
    assert catalog.record_types["village_fine"].origin.line == 2


@pytest.mark.parametrize("key", ["legal_basis", "authority"])
def test_record_type_without_legal_basis_or_authority(tmp_path: Path, key: str) -> None:
    text = "\n".join(
        line
        for line in RECORD_TYPE.splitlines()
        if not line.strip().startswith((f"{key}:", "- {instrument"))
        or (key == "authority" and line.strip().startswith("- {"))
    )
    path = write(tmp_path, text)
    err = refuse(tmp_path)
    assert err.file == str(path)
    assert err.line == 2
    assert err.entity == "record_type:village_fine"
    assert key in str(err)


def test_list_and_measure_without_legal_basis(tmp_path: Path) -> None:
    write(
        tmp_path,
        LIST.replace("    legal_basis: [{instrument: spc_defaulter_list_2017, article: 1}]\n", ""),
    )
    err = refuse(tmp_path)
    assert (err.entity, err.line) == ("list:extra_list", 2)
    assert "legal_basis" in str(err)
    write(tmp_path, MEASURE.replace("    implementing_agency: caac\n", ""))
    err = refuse(tmp_path)
    assert err.entity == "measure:extra_measure"
    assert "implementing_agency" in str(err)


def test_empty_legal_basis_is_missing_too(tmp_path: Path) -> None:
    write(
        tmp_path,
        RECORD_TYPE.replace(
            "    legal_basis:\n      - {instrument: spc_defaulter_list_2017, article: 1}\n",
            "    legal_basis: []\n",
        ),
    )
    err = refuse(tmp_path)
    assert err.line == 7
    assert "legal_basis" in str(err)


def test_unknown_instrument(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE.replace("spc_defaulter_list_2017", "village_rules"))
    err = refuse(tmp_path)
    assert (err.line, err.entity) == (8, "record_type:village_fine")
    assert "village_rules" in str(err)


def test_unknown_article_where_articles_are_listed(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE.replace("article: 1}", "article: 99}"))
    err = refuse(tmp_path)
    assert err.line == 8
    assert "99" in str(err)


def test_missing_article_where_articles_are_listed(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE.replace(", article: 1}", "}"))
    err = refuse(tmp_path)
    assert err.line == 8
    assert "article" in str(err)


def test_list_naming_an_unknown_record_type(tmp_path: Path) -> None:
    write(tmp_path, LIST.replace("{record_type: judgment_defaulter}", "{record_type: gossip}"))
    err = refuse(tmp_path)
    assert (err.line, err.entity) == (9, "list:extra_list")
    assert "gossip" in str(err)


def test_list_condition_on_an_unknown_field_or_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        LIST.replace(
            "{record_type: judgment_defaulter}",
            "{record_type: judgment_defaulter, where: {mood: bad}}",
        ),
    )
    assert "mood" in str(refuse(tmp_path))
    write(
        tmp_path,
        LIST.replace(
            "{record_type: judgment_defaulter}",
            "{record_type: judgment_defaulter, where: {ground: rude}}",
        ),
    )
    assert "rude" in str(refuse(tmp_path))


@pytest.mark.parametrize(
    ("old", "new", "line", "word"),
    [
        ("lists: [judgment_defaulters]", "lists: [neighbours_list]", 6, "neighbours_list"),
        ("actions: [buy_flight_ticket]", "actions: [post_online]", 7, "post_online"),
        ("implementing_agency: caac", "implementing_agency: landlord", 10, "landlord"),
    ],
)
def test_measure_dangling_references(
    tmp_path: Path, old: str, new: str, line: int, word: str
) -> None:
    write(tmp_path, MEASURE.replace(old, new))
    err = refuse(tmp_path)
    assert (err.line, err.entity) == (line, "measure:extra_measure")
    assert word in str(err)


def test_punishment_cannot_hang_on_a_red_list(tmp_path: Path) -> None:
    write(tmp_path, MEASURE.replace("[judgment_defaulters]", "[a_grade_taxpayers]"))
    assert "a_grade_taxpayers" in str(refuse(tmp_path))


def test_unknown_field_type(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE + "    fields:\n      - {name: mood, type: emotion}\n")
    err = refuse(tmp_path)
    assert err.line == 13
    assert "emotion" in str(err)


def test_enum_field_without_values(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE + "    fields:\n      - {name: level, type: enum}\n")
    assert "level" in str(refuse(tmp_path))


def test_common_field_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        RECORD_TYPE
        + "    fields:\n      - {name: subject_code, type: subject_code, required: true}\n",
    )
    assert "subject_code" in str(refuse(tmp_path))
    write(tmp_path, RECORD_TYPE + "    fields:\n      - {name: decided_on, type: string}\n")
    assert "decided_on" in str(refuse(tmp_path))


def test_a_header_naming_two_fields(tmp_path: Path) -> None:
    write(
        tmp_path,
        RECORD_TYPE
        + "    fields:\n      - {name: fine, type: decimal, aliases: [金额]}\n"
        + "      - {name: confiscated, type: decimal, aliases: [金额]}\n",
    )
    assert "金额" in str(refuse(tmp_path))


def test_unknown_key_is_a_typo_not_ignored(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE + "    disclosure_peroid: {max: 3y}\n")
    err = refuse(tmp_path)
    assert err.line == 12
    assert "disclosure_peroid" in str(err)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE, "a.yaml")
    second = write(tmp_path, RECORD_TYPE, "b.yaml")
    err = refuse(tmp_path)
    assert err.file == str(second)
    assert err.line == 2
    assert "a.yaml:2" in str(err)


def test_duplicate_id_with_the_shipped_catalog(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE.replace("village_fine", "judgment_defaulter"))
    err = refuse(tmp_path)
    assert err.entity == "record_type:judgment_defaulter"
    assert "judgment_defaulters.yaml" in str(err)


def test_duplicate_key_in_one_file(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE + "    disclosure: shared\n")
    err = refuse(tmp_path)
    assert err.line == 12
    assert "disclosure" in str(err)


@pytest.mark.parametrize(
    "category",
    [
        "social_media",
        "location",
        "private_communications",
        "contacts",
        "opinions",
        "consumption_habits",
    ],
)
def test_categories_outside_adjudicated_facts(tmp_path: Path, category: str) -> None:
    write(tmp_path, RECORD_TYPE.replace("category: admin_penalty", f"category: {category}"))
    err = refuse(tmp_path)
    assert (err.line, err.entity) == (5, "record_type:village_fine")
    message = str(err)
    assert category in message
    assert "adjudicated" in message and "已裁决" in message
    assert "social-media" in message


@pytest.mark.parametrize("section", ["categories", "field_types", "roles"])
def test_closed_sets_cannot_be_extended_from_yaml(tmp_path: Path, section: str) -> None:
    write(tmp_path, f"{section}:\n  social_media: {{name_zh: 社交媒体}}\n")
    err = refuse(tmp_path)
    assert err.line == 1
    assert "closed set" in str(err)
    assert "social_media" not in {c.value for c in Category}


def test_role_linked_without_an_authorising_article(tmp_path: Path) -> None:
    write(tmp_path, MEASURE + "    role_linked: [legal_representative]\n")
    err = refuse(tmp_path)
    assert (err.line, err.entity) == (12, "measure:extra_measure")
    assert "legal_representative" in str(err)


@pytest.mark.parametrize("role", ["spouse", "family", "employee", "friend"])
def test_roles_outside_the_three_are_refused(tmp_path: Path, role: str) -> None:
    text = MEASURE.replace(
        "[{instrument: spc_defaulter_list_2017, article: 8}]",
        "[{instrument: spc_consumption_restriction_2015, article: 3}]",
    )
    write(tmp_path, text + f"    role_linked: [legal_representative, {role}]\n")
    err = refuse(tmp_path)
    assert err.line == 12
    assert role in str(err)
    assert "family" in str(err)


def test_role_linked_with_the_authorising_article_loads(tmp_path: Path) -> None:
    text = MEASURE.replace(
        "[{instrument: spc_defaulter_list_2017, article: 8}]",
        "[{instrument: spc_consumption_restriction_2015, article: 3}]",
    )
    write(tmp_path, text + "    role_linked: [principal]\n")
    assert load_catalog([tmp_path]).measures["extra_measure"].role_linked == ["principal"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "record_types:\n  x:\n    name_zh: [unclosed\n    name_en: y\n")
    err = refuse(tmp_path)
    assert err.file is not None and err.file.endswith("operator.yaml")
    assert err.line is not None and err.line >= 3


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gbk.yaml").write_bytes(
        "# ok\nrecord_types:\n  x:\n    name_zh: 村规\n".encode("gbk")
    )
    err = refuse(tmp_path)
    assert err.line == 4
    assert "UTF-8" in str(err)


@pytest.mark.parametrize(
    "junk",
    [
        "just a string\n",
        "- a\n- list\n",
        "record_types: 3\n",
        "record_types:\n  x: 3\n",
        "record_types:\n  BadId: {}\n",
        "lists:\n  x:\n    origin: {file: a, line: 1}\n",
        "\x00\x01",
    ],
)
def test_junk_is_a_catalog_error_never_a_crash(tmp_path: Path, junk: str) -> None:
    (tmp_path / "junk.yaml").write_text(junk, encoding="utf-8")
    err = refuse(tmp_path)
    assert err.file is not None and err.file.endswith("junk.yaml")


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError):
        load_catalog([tmp_path / "nope"])


def test_empty_directory_and_empty_file_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "")
    assert load_catalog([tmp_path]).counts() == load_catalog().counts()


def test_record_type_without_sources_or_with_an_unknown_one(tmp_path: Path) -> None:
    write(tmp_path, RECORD_TYPE.replace("    sources: [samr]\n", ""))
    missing = refuse(tmp_path)
    assert (missing.line, missing.entity) == (2, "record_type:village_fine")
    assert "sources" in str(missing)
    write(tmp_path, RECORD_TYPE.replace("sources: [samr]", "sources: [samr, village_head]"))
    unknown = refuse(tmp_path)
    assert (unknown.line, unknown.entity) == (11, "record_type:village_fine")
    assert "village_head" in str(unknown)
