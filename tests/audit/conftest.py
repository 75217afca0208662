"""Audit fixtures: the chain is tested on the store's own audit tables, as the migrations make
them (on PostgreSQL, ``audit_events`` is partitioned by month), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture()
def audit_engine(engine: Engine) -> Engine:
    """``engine`` (a migrated store on ``db_url``), under the name these tests read best with."""
    return engine
