"""Audit fixtures: an engine on ``db_url`` (SQLite and PostgreSQL) with just the audit tables.

The tables are made with ``metadata.create_all`` for these two tables only, so the chain is
tested on its own; ``test_database_made_by_init_is_verifiable`` covers the migration's tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from xinyong.audit.tables import audit_events, audit_head
from xinyong.store.engine import connect
from xinyong.store.metadata import metadata


@pytest.fixture()
def audit_engine(db_url: str) -> Iterator[Engine]:
    engine = connect(db_url)
    metadata.create_all(engine, tables=[audit_events, audit_head])
    try:
        yield engine
    finally:
        engine.dispose()
