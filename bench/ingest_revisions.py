"""Ingest through the whole pipeline on PostgreSQL into a store at two schema revisions, same run.

    python bench/ingest_revisions.py --rows 10000 --repeat 4 [--before 0010]

Alternating (ABBA…): a fresh database migrated to ``--before`` (default: the revision 0013
follows — the restriction index with its foreign keys to subjects), and one at head (without),
each loading the same generated court defaulter file (``bench/ingest.py``'s generator). Prints
each run, the medians and head's time as a fraction of the other's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from alembic.script import ScriptDirectory

sys.path.insert(0, str(Path(__file__).parent))
from ingest import drop_pg, fresh_pg, generate
from xinyong.catalog import default_catalog
from xinyong.ingest import ingest_file
from xinyong.store.engine import opened
from xinyong.store.schema import alembic_config, migrate, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=4)
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0013").down_revision
    parser.add_argument("--before", default=str(before))
    args = parser.parse_args()
    catalog = default_catalog()
    seconds: dict[str, list[float]] = {args.before: [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "defaulters.csv"
        generate(src, args.rows)
        for run in range(args.repeat):
            order = list(seconds) if run % 2 == 0 else list(reversed(seconds))
            for revision in order:
                url = fresh_pg()
                if url is None:
                    print("PostgreSQL: not running on 127.0.0.1:5432")
                    return
                try:
                    with opened(url) as engine:
                        if revision == "head":
                            upgrade(engine)
                        else:
                            migrate(engine, revision)
                        start = time.perf_counter()
                        ingest_file(engine, src, "judgment_defaulter", "spc", catalog=catalog)
                        seconds[revision].append(time.perf_counter() - start)
                finally:
                    drop_pg(url)
                print(f"run {run + 1}, revision {revision}: {seconds[revision][-1]:.1f} s")
    for revision, runs in seconds.items():
        median = statistics.median(runs)
        print(f"revision {revision}: median {median:.1f} s ({args.rows / median:,.0f} rows/s), "
              f"runs {', '.join(f'{s:.1f}' for s in runs)}")  # fmt: skip
    old, new = (statistics.median(runs) for runs in seconds.values())
    print(f"head takes {new / old:.2f} of the time of revision {args.before}")


if __name__ == "__main__":
    main()
