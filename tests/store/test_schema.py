"""The schema: `xinyong init` creates and upgrades, the migrations match the tables, bad URLs
are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, UniqueConstraint, inspect, text
from typer.testing import CliRunner

from xinyong.all_tables import full_metadata
from xinyong.cli import app
from xinyong.store.engine import opened
from xinyong.store.partitions import PG_PARTITIONED, outside_partitions
from xinyong.store.schema import head_revision, upgrade

runner = CliRunner()


def test_migration_head_matches_tables(empty_db_url: str) -> None:
    """The migrations build exactly the models; on PostgreSQL, apart from what partitioning
    requires (``xinyong.store.partitions``) and nothing else."""
    with opened(empty_db_url) as engine, engine.connect() as conn:
        upgrade(engine)
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, **outside_partitions(conn)}
        )
        diff = compare_metadata(context, full_metadata())
        if conn.dialect.name == "postgresql":
            diff = _without_partitioning(conn, diff)
    assert diff == []


def _without_partitioning(conn: Connection, diff: list[Any]) -> list[Any]:
    """``diff`` less the differences PostgreSQL's partitioning requires, each checked to be
    there: the table is partitioned as declared, its primary key includes the partition key, and
    each model unique constraint is stood in for by the one ``PG_PARTITIONED`` names."""
    inspector = inspect(conn)
    left = list(diff)
    for spec in PG_PARTITIONED.values():
        strategy = conn.execute(
            text(
                "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
                "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                "WHERE p.partrelid = CAST(:t AS regclass)"
            ),
            {"t": spec.table},
        ).one()
        assert (strategy.partstrat, strategy.attname) == (spec.strategy[0], spec.key)
        pk = inspector.get_pk_constraint(spec.table)["constrained_columns"]
        assert tuple(pk) == spec.primary_key
        for columns, stand_in in spec.unique.items():
            left.remove(_unique(left, "add_constraint", spec.table, columns))
            if stand_in is not None:
                removed = _unique(left, "remove_constraint", spec.table, stand_in[1])
                assert removed[1].name == stand_in[0]
                left.remove(removed)
    return left


def _unique(diff: list[Any], op: str, table: str, columns: tuple[str, ...]) -> Any:
    for item in diff:
        if (
            isinstance(item, tuple)
            and item[0] == op
            and isinstance(item[1], UniqueConstraint)
            and item[1].table.name == table
            and tuple(c.name for c in item[1].columns) == columns
        ):
            return item
    raise AssertionError(f"expected {op} of UNIQUE {columns} on {table} in {diff}")


def test_init_creates_then_leaves_alone(empty_db_url: str) -> None:
    first = runner.invoke(app, ["init", "--db", empty_db_url, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "db": json.loads(first.output)["db"],
        "action": "created",
        "from": None,
        "to": head_revision(),
        # On PostgreSQL the migration made this month's and the next 12 months' partitions.
        "partitions_created": [],
    }
    second = runner.invoke(app, ["init", "--db", empty_db_url, "--json"])
    assert second.exit_code == 0
    assert json.loads(second.output)["action"] == "unchanged"
    with opened(empty_db_url) as engine:
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
    for url, says in (
        ("nonsense", "bad database URL"),
        ("mysql://x@localhost/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot reach the database"),
        (f"sqlite:///{tmp_path}/no/such/dir/x.db", "cannot reach the database"),
    ):
        result = runner.invoke(app, ["init", "--db", url])
        assert result.exit_code == 2, (url, result.output)
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("错误 / error: ") and says in line, line


def test_commands_refuse_an_uninitialised_database(sqlite_url: str) -> None:
    with opened(sqlite_url):  # creates an empty file, no schema
        pass
    result = runner.invoke(app, ["subject", "show", "91350100M000100Y43", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "xinyong init" in result.stderr
