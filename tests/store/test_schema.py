"""The schema: `xinyong init` creates and upgrades, the migrations match the tables, bad URLs
are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.store.engine import opened
from xinyong.store.schema import full_metadata, head_revision, upgrade

runner = CliRunner()


def test_migration_head_matches_tables(db_url: str) -> None:
    with opened(db_url) as engine, engine.connect() as conn:
        upgrade(engine)
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, full_metadata()) == []


def test_init_creates_then_leaves_alone(db_url: str) -> None:
    first = runner.invoke(app, ["init", "--db", db_url, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "db": json.loads(first.output)["db"],
        "action": "created",
        "from": None,
        "to": head_revision(),
    }
    second = runner.invoke(app, ["init", "--db", db_url, "--json"])
    assert second.exit_code == 0
    assert json.loads(second.output)["action"] == "unchanged"
    with opened(db_url) as engine:
        tables = set(inspect(engine).get_table_names())
    assert {"subjects", "records", "provenance", "batches", "rejects", "link_leads"} <= tables


def test_init_text_output_says_what_it_did(sqlite_url: str) -> None:
    result = runner.invoke(app, ["init", "--db", sqlite_url])
    assert result.exit_code == 0
    assert "已创建 / created" in result.output


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    with opened(sqlite_url) as engine, engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_bad_urls_are_one_line_exit_2(tmp_path: Path) -> None:
    for url in (
        "nonsense",
        "mysql://x@localhost/db",
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        f"sqlite:///{tmp_path}/no/such/dir/x.db",
    ):
        result = runner.invoke(app, ["init", "--db", url])
        assert result.exit_code == 2, (url, result.output)
        assert "Traceback" not in result.output
        assert "错误 / error" in result.stderr


def test_commands_refuse_an_uninitialised_database(sqlite_url: str) -> None:
    with opened(sqlite_url):  # creates an empty file, no schema
        pass
    result = runner.invoke(app, ["subject", "show", "91350100M000100Y43", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "xinyong init" in result.stderr
