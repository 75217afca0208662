"""Every table the store holds, on the one shared ``metadata``: one import per part that
defines tables, one line each.

What the migrations are compared with (``tests/store/test_schema.py``,
``scripts/migration_ops.py``). It sits above every part it names: the store itself never
imports it, so the parts keep their order (store below audit, lists, measures, process, feed).
"""

from __future__ import annotations

from sqlalchemy import MetaData

from xinyong.audit import tables as audit_tables
from xinyong.feed import tables as feed_tables
from xinyong.lists import tables as lists_tables
from xinyong.measures import tables as measures_tables
from xinyong.process import tables as process_tables
from xinyong.store import footprint as footprint_tables
from xinyong.store import tables as store_tables
from xinyong.store.metadata import metadata
from xinyong.web import tables as web_tables

#: The modules that define tables (importing them puts their tables on ``metadata``).
TABLE_MODULES = (
    store_tables,
    footprint_tables,
    audit_tables,
    lists_tables,
    measures_tables,
    process_tables,
    feed_tables,
    web_tables,
)


def full_metadata() -> MetaData:
    """The shared metadata, every table on it."""
    return metadata
