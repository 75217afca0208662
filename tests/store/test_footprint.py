"""The store's catalog footprint: kept by the pipeline, filled by migration 0009, and the
refusal of a catalog that lacks what the store holds (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from xinyong.catalog import default_catalog
from xinyong.errors import CatalogMismatch
from xinyong.ingest import ingest_file
from xinyong.store.engine import opened
from xinyong.store.footprint import UNRECORDED, catalog_footprint, require_covered
from xinyong.store.schema import migrate, upgrade

HEADER = "subject_name,subject_code,court,document_no,decided_on,published_on\n"
PERSON = "310106199201017931"


def load(engine: Engine, tmp_path: Path, n: int) -> None:
    path = tmp_path / f"orders-{n}.csv"
    path.write_text(
        f"{HEADER}刘洋,{PERSON},武侯区人民法院,（2024）川0107执{n}号,2024-02-20,2024-02-22\n",
        encoding="utf-8",
    )
    result = ingest_file(
        engine, path, "consumption_restriction_order", "court", catalog=default_catalog()
    )
    assert result.accepted == 1


def footprint(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.execute(select(catalog_footprint)).all()
    return {(r.kind, r.entity_id): r.catalog_version for r in rows}


def test_the_pipeline_keeps_it_and_0009_fills_it_for_an_older_store(
    empty_db_url: str, tmp_path: Path
) -> None:
    version = default_catalog().version
    with opened(empty_db_url) as engine:
        upgrade(engine)
        assert footprint(engine) == {}
        load(engine, tmp_path, 455)
        held = footprint(engine)
        assert held[("run", "")] == version
        assert held[("list", "consumption_restricted")] == version
        assert held[("measure", "consumption_restriction_flight")] == version
        assert held[("action", "buy_flight_ticket")] == version
        assert {kind for kind, _ in held} == {"run", "list", "measure", "action"}
        load(engine, tmp_path, 456)  # same catalog, nothing new: the table is left as it was
        assert footprint(engine) == held

        migrate(engine, "0008")
        upgrade(engine)
        filled = footprint(engine)
        assert filled == {key: UNRECORDED for key in held if key[0] != "run"}
        load(engine, tmp_path, 457)
        assert footprint(engine)[("run", "")] == version
        assert footprint(engine)[("measure", "consumption_restriction_flight")] == UNRECORDED


def test_a_catalog_lacking_a_held_id_is_refused_naming_it_and_its_version(db_url: str) -> None:
    with opened(db_url) as engine:
        upgrade(engine)
        assert require_covered(engine, default_catalog()).held == {}
        with engine.begin() as conn:
            conn.execute(
                insert(catalog_footprint),
                [
                    {"kind": "measure", "entity_id": "gone_ban", "catalog_version": "2026.1+aa"},
                    {"kind": "list", "entity_id": "gone_list", "catalog_version": UNRECORDED},
                    {"kind": "action", "entity_id": "buy_flight_ticket", "catalog_version": "x"},
                ],
            )
        with pytest.raises(CatalogMismatch) as caught:
            require_covered(engine, default_catalog())
    detail = str(caught.value.detail)
    assert "measure gone_ban" in detail and "2026.1+aa" in detail
    assert "list gone_list（推导它们的目录版本未记录）" in detail
    assert "buy_flight_ticket" not in detail  # the shipped catalog has it
    assert default_catalog().version in detail
