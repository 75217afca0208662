"""Two fresh databases of the same kind (SQLite files, or PostgreSQL databases of their own), so
one set of rows can be loaded two ways and the results compared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.conftest import NewStore

from xinyong.store.engine import connect


@pytest.fixture()
def other_engine(db_url: str, new_store: NewStore) -> Iterator[Engine]:
    """A second migrated database on the same backend as ``engine``."""
    eng = connect(new_store(db_url))
    try:
        yield eng
    finally:
        eng.dispose()
