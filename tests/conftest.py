"""Fixtures for the whole suite.

Strategy:
- Smallest real data: tests build the few rows they need, or read the sample files shipped under
  ``examples/``; the catalog under test is always the real shipped one (plus, where a test is
  about operator files, a small extra directory made in ``tmp_path``).
- Real servers where the test is about them: PostgreSQL at 127.0.0.1:5432 (database ``test``,
  trust auth), NATS JetStream at 127.0.0.1:4222, Redis at 127.0.0.1:6379. ``.ci/run`` starts any
  that is down; elsewhere a test that needs one skips, saying which and why.
- Migrated once, copied per test: ``db_url`` (SQLite and PostgreSQL) and the other ``*_store_url``
  fixtures hand each test a store of its own, copied from a template the session migrated once
  (``tests/databases.py``); ``empty_db_url`` is for tests about making the schema.
- Markers say what a test needs, so a run can leave it out: ``pg``, ``nats``, ``spark`` (added
  here to every test that uses the fixture for that service, see ``NEEDS``), ``browser``, and
  ``slow`` for tests of more than a few seconds. The inner loop is ``pytest -m "not slow"``.
- No network beyond loopback; nothing is downloaded.
- Artifacts a person may want to look at (screenshots, PDFs, charts) go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.databases import POSTGRESQL, SQLITE, Databases

from xinyong.batch.engines import SparkEngine, spark_missing, spark_session
from xinyong.store.engine import connect

ROOT = Path(__file__).resolve().parent.parent

# The suite tests the shipped catalog: an operator's folders in the developer's shell
# (``XINYONG_CATALOG``) or a database URL (``XINYONG_DB``) must not leak into it. Tests about
# them set them with ``monkeypatch`` or in a subprocess's environment.
for _name in ("XINYONG_CATALOG", "XINYONG_DB"):
    os.environ.pop(_name, None)
PG_ADMIN_URL = os.environ.get(
    "XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


#: A test that uses one of these fixtures gets the marker: it needs that server or tool.
NEEDS = {"pg_server": "pg", "nats_server": "nats", "spark_engine": "spark"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-xdist runs one item per test id: two items with one id would run once, silently.
    ids = Counter(item.nodeid for item in items)
    twice = sorted(nodeid for nodeid, count in ids.items() if count > 1)
    if twice:
        raise pytest.UsageError(f"test ids collected more than once: {', '.join(twice[:5])}")
    for item in items:
        used = getattr(item, "fixturenames", ())
        for fixture, marker in NEEDS.items():
            if fixture in used:
                item.add_marker(marker)
        if "spark_engine" in used:
            # Spark on two cores: about ten seconds to start, then seconds a query.
            item.add_marker("slow")
        if item.get_closest_marker("huge") and os.environ.get("XINYONG_HUGE_TESTS") != "1":
            item.add_marker(
                pytest.mark.skip(
                    reason="national-scale data, minutes a test: set XINYONG_HUGE_TESTS=1 to run"
                )
            )


@pytest.fixture(scope="session")
def nats_server() -> None:
    """Skips the test, saying why, when NATS JetStream is not running."""
    if not port_open(4222):
        pytest.skip("NATS JetStream is not running on 127.0.0.1:4222 (.ci/run starts it)")


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
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The session's migrated templates (``tests/databases.py``)."""
    made = Databases(tmp_path_factory.mktemp("templates"), PG_ADMIN_URL)
    yield made
    made.close()


@pytest.fixture(scope="session")
def pg_server() -> None:
    """Skips the test, saying why, when PostgreSQL is not running."""
    if not port_open(5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (.ci/run starts it)")


@pytest.fixture()
def sqlite_store_url(databases: Databases, tmp_path: Path) -> str:
    """A migrated SQLite store (what ``xinyong init`` makes) for one test."""
    return databases.store(SQLITE, tmp_path / "xinyong.db")


@pytest.fixture()
def pg_store_url(pg_server: None, databases: Databases) -> Iterator[str]:
    """A migrated PostgreSQL database (what ``xinyong init`` makes) for one test; afterwards it
    is reset to the template's state for the next test (``Databases.done``)."""
    url = databases.store(POSTGRESQL, Path())
    yield url
    databases.done(url)


@pytest.fixture()
def pg_empty_url(pg_server: None, databases: Databases) -> Iterator[str]:
    """An empty PostgreSQL database for one test, then dropped."""
    url = databases.empty()
    yield url
    databases.done(url)


BACKENDS = [SQLITE, pytest.param(POSTGRESQL, marks=pytest.mark.pg)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated store for one test; each test that takes it runs on SQLite and PostgreSQL."""
    fixture = {SQLITE: "sqlite_store_url", POSTGRESQL: "pg_store_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on SQLite and PostgreSQL: for tests about creating the schema."""
    fixture = {SQLITE: "sqlite_url", POSTGRESQL: "pg_empty_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


CopyOf = Callable[[str, Callable[[str], None]], str]


@pytest.fixture(params=BACKENDS)
def copy_of(
    request: pytest.FixtureRequest, databases: Databases, tmp_path: Path
) -> Iterator[CopyOf]:
    """``copy_of(key, build)``: the URL of a copy, for this test, of the migrated store that
    ``build(url)`` filled, built once per session and key; on SQLite and PostgreSQL, like
    ``db_url``. For tests that all start from the same filled store."""
    backend: str = request.param
    if backend == POSTGRESQL:
        request.getfixturevalue("pg_server")
    made: list[str] = []

    def copy(key: str, build: Callable[[str], None]) -> str:
        made.append(databases.copy_of(backend, key, build, tmp_path / f"{key}.db"))
        return made[-1]

    yield copy
    for url in made:
        databases.done(url)


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``'s migrated store, closed afterwards."""
    made = connect(db_url)
    yield made
    made.dispose()


@pytest.fixture()
def sqlite_engine(sqlite_store_url: str) -> Iterator[Engine]:
    """An engine on a migrated SQLite store, for tests that are not about the backend."""
    made = connect(sqlite_store_url)
    yield made
    made.dispose()


NewStore = Callable[[str], str]


@pytest.fixture()
def new_store(databases: Databases, tmp_path: Path) -> Iterator[NewStore]:
    """``new_store(like)``: one more migrated store, on the backend of the URL ``like`` (for
    tests that load the same rows twice, or two platforms)."""
    made: list[str] = []

    def make(like: str) -> str:
        backend = SQLITE if like.startswith(SQLITE) else POSTGRESQL
        made.append(databases.store(backend, tmp_path / f"store_{uuid.uuid4().hex[:8]}.db"))
        return made[-1]

    yield make
    for url in made:
        databases.done(url)


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
