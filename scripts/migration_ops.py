"""Print the Alembic operations that would bring a database at the newest migration up to the
tables the code defines: a starting point for the next migration file (read and tidy it).

    python scripts/migration_ops.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from xinyong.all_tables import full_metadata
from xinyong.store.schema import upgrade


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            ops = produce_migrations(context, full_metadata()).upgrade_ops
            print(render_python_code(ops) if ops is not None else "# nothing to migrate")
        engine.dispose()


if __name__ == "__main__":
    main()
