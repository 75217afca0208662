"""An engine from a database URL, and the boundary where database errors become ours.

SQLite (the embedded default) runs in WAL mode with foreign keys on; PostgreSQL goes through
psycopg 3 (``postgresql+psycopg://user@host/db``). A URL that cannot be used or a server that
cannot be reached is the operator's unusable input: ``UnusableInput`` with one line, never a
driver traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from xinyong.errors import UnusableInput, first_line

DEFAULT_URL = "sqlite:///xinyong.db"


def utcnow() -> datetime:
    """Now, in UTC: every recorded time in the store is UTC."""
    return datetime.now(UTC)


@contextmanager
def database_errors(url: str | None = None) -> Iterator[None]:
    """Translate SQLAlchemy and driver errors about reaching a database into ``UnusableInput``."""
    where = f" ({_safe(url)})" if url else ""
    try:
        yield
    except (exc.ArgumentError, exc.NoSuchModuleError) as error:
        raise UnusableInput(
            f"数据库 URL 无效 / bad database URL{where}: {first_line(error)}"
        ) from error
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise UnusableInput(
            f"无法连接数据库 / cannot reach the database{where}: {first_line(error.orig)}"
        ) from error


def connect(url: str = DEFAULT_URL, *, create: bool = True) -> Engine:
    """An engine for ``url``, checked by connecting once. Raises ``UnusableInput`` if unusable.

    ``create=False``: a SQLite file that does not exist is an error, not a new empty database.
    """
    with database_errors(url):
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise UnusableInput(
                f"不支持的数据库 / unsupported database '{backend}' "
                "(sqlite:///… or postgresql+psycopg://…)"
            )
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if backend == "sqlite":
            path = parsed.database
            if not create and path and path != ":memory:" and not Path(path).exists():
                raise UnusableInput(
                    f"数据库文件不存在 / no database file at {path}; 请先运行 xinyong init / "
                    "run `xinyong init` first"
                )
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        try:
            with engine.connect():
                pass
        except BaseException:
            engine.dispose()
            raise
    return engine


@contextmanager
def opened(url: str = DEFAULT_URL, *, create: bool = True) -> Iterator[Engine]:
    """``connect(url)`` for the length of a ``with`` block; the pool is closed afterwards."""
    engine = connect(url, create=create)
    try:
        yield engine
    finally:
        engine.dispose()


#: SQLite's page cache per connection, in KiB.
SQLITE_CACHE_KIB = 256 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Safe with WAL: a committed batch survives a killed process; only power loss may drop
        # the last commit, never half of one.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Up to 256 MiB of page cache per connection (grown only as used): a batch is one
        # transaction writing ~40 derived rows per input row, and with SQLite's default 2 MB the
        # indexes' hot pages fall out and a 200,000-row load crawls (docs/decisions.md).
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "…"
