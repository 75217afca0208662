"""Revision 0015 (no unique indexes on the events' hashes): a chain written before it verifies and
grows after it, and the downgrade puts the constraints back — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from xinyong.audit import record, verify
from xinyong.store.engine import opened
from xinyong.store.schema import alembic_config, migrate

BEFORE = str(ScriptDirectory.from_config(alembic_config()).get_revision("0015").down_revision)
T0 = datetime(2025, 1, 24, 8, 0, tzinfo=UTC)


def _append(engine: Engine, start: int, n: int) -> None:
    for i in range(start, start + n):
        with engine.begin() as conn:
            record(
                conn, actor="u", role="agency", purpose="迁移测试", subject="S", action="read",
                detail={"i": i}, at=T0 + timedelta(minutes=i),
            )  # fmt: skip


def _hash_uniques(engine: Engine) -> set[str]:
    found = inspect(engine).get_unique_constraints("audit_events")
    return {c["name"] for c in found if {"hash", "prev_hash"} & set(c["column_names"])}


def test_a_chain_from_before_0015_verifies_and_grows_after_it(empty_db_url: str) -> None:
    with opened(empty_db_url) as engine:
        migrate(engine, BEFORE)
        assert len(_hash_uniques(engine)) == 2
        _append(engine, 0, 5)
        migrate(engine, "0015")
        assert _hash_uniques(engine) == set()
        _append(engine, 5, 5)
        with engine.connect() as conn:
            after = verify(conn)
        migrate(engine, BEFORE)
        assert len(_hash_uniques(engine)) == 2
        with engine.connect() as conn:
            back = verify(conn)
    assert after.ok and after.count == 10, after.explanation
    assert back.ok and back.count == 10 and back.head_hash == after.head_hash
