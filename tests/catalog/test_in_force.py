"""The catalog in force: shipped + ``$XINYONG_CATALOG`` + ``--catalog``, resolved once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xinyong.catalog import catalog_dirs, catalog_in_force, default_catalog, load_catalog
from xinyong.errors import CatalogError

GOLF = """\
actions:
  buy_golf_membership:
    name_zh: 购买高尔夫会籍
    name_en: buy golf membership
"""
POLO = """\
actions:
  play_polo:
    name_zh: 打马球
    name_en: play polo
"""


def _folder(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_env_folders_in_order_empty_parts_ignored_then_the_option(tmp_path: Path) -> None:
    golf, polo = _folder(tmp_path, "golf", GOLF), _folder(tmp_path, "polo", POLO)
    third = tmp_path / "third"
    third.mkdir()
    env = {"XINYONG_CATALOG": f"{os.pathsep}{polo}{os.pathsep}{os.pathsep} {golf} {os.pathsep}"}
    assert catalog_dirs([third], environ=env) == (polo.resolve(), golf.resolve(), third.resolve())
    assert catalog_dirs(environ={}) == () == catalog_dirs(environ={"XINYONG_CATALOG": " : "})


def test_a_folder_named_twice_is_read_once(tmp_path: Path) -> None:
    golf = _folder(tmp_path, "golf", GOLF)
    env = {"XINYONG_CATALOG": str(golf)}
    assert catalog_dirs([golf, tmp_path / "golf" / ".." / "golf"], environ=env) == (golf.resolve(),)


@pytest.mark.parametrize("where", ["XINYONG_CATALOG", "--catalog"])
def test_a_missing_folder_is_a_catalog_error_naming_it_and_where(
    tmp_path: Path, where: str
) -> None:
    missing = tmp_path / "nowhere"
    env = {"XINYONG_CATALOG": str(missing)} if where == "XINYONG_CATALOG" else {}
    extra = [missing] if where == "--catalog" else []
    with pytest.raises(CatalogError) as caught:
        catalog_dirs(extra, environ=env)
    assert caught.value.file == str(missing)
    assert where in str(caught.value)
    a_file = tmp_path / "file.yaml"
    a_file.write_text(GOLF, encoding="utf-8")
    with pytest.raises(CatalogError, match="not a folder"):
        catalog_dirs([a_file], environ={})


def test_catalog_in_force_reads_shipped_then_env_then_option_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    golf, polo = _folder(tmp_path, "golf", GOLF), _folder(tmp_path, "polo", POLO)
    monkeypatch.setenv("XINYONG_CATALOG", str(golf))
    catalog = catalog_in_force([polo])
    assert {"buy_golf_membership", "play_polo", "buy_flight_ticket"} <= set(catalog.actions)
    operator_files = [f for f in catalog.files if not f.startswith("xinyong/catalog/data/")]
    assert operator_files == [str(golf.resolve() / "golf.yaml"), str(polo.resolve() / "polo.yaml")]
    assert catalog_in_force([polo]) is catalog  # resolved once for the same folders
    assert catalog.version == load_catalog([golf, polo]).version
    monkeypatch.delenv("XINYONG_CATALOG")
    shipped = catalog_in_force()
    assert shipped is default_catalog()
    assert "buy_golf_membership" not in shipped.actions


def test_a_bad_file_in_an_env_folder_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _folder(tmp_path, "bad", GOLF + "    colour: green\n")
    monkeypatch.setenv("XINYONG_CATALOG", str(bad))
    with pytest.raises(CatalogError) as caught:
        catalog_in_force()
    assert caught.value.file == str(bad.resolve() / "bad.yaml")
    assert caught.value.line == 5  # the unknown key, under the action
