"""Stores for tests: migrated once per session, then copied (or reset) for each test.

Migrating a database costs a second or two; a test needs a migrated store of its own. So each
session migrates one template per backend, the way ``xinyong init`` does (``upgrade``), and
hands out copies:

- SQLite: a copy of the template file.
- PostgreSQL: ``CREATE DATABASE … TEMPLATE`` the template. A database a test is done with is
  reset to the template's state (every row deleted, every sequence restarted) and handed to the
  next test, instead of being dropped: ``DROP DATABASE`` forces a checkpoint of the whole server
  (about a second each on a busy machine; the suite has about 170 PostgreSQL tests). A database
  whose tables, indexes or schemas no longer match the template's is dropped, never reused.

A store that many tests start from (say, the shipped examples loaded) is built once per session
too, and copied the same way (``Databases.copy_of``); a PostgreSQL copy of it is dropped when
its test is done (a reset would empty it).

Tests about migrating itself take an empty database (``Databases.empty``, ``sqlite_url``).
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from xinyong.store.engine import opened
from xinyong.store.schema import upgrade

#: What makes two databases alike for reuse: their relations (name and kind) and schemas.
_SHAPE = """
SELECT count(*), coalesce(sum(hashtext(c.relname || c.relkind::text)), 0),
       (SELECT count(*) FROM pg_namespace)
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
"""
_TABLES = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
"""
#: The only table the migrations fill: which revision the store is at (kept on reset).
_KEPT = "alembic_version"
_RESTART_SEQUENCES = """
SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'public'::regnamespace
"""
SQLITE, POSTGRESQL = "sqlite", "postgresql"


class Databases:
    """The session's templates, and the stores copied from them."""

    def __init__(self, folder: Path, pg_url: str) -> None:
        self.folder = folder
        #: ``postgresql+psycopg://…/<admin database>``; new databases sit beside it.
        self.pg_url = pg_url
        self._admin = _dsn(pg_url)
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_shape: tuple[object, ...] = ()
        self._pg_reset = ""
        self._pg_pool: list[str] = []
        self._pg_made: set[str] = set()
        #: PostgreSQL databases dropped when done, never reset: copies of built stores, empty ones.
        self._pg_throwaway: set[str] = set()
        #: Built stores by (backend, key): a SQLite file's path or a PostgreSQL database's name.
        self._built: dict[tuple[str, str], str] = {}

    def store(self, backend: str, path: Path) -> str:
        """The URL of a migrated store of its own: at ``path`` (SQLite), or a database (``done``
        when the test is done)."""
        if backend == SQLITE:
            shutil.copyfile(self._sqlite(), path)
            return f"sqlite:///{path}"
        if self._pg_pool:
            return self.url(self._pg_pool.pop())
        return self.url(self._pg_create(template=self._pg()))

    def copy_of(self, backend: str, key: str, build: Callable[[str], None], path: Path) -> str:
        """Like ``store``, but a copy of the store ``build(url)`` filled; built once per session
        for each ``key``."""
        if (backend, key) not in self._built:
            built = self.store(backend, self.folder / f"{key}.db")
            build(built)
            if backend == SQLITE:
                _checkpoint(self.folder / f"{key}.db")
            self._built[backend, key] = _name(built)
        source = self._built[backend, key]
        if backend == SQLITE:
            shutil.copyfile(source, path)
            return f"sqlite:///{path}"
        name = self._pg_create(template=source)
        self._pg_throwaway.add(name)
        return self.url(name)

    def empty(self) -> str:
        """The URL of a new, empty PostgreSQL database (``done`` when the test is done)."""
        name = self._pg_create()
        self._pg_throwaway.add(name)
        return self.url(name)

    def done(self, url: str) -> None:
        """A test is done with ``url``: a PostgreSQL database is reset and kept for the next
        test, or dropped (a copy of a built store, an empty one, or one whose shape changed)."""
        if not url.startswith(POSTGRESQL):
            return
        name = _name(url)
        if name in self._pg_throwaway or not self._pg_reset_to_template(name):
            self._pg_drop(name)
        else:
            self._pg_pool.append(name)

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of the PostgreSQL database ``name``."""
        return self.pg_url.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        """Drop every PostgreSQL database this session made."""
        for name in sorted(self._pg_made):
            self._pg_drop(name)

    def _sqlite(self) -> Path:
        if self._sqlite_template is None:
            template = self.folder / "template.db"
            with opened(f"sqlite:///{template}") as engine:
                upgrade(engine)
            _checkpoint(template)
            self._sqlite_template = template
        return self._sqlite_template

    def _pg(self) -> str:
        if self._pg_template is None:
            name = self._pg_create()
            with opened(self.url(name)) as engine:
                upgrade(engine)
            with psycopg.connect(_dsn(self.url(name))) as conn:
                self._pg_shape = _shape(conn)
                tables = [t for (t,) in conn.execute(_TABLES) if t != _KEPT]
                filled = [
                    t for t in tables if conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()
                ]
            assert not filled, f"the migrations fill {filled}: reset them to their rows too"
            deletes = "".join(f'DELETE FROM "{t}";' for t in tables)
            self._pg_reset = f"SET LOCAL session_replication_role = replica;{deletes}"
            self._pg_template = name
        return self._pg_template

    def _pg_create(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        self._pg_made.add(name)
        return name

    def _pg_drop(self, name: str) -> None:
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._pg_made.discard(name)
        self._pg_throwaway.discard(name)

    def _pg_reset_to_template(self, name: str) -> bool:
        """Delete every row and restart every sequence; False if the shape has changed."""
        with psycopg.connect(self._admin, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        with psycopg.connect(_dsn(self.url(name))) as conn:
            if _shape(conn) != self._pg_shape:
                return False
            # Replica mode skips the foreign-key triggers: rows go in any order.
            conn.execute(self._pg_reset)
            conn.execute(_RESTART_SEQUENCES)
        return True


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _name(url: str) -> str:
    """A SQLite URL's file path, or a PostgreSQL URL's database name."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return url.rsplit("/", 1)[1]


def _checkpoint(path: Path) -> None:
    """Fold SQLite's write-ahead log into the file, so that copying the file copies it all."""
    with sqlite3.connect(path) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    conn.close()
    assert busy == 0, f"{path} is still in use: its log cannot be folded in"


def _shape(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[object, ...]:
    row = conn.execute(_SHAPE).fetchone()
    assert row is not None
    return tuple(row)
