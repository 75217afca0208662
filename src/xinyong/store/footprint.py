"""Which catalog derived the store's tables: the footprint the pipeline leaves behind.

::

    catalog_footprint   one row per list, measure and action id that the derived tables (list
                        entries, the restriction index) hold, with the version of the catalog
                        that first derived rows with it; and one row of kind ``run`` with the
                        version of the catalog that last ran the pipeline.

A catalog that lacks an id the store holds would drop its rows without a word the next time the
pipeline touches them (an operator's measure, gone because a command ran without the operator's
folder). So every run of the pipeline first calls :func:`require_covered`: it reads this small
table (tens of rows) and refuses such a catalog with :class:`~xinyong.errors.CatalogMismatch`
before anything is written. After the steps, :func:`remember` adds the ids the run derived that
the table did not hold yet (usually none) and the run's catalog version when it changed, so a
run costs one small read and, most of the time, no write. Only migration 0009 scanned the big
tables, once, for a store derived before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from xinyong.catalog.model import Catalog
from xinyong.errors import CatalogMismatch
from xinyong.store.metadata import metadata

#: What the derived tables hold, by kind, and the catalog section each kind lives in.
SECTIONS: Mapping[str, str] = {"list": "lists", "measure": "measures", "action": "actions"}
#: The kind of the one row that holds the version of the catalog that last ran the pipeline.
RUN = "run"
#: The version of ids a store held before migration 0009 (no record of which catalog it was).
UNRECORDED = "unrecorded"

catalog_footprint = Table(
    "catalog_footprint",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("catalog_version", String(64), nullable=False),
    CheckConstraint("kind IN ('run', 'list', 'measure', 'action')", name="kind"),
)


@dataclass(frozen=True)
class Footprint:
    """The ids the derived tables hold, ``(kind, id) → version that first derived them``, and
    the version of the catalog that last ran the pipeline (None before the first run)."""

    held: Mapping[tuple[str, str], str]
    last_run: str | None

    def missing_from(self, catalog: Catalog) -> dict[tuple[str, str], str]:
        """The held ids ``catalog`` lacks, with the version that derived each."""
        return {
            (kind, entity_id): version
            for (kind, entity_id), version in sorted(self.held.items())
            if entity_id not in catalog.section(SECTIONS[kind])
        }


def read_footprint(conn: Connection) -> Footprint:
    held: dict[tuple[str, str], str] = {}
    last_run = None
    for kind, entity_id, version in conn.execute(select(catalog_footprint)):
        if kind == RUN:
            last_run = version
        else:
            held[(kind, entity_id)] = version
    return Footprint(held, last_run)


def require_covered(target: Engine | Connection, catalog: Catalog) -> Footprint:
    """The store's footprint, when ``catalog`` has every id in it; else
    :class:`CatalogMismatch` naming the ids it lacks and the catalog versions that derived them.
    """
    if isinstance(target, Engine):
        with target.connect() as conn:
            footprint = read_footprint(conn)
    else:
        footprint = read_footprint(target)
    missing = footprint.missing_from(catalog)
    if missing:
        raise CatalogMismatch(_describe(missing, catalog))
    return footprint


def _describe(missing: Mapping[tuple[str, str], str], catalog: Catalog) -> str:
    by_version: dict[str, list[str]] = {}
    for (kind, entity_id), version in missing.items():
        by_version.setdefault(version, []).append(f"{kind} {entity_id}")
    zh = "；".join(f"{'、'.join(ids)}（{_derived_zh(v)}）" for v, ids in by_version.items())
    en = "; ".join(f"{', '.join(ids)} ({_derived_en(v)})" for v, ids in by_version.items())
    return (
        f"数据库中有 {zh}，当前目录 {catalog.version} 中没有；请带上写入它们的目录文件夹"
        f"（XINYONG_CATALOG 或 --catalog）再运行 / the store holds {en}, which the catalog in "
        f"force ({catalog.version}) lacks; run with the catalog folders that derived them "
        "(XINYONG_CATALOG or --catalog)"
    )


def _derived_zh(version: str) -> str:
    return "推导它们的目录版本未记录" if version == UNRECORDED else f"由目录 {version} 推导"


def _derived_en(version: str) -> str:
    if version == UNRECORDED:
        return "derived before the store recorded catalog versions"
    return f"derived by catalog {version}"


def remember(
    conn: Connection,
    catalog: Catalog,
    footprint: Footprint,
    *,
    lists: Iterable[str] = (),
    measures: Iterable[str] = (),
    actions: Iterable[str] = (),
) -> None:
    """Add the ids a run derived that ``footprint`` did not hold, and the run's catalog version
    when it is not the last run's. Concurrent runs may add the same id: the first one wins."""
    derived = {("list", i) for i in lists}
    derived |= {("measure", i) for i in measures}
    derived |= {("action", i) for i in actions}
    new = [
        {"kind": kind, "entity_id": entity_id, "catalog_version": catalog.version}
        for kind, entity_id in sorted(derived - footprint.held.keys())
    ]
    if new:
        conn.execute(_insert_new(conn), new)
    if footprint.last_run != catalog.version:
        run = {"kind": RUN, "entity_id": "", "catalog_version": catalog.version}
        if footprint.last_run is None:
            conn.execute(_insert_new(conn), [run])
        else:
            conn.execute(
                update(catalog_footprint)
                .where(catalog_footprint.c.kind == RUN)
                .values(catalog_version=catalog.version)
            )


def _insert_new(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT DO NOTHING, on the two databases the store supports."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(catalog_footprint).on_conflict_do_nothing()
    return sqlite.insert(catalog_footprint).on_conflict_do_nothing()
