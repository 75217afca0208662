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

Tests about migrating itself take an empty database (``Databases.pg_empty``, ``sqlite_url``).
"""

from __future__ import annotations

import shutil
import uuid
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


class Databases:
    """The session's templates, and the stores copied from them."""

    def __init__(self, folder: Path, pg_url: str) -> None:
        self.folder = folder
        #: ``postgresql+psycopg://…/<admin database>``; new databases sit beside it.
        self.pg_url = pg_url
        self._admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_shape: tuple[object, ...] = ()
        self._pg_reset = ""
        self._pg_pool: list[str] = []
        self._pg_made: set[str] = set()

    def sqlite_store(self, path: Path) -> str:
        """A migrated SQLite store at ``path``: a copy of the session's template file."""
        if self._sqlite_template is None:
            template = self.folder / "template.db"
            with opened(f"sqlite:///{template}") as engine:
                upgrade(engine)
            # Closing the last connection checkpoints the write-ahead log into the file.
            assert not template.with_name("template.db-wal").exists()
            self._sqlite_template = template
        shutil.copyfile(self._sqlite_template, path)
        return f"sqlite:///{path}"

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of the PostgreSQL database ``name``."""
        return self.pg_url.rsplit("/", 1)[0] + f"/{name}"

    def pg_store(self) -> str:
        """The name of a migrated PostgreSQL database for one test; ``pg_done`` when done."""
        if self._pg_pool:
            return self._pg_pool.pop()
        return self.pg_empty(template=self._template())

    def pg_done(self, name: str) -> None:
        """Reset a database ``pg_store`` gave out and keep it for the next test, or drop it."""
        if self._pg_reset_to_template(name):
            self._pg_pool.append(name)
        else:
            self.pg_drop(name)

    def pg_empty(self, template: str | None = None) -> str:
        """The name of a new, empty PostgreSQL database (or a copy of ``template``)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        self._pg_made.add(name)
        return name

    def pg_drop(self, name: str) -> None:
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._pg_made.discard(name)

    def close(self) -> None:
        """Drop every PostgreSQL database this session made."""
        self._pg_pool.clear()
        for name in sorted(self._pg_made):
            self.pg_drop(name)

    def _template(self) -> str:
        if self._pg_template is None:
            name = self.pg_empty()
            with opened(self.url(name)) as engine:
                upgrade(engine)
            with psycopg.connect(self._dsn(name)) as conn:
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

    def _pg_reset_to_template(self, name: str) -> bool:
        """Delete every row and restart every sequence; False if the shape has changed."""
        with psycopg.connect(self._admin, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        with psycopg.connect(self._dsn(name)) as conn:
            if _shape(conn) != self._pg_shape:
                return False
            # Replica mode skips the foreign-key triggers: rows go in any order.
            conn.execute(self._pg_reset)
            conn.execute(_RESTART_SEQUENCES)
        return True

    def _dsn(self, name: str) -> str:
        return self.url(name).replace("postgresql+psycopg://", "postgresql://")


def _shape(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[object, ...]:
    row = conn.execute(_SHAPE).fetchone()
    assert row is not None
    return tuple(row)
