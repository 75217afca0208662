"""Pipeline benchmark: ingest with every step (link → lists → measures → feed) vs link only.

Generates N judgment-defaulter rows (``bench/ingest.py``'s generator: 80 % people, 20 %
enterprises, 5 % bad rows) and, for the enterprises among them, officer rows (a legal
representative each, a principal or actual controller for some, a director for others) so that
role-linked restrictions reach people. Then, in the same run and on the same files:

- every step, as shipped: seconds per step, rows/s, and what was derived (list entries, index
  rows, of which role-linked, outbox events);
- the baseline: the same ingest with linking only (``--steps link`` of ``bench/ingest.py``);
- the ratio of the two rates.

On SQLite (a fresh file) and, if it is running, PostgreSQL at 127.0.0.1:5432 (fresh databases,
dropped afterwards).

A batch is one transaction: at 200,000 rows it writes ~4 million index rows and ~4 million
events. SQLite's default page cache (2 MB) then spills dirty pages to the WAL over and over;
``--sqlite-cache-mib 256`` shows the same run with a page cache that holds the indexes' hot pages.

Usage: python bench/pipeline.py --rows 20000 [--no-pg] [--no-sqlite] [--sqlite-cache-mib 256]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import ColumnElement, Table, event, func, select

from xinyong import pipeline
from xinyong.catalog import default_catalog
from xinyong.catalog.model import Catalog
from xinyong.feed.tables import feed_events
from xinyong.ingest import ingest_file
from xinyong.lists.tables import list_entries
from xinyong.measures.tables import restrictions
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as ingest_bench  # bench/ingest.py: the generator, step timing, PostgreSQL

SHIPPED = pipeline.STEPS
OFFICER_HEADER = ["企业名称", "统一社会信用代码", "人员姓名", "人员身份证号码", "职务", "任职日期"]
POSTS = ["实际控制人", "主要负责人", "董事", "监事"]
#: Files to load, in order: (path, record type, source).
Files = list[tuple[Path, str, str]]


def officers(defaulters: Path, out: Path, seed: int = 2) -> int:
    """Officer rows for the enterprises in the defaulters file; returns how many."""
    rng = random.Random(seed)
    firms: set[str] = set()
    people: set[str] = set()
    with defaulters.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["身份证号码/组织机构代码"]
            (firms if code.startswith("9") else people).add(code)
    who = sorted(people)
    count = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(OFFICER_HEADER)
        for i, firm in enumerate(sorted(firms)):
            posts = ["法定代表人"] + ([rng.choice(POSTS)] if rng.random() < 0.5 else [])
            for post in posts:
                day = f"20{rng.randint(10, 22)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                writer.writerow([f"某某{i}有限公司", firm, "李强", rng.choice(who), post, day])
                count += 1
    return count


def run(url: str, files: Files, steps: str, catalog: Catalog, sqlite_cache_mib: int = 0) -> float:
    """Ingest ``files`` (path, record type, source) into ``url`` with ``steps``; seconds.
    ``sqlite_cache_mib``: SQLite's page cache per connection (0: as shipped, SQLite's 2 MB)."""
    pipeline.STEPS = SHIPPED
    ingest_bench.use_steps(steps)
    ingest_bench.STEP_SECONDS.clear()
    with opened(url) as engine:
        if sqlite_cache_mib and engine.dialect.name == "sqlite":
            pragma = f"PRAGMA cache_size=-{sqlite_cache_mib * 1024}"
            event.listen(engine, "checkout", lambda dbapi, *_: dbapi.execute(pragma))
        upgrade(engine)
        start = time.perf_counter()
        for path, record_type, source in files:
            ingest_file(engine, path, record_type, source, catalog=catalog)
        elapsed = time.perf_counter() - start
    pipeline.STEPS = SHIPPED
    return elapsed


def derived(url: str) -> str:
    """What the run derived: current list entries and index rows, and outbox events."""
    with opened(url) as engine, engine.connect() as conn:

        def count(table: Table, *where: ColumnElement[bool]) -> int:
            query = select(func.count()).select_from(table).where(*where)
            return int(conn.execute(query).scalar_one())

        current = restrictions.c.superseded_at.is_(None)
        return (
            f"{count(list_entries, list_entries.c.superseded_at.is_(None)):,} list entries, "
            f"{count(restrictions, current):,} index rows "
            f"({count(restrictions, current, restrictions.c.role.is_not(None)):,} role-linked), "
            f"{count(feed_events):,} events"
        )


def compare(
    label: str,
    rows: int,
    urls: Callable[[], tuple[str, str]],
    files: Files,
    catalog: Catalog,
    cache: int = 0,
) -> None:
    """Every step, then link only, on fresh databases from ``urls``; prints both and the ratio."""
    full_url, link_url = urls()
    full = run(full_url, files, "all", catalog, cache)
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in ingest_bench.STEP_SECONDS.items())
    made = derived(full_url)
    link = run(link_url, files, "link", catalog, cache)
    print(
        f"{label}: all steps {rows / full:,.0f} rows/s ({full:.1f} s; {steps}; {made}); "
        f"link only {rows / link:,.0f} rows/s ({link:.1f} s); "
        f"all-steps/link-only rate ratio {link / full:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--sqlite-cache-mib",
        type=int,
        default=0,
        help="SQLite page cache per connection in MiB (default: as shipped, 2 MB)",
    )
    args = parser.parse_args()
    catalog = default_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "defaulters.csv"
        ingest_bench.generate(src, args.rows)
        staff = officers(src, folder / "officers.csv")
        files = [
            (folder / "officers.csv", "enterprise_officer", "samr"),
            (src, "judgment_defaulter", "spc"),
        ]
        rows = args.rows + staff
        print(f"generated {args.rows:,} defaulter rows and {staff:,} officer rows")
        if not args.no_sqlite:
            n = iter(range(10))

            def sqlite_urls() -> tuple[str, str]:
                return f"sqlite:///{tmp}/all{next(n)}.db", f"sqlite:///{tmp}/link{next(n)}.db"

            cache = args.sqlite_cache_mib
            label = f"SQLite (page cache {cache} MiB)" if cache else "SQLite"
            compare(label, rows, sqlite_urls, files, catalog, cache)
        if not args.no_pg:
            made: list[str] = []

            def pg_urls() -> tuple[str, str]:
                for _ in range(2):
                    url = ingest_bench.fresh_pg()
                    if url is None:
                        raise ConnectionError("PostgreSQL is not running on 127.0.0.1:5432")
                    made.append(url)
                return made[-2], made[-1]

            try:
                compare("PostgreSQL", rows, pg_urls, files, catalog)
            except ConnectionError as exc:
                print(f"PostgreSQL: skipped ({exc})")
            finally:
                for url in made:
                    ingest_bench.drop_pg(url)


if __name__ == "__main__":
    main()
