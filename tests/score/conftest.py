"""Fixtures for scoring: a database (SQLite and PostgreSQL) loaded with the shipped example files,
and a CLI runner."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import CopyOf
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.store.engine import opened
from xinyong.store.tables import records, subjects

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "judgment_defaulter.gbk.csv": ("judgment_defaulter", "spc"),
    "consumption_restriction_order.csv": ("consumption_restriction_order", "court"),
    "admin_penalty.xlsx": ("admin_penalty", "samr"),
    "admin_license.csv": ("admin_license", "approval_agencies"),
    "professional_penalty.jsonl": ("professional_penalty", "sector_regulators"),
}
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _load_examples(url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:  # ingest writes its rejects beside the file
        for name, (rtype, source) in SAMPLES.items():
            path = shutil.copy(ROOT / "examples" / name, Path(folder) / name)
            code, out, err = run(
                "ingest", str(path), "--type", rtype, "--source", source, "--db", url
            )  # fmt: skip
            assert code == 0, (name, out, err)


@pytest.fixture()
def loaded(copy_of: CopyOf) -> str:
    """A store (SQLite and PostgreSQL) with the shipped examples loaded: a copy for this test
    of one loaded once per session."""
    return copy_of("score_examples", _load_examples)


def code_with(db_url: str, record_type: str, kind: str | None = None) -> tuple[str, dict[str, str]]:
    """The code of a subject with a record of this type (and kind), and that record's fields."""
    with opened(db_url) as engine, engine.connect() as conn:
        rows = conn.execute(
            select(subjects.c.primary_code, subjects.c.kind, records.c.fields)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(records.c.record_type == record_type)
            .order_by(subjects.c.id)
        ).all()
    row = next(r for r in rows if kind is None or r.kind == kind)
    return row.primary_code, dict(row.fields)
