"""Two fresh databases of the same kind (SQLite files, or PostgreSQL databases of their own), so
one set of rows can be loaded two ways and the results compared."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.conftest import PG_ADMIN_URL

from xinyong.store.engine import connect
from xinyong.store.schema import upgrade


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    eng = connect(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture()
def other_engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A second empty database on the same backend as ``engine``."""
    if db_url.startswith("sqlite"):
        eng = connect(f"sqlite:///{tmp_path / 'other.db'}")
        upgrade(eng)
        try:
            yield eng
        finally:
            eng.dispose()
        return
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    eng = connect(db_url.rsplit("/", 1)[0] + f"/{name}")
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
