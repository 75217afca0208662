"""The whole schema and its migrations: create or upgrade a database to the newest revision.

The tables the migrations build are listed, one module a line, in :mod:`xinyong.all_tables`
(above every part that defines tables; the test that the migrations match the tables uses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from xinyong.errors import UnusableInput
from xinyong.store.engine import database_errors
from xinyong.store.partitions import ensure_audit_partitions

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never initialised."""
    with database_errors(), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass(frozen=True)
class InitResult:
    url: str
    before: str | None
    after: str
    #: Monthly audit partitions this run created (PostgreSQL; ``ensure_audit_partitions``).
    partitions: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        if self.before is None:
            return "created"
        return "unchanged" if self.before == self.after else "upgraded"


def upgrade(engine: Engine) -> InitResult:
    """Create the schema in an empty database, or upgrade it to the newest revision; on
    PostgreSQL also create the coming months' audit partitions. Idempotent."""
    before = current_revision(engine)
    migrate(engine, "head")
    with database_errors(), engine.begin() as conn:
        created = ensure_audit_partitions(conn)
    return InitResult(
        url=engine.url.render_as_string(hide_password=True),
        before=before,
        after=head_revision(),
        partitions=tuple(created),
    )


def migrate(engine: Engine, revision: str) -> None:
    """Upgrade or downgrade to ``revision`` in one transaction."""
    with database_errors(), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A migration changes a constraint on SQLite by rebuilding the table (Alembic's batch
            # mode), which with foreign keys on would count every row referring to the dropped
            # table as a violation; so they are off while migrating and checked once at the end.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()  # outside a transaction, or SQLite ignores it
        try:
            with conn.begin():
                config = alembic_config()
                config.attributes["connection"] = conn
                current = MigrationContext.configure(conn).get_current_revision()
                wanted = head_revision() if revision == "head" else revision
                if current is not None and _is_newer(current, wanted):
                    command.downgrade(config, revision)
                else:
                    command.upgrade(config, revision)
                if sqlite:
                    _check_references(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _is_newer(current: str, than: str) -> bool:
    """Whether revision ``current`` comes after ``than`` in the (linear) history."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == than for rev in script.iterate_revisions(current, "base")) and (
        current != than
    )


def _check_references(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise UnusableInput(
            f"升级后表 {broken[0]} 第 {broken[1]} 行的引用无效，已回滚 / after the upgrade, row "
            f"{broken[1]} of {broken[0]} refers to a missing {broken[2]} row; rolled back"
        )


def require_current(engine: Engine) -> None:
    """Refuse a database that ``xinyong init`` has not brought to the newest revision."""
    current = current_revision(engine)
    if current != head_revision():
        state = (
            "未初始化 / not initialised" if current is None else f"版本 {current} 过旧 / outdated"
        )
        raise UnusableInput(
            f"数据库{state}; 请先运行 xinyong init / run `xinyong init` first "
            f"({engine.url.render_as_string(hide_password=True)})"
        )
