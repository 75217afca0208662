"""Fixtures for the whole suite.

Strategy:
- Smallest real data: tests build the few rows they need, or read the sample files shipped under
  ``examples/``; the catalog under test is always the real shipped one (plus, where a test is
  about operator files, a small extra directory made in ``tmp_path``).
- Real servers where the test is about them: PostgreSQL at 127.0.0.1:5432 (database ``test``,
  trust auth), NATS JetStream at 127.0.0.1:4222, Redis at 127.0.0.1:6379. ``.ci/run`` starts any
  that is down; elsewhere a test that needs one skips, saying which and why.
- Each PostgreSQL test session gets a database of its own, dropped at the end.
- No network beyond loopback; nothing is downloaded.
- Artifacts a person may want to look at (screenshots, PDFs, charts) go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinyong.batch.engines import SparkEngine, spark_missing, spark_session

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, empty SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'xinyong.db'}"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped afterwards."""
    if not port_open(5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (.ci/run starts it)")
    import psycopg

    name = f"xinyong_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that takes ``db_url`` runs on SQLite and on PostgreSQL (own schema-clean DB)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xinyong.db'}"
        return
    base = request.getfixturevalue("pg_database_url")
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """ONE local Spark session for the whole test session, here so that every directory shares
    it (a second definition elsewhere would be a second fixture whose teardown stops the one
    SparkContext under the other). ``local[2]`` (two cores is all CI has), two shuffle
    partitions (the inputs are small), the UI off and the driver on loopback (no network).
    Tests that need Spark skip, saying why, when PySpark or Java is missing; CI installs both
    (``pip install -e '.[test,spark]'``, a JRE where none is present)."""
    missing = spark_missing()
    if missing is not None:
        pytest.skip(missing)
    session = spark_session("local[2]", shuffle_partitions=2, app="xinyong-tests")
    engine = SparkEngine(session)
    yield engine
    engine.close()
    session.stop()
