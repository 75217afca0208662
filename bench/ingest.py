"""Ingest benchmark: full validation, versioning, provenance and linking vs a bare load.

Generates N judgment-defaulter rows (5% bad of four kinds: bad checksum, impossible date,
missing name, unknown ground wording) with ``xinyong.codes``, then in the same run:

- SQLite: ``ingest_file`` into a fresh database vs a bare ``sqlite3.executemany`` of the same
  rows into the same tables (records + provenance, no validation, no linking);
- PostgreSQL (if running): ``ingest_file`` vs ``COPY`` into the same tables;
- peak memory (ru_maxrss of a fresh process) for ingesting N/4 and N rows, to show it flat.

The seconds each pipeline step took are printed too: ingest hands every chunk to
``xinyong.pipeline`` (link → lists → measures → feed) in the same transaction. ``--steps link``
runs linking only, which is what ingest itself owns; the default runs every step, as shipped.

On PostgreSQL the run also prints the database's own floor for what the pipeline derived: the
derived rows (list entries, restriction index, outbox events) copied out of our store and timed
``COPY``-ing back into empty copies of their tables (same columns, same indexes), with the
counts per accepted row; then again into copies that also carry the tables' foreign keys (the
store checks them on every row it writes: ``list_entries`` references ``records`` and
``subjects``). No Python work is in those figures: they are what the current derived form costs
the database alone, and so the best ratio it allows (``--repeat`` runs the whole thing several
times and prints the medians). With ``--steps link`` the same is done for what linking writes
besides the records (the subjects it creates, their codes and names, leads), which the bare
load does not write.

``--grow N`` first fills both PostgreSQL stores with N records and analyses them (the bare
load's store is a copy of ours): look-ups by key and by id then meet the index of a store that
already holds what a province has loaded, not an empty one.

Usage: python bench/ingest.py --rows 50000 [--no-pg] [--steps link|all] [--no-memory] [--repeat 3]
       [--grow 2000000]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from xinyong import pipeline
from xinyong.catalog import default_catalog
from xinyong.changes import Change
from xinyong.codes import ric, uscc
from xinyong.ingest import ingest_file
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade

HEADER = ["被执行人姓名/名称", "身份证号码/组织机构代码", "执行法院", "案号",
          "失信被执行人行为具体情形", "发布时间", "生效法律文书确定的义务"]  # fmt: skip
GROUNDS = ["有履行能力而拒不履行生效法律文书确定义务的", "违反财产报告制度的", "违反限制消费令的",
           "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    people = [ric.generate(rng) for _ in range(min(rows, 20000))]
    firms = [uscc.generate(rng, authority="9", category="1") for _ in range(min(rows, 5000))]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(rows):
            code = rng.choice(people) if rng.random() < 0.8 else rng.choice(firms)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 2 else "")
            ground, day = (
                rng.choice(GROUNDS),
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            )
            bad = rng.random()
            if bad < 0.0125:
                code = code[:-1] + ("0" if code[-1] != "0" else "1")
            elif bad < 0.025:
                day = "2024-02-30"
            elif bad < 0.0375:
                name = ""
            elif bad < 0.05:
                ground = "欠钱不还"
            court = "北京市朝阳区人民法院"
            out.writerow([name, code, court, f"（2024）京0105执{i}号", ground, day, "偿还借款"])


def bare_sqlite(db: Path, src: Path) -> float:
    """The baseline: same rows, same tables, no validation, one transaction."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    now = datetime.now(UTC).isoformat(" ")
    cur = conn.execute(
        "INSERT INTO batches (record_type, source, file_name, file_sha256, started_at, state) "
        "VALUES ('judgment_defaulter', 'spc', ?, '', ?, 'done')",
        (src.name, now),
    )
    batch = cur.lastrowid
    with src.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        chunk: list[tuple[object, ...]] = []
        first_id = 1
        for number, row in enumerate(reader, start=2):
            key = hashlib.sha256(("|".join(row)).encode()).hexdigest()
            chunk.append(
                (row[1], row[0], row[3], json.dumps(row, ensure_ascii=False), now, key, number)
            )
            if len(chunk) == 5000:
                first_id = _bare_chunk(conn, chunk, batch, first_id)
                chunk = []
        _bare_chunk(conn, chunk, batch, first_id)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _bare_chunk(
    conn: sqlite3.Connection, chunk: list[tuple[object, ...]], batch: int | None, first: int
) -> int:
    conn.executemany(
        "INSERT INTO records (id, record_type, source, subject_code, subject_name, document_no, "
        "fields, status, version, recorded_at, record_key, row_hash) VALUES "
        "(?, 'judgment_defaulter', 'spc', ?, ?, ?, ?, 'active', 1, ?, ?, ?)",
        [(first + i, *c[:5], c[5], c[5]) for i, c in enumerate(chunk)],
    )
    conn.executemany(
        "INSERT INTO provenance (record_id, batch_id, source, row_number, record_key) "
        "VALUES (?, ?, 'spc', ?, ?)",
        [(first + i, batch, c[6], c[5]) for i, c in enumerate(chunk)],
    )
    return first + len(chunk)


def bare_pg(url: str, src: Path) -> float:
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    start = time.perf_counter()
    now = datetime.now(UTC)
    with conn.transaction():
        batch = conn.execute(
            "INSERT INTO batches (record_type, source, file_name, file_sha256, started_at, state) "
            "VALUES ('judgment_defaulter', 'spc', %s, '', %s, 'done') RETURNING id",
            (src.name, now),
        ).fetchone()[0]  # type: ignore[index]
        with src.open(encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            rows = list(enumerate(reader, start=2))
        keys = [hashlib.sha256(("|".join(row)).encode()).hexdigest() for _, row in rows]
        with conn.cursor().copy(
            "COPY records (id, record_type, source, subject_code, subject_name, document_no, "
            "fields,"
            " status, version, recorded_at, record_key, row_hash) FROM STDIN"
        ) as copy:
            for i, ((_, row), key) in enumerate(zip(rows, keys, strict=True), start=1):
                copy.write_row((i, "judgment_defaulter", "spc", row[1], row[0], row[3],
                                json.dumps(row, ensure_ascii=False), "active", 1, now, key,
                                key))  # fmt: skip
        with conn.cursor().copy(
            "COPY provenance (record_id, batch_id, source, row_number, record_key) FROM STDIN"
        ) as copy:
            for i, ((number, _), key) in enumerate(zip(rows, keys, strict=True), start=1):
                copy.write_row((i, batch, "spc", number, key))
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


STEP_SECONDS: dict[str, float] = {}


def timed(step: pipeline.Step) -> pipeline.Step:
    def run(conn: Any, change: Change) -> None:
        start = time.perf_counter()
        try:
            step(conn, change)
        finally:
            name = step.__name__
            STEP_SECONDS[name] = STEP_SECONDS.get(name, 0.0) + time.perf_counter() - start

    return run


def use_steps(which: str) -> None:
    steps = pipeline.STEPS if which == "all" else (pipeline.link_step,)
    pipeline.STEPS = tuple(timed(s) for s in steps)


ACCEPTED: list[int] = []
#: Statements sent while ingesting: through SQLAlchemy, and bulk writes (one COPY or executemany).
STATEMENTS = {"sql": 0, "bulk": 0}


def count_bulk_writes() -> None:
    """Count ``insert_rows`` calls in every module that writes with it."""
    import xinyong.feed.events
    import xinyong.ingest.load
    import xinyong.link.attach
    import xinyong.lists.derive
    import xinyong.measures.index

    for module in (xinyong.feed.events, xinyong.ingest.load, xinyong.link.attach,
                   xinyong.lists.derive, xinyong.measures.index):  # fmt: skip
        write = module.insert_rows

        def counted(*args: Any, _write: Any = write) -> None:
            STATEMENTS["bulk"] += 1
            _write(*args)

        module.insert_rows = counted  # type: ignore[attr-defined]


def _count_sql(*_: Any) -> None:
    STATEMENTS["sql"] += 1


def ours(url: str, src: Path) -> tuple[float, str]:
    STEP_SECONDS.clear()
    with opened(url) as engine:
        upgrade(engine)
        STATEMENTS.update(sql=0, bulk=0)
        event.listen(engine, "before_cursor_execute", _count_sql)
        start = time.perf_counter()
        result = ingest_file(engine, src, "judgment_defaulter", "spc", catalog=default_catalog())
        elapsed = time.perf_counter() - start
    ACCEPTED[:] = [result.accepted]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in STEP_SECONDS.items())
    sent = STATEMENTS["sql"] + STATEMENTS["bulk"]
    summary = (
        f"accepted {result.accepted}, rejected {result.rejected}, subjects {result.subjects}; "
        f"pipeline steps: {steps}; statements {STATEMENTS['sql']} + {STATEMENTS['bulk']} bulk "
        f"writes = {sent / max(result.accepted, 1):.4f} per row"
    )
    return elapsed, summary


#: The tables the pipeline derives from records, as ``floor_pg`` copies them.
DERIVED = ("list_entries", "restrictions", "feed_events")
#: What linking writes besides the records the bare load writes too: the subjects it creates,
#: their codes and names, and leads for the records it cannot link; and, on the records, what
#: their foreign keys add (a linked record's ``subject_id`` is checked against ``subjects``,
#: which the bare load's NULL is not).
LINKED = ("subjects", "subject_identifiers", "subject_names", "link_leads")
LINKED_KEYS = ("records",)


def _ours(table: str) -> str:
    """The rows of ``table`` the run wrote (not those ``--grow`` added before it)."""
    return f"id < {GROWN_FIRST_ID}" if table == "records" else "true"


def floor_pg(
    url: str, accepted: int, tables: tuple[str, ...], keys_only: tuple[str, ...] = ()
) -> tuple[float, float, str]:
    """Seconds the database takes to ``COPY`` the rows our ingest derived into ``tables`` (see
    the docstring): into copies of those tables with the same columns and indexes, then into
    copies that also have the tables' foreign keys (what the store's own tables check on every
    row written). Of the ``keys_only`` tables, whose rows the bare load writes too, only what
    their foreign keys add counts."""
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    seconds = keyed = 0.0
    counts = []
    with conn.transaction():
        for table in (*tables, *keys_only):
            data = io.BytesIO()
            rows = f"(SELECT * FROM {table} WHERE {_ours(table)})"
            with conn.cursor().copy(f"COPY {rows} TO STDOUT") as out:
                for block in out:
                    data.write(block)
            keys = conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
                (table,),
            ).fetchall()
            count = conn.execute(f"SELECT count(*) FROM {rows} AS r").fetchone()[0]  # type: ignore[index]
            took = []
            for copy_of, with_keys in ((f"floor_{table}", False), (f"floor_keyed_{table}", True)):
                conn.execute(f"CREATE TABLE {copy_of} (LIKE {table} INCLUDING ALL)")
                for (definition,) in keys if with_keys else ():
                    conn.execute(f"ALTER TABLE {copy_of} ADD {definition}")
                start = time.perf_counter()
                with conn.cursor().copy(f"COPY {copy_of} FROM STDIN") as copy:
                    copy.write(data.getvalue())
                took.append(time.perf_counter() - start)
            if table in keys_only:
                keyed += max(0.0, took[1] - took[0])
            else:
                seconds += took[0]
                keyed += took[1]
            counts.append(
                f"{table} {count:,} ({count / max(accepted, 1):.1f}/row; {took[0]:.2f} s, "
                f"{took[1]:.2f} s with its {len(keys)} foreign keys)"
            )
    conn.close()
    return seconds, keyed, ", ".join(counts)


def fresh_pg(template: str | None = None) -> str | None:
    """A new database (a copy of ``template``'s, if given); None if PostgreSQL is not running."""
    try:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:10]}"
        copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}" STRATEGY FILE_COPY' if template else ""
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
    except Exception:
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


#: The first id of the records ``--grow`` adds: far above any id the bench's own loads take.
GROWN_FIRST_ID = 10**12


def grow_pg(url: str, count: int) -> float:
    """Add ``count`` records to the store, then ``ANALYZE`` it: a store that already holds what
    a province has loaded, so look-ups by key and by id meet a realistic index (the records
    are court defaulter records of nobody — no subject — with keys of their own). Seconds."""
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(
            "INSERT INTO records (id, record_type, source, subject_name, fields, status, version,"
            " recorded_at, record_key, row_hash) SELECT %s + g, 'judgment_defaulter', 'spc',"
            " '存量记录', '{}', 'active', 1, now(), encode(sha256(('grown' || g)::bytea), 'hex'),"
            " encode(sha256(('row' || g)::bytea), 'hex') FROM generate_series(1, %s) AS g",
            (GROWN_FIRST_ID, count),
        )
        conn.commit()
        conn.execute("ANALYZE")
    return time.perf_counter() - start


def drop_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


#: The ratio each run aims at: the whole pipeline, and linking only (issue 19).
GOALS = {"all": 0.1, "link": 0.5}
RATIOS: dict[str, list[tuple[float, float]]] = {}


def report(label: str, rows: int, mine: float, bare: float, summary: str, goal: float) -> None:
    RATIOS.setdefault(label, []).append((mine, bare))
    print(
        f"{label}: xinyong {rows / mine:,.0f} rows/s ({mine:.1f} s; {summary}); "
        f"bare baseline {rows / bare:,.0f} rows/s ({bare:.1f} s); "
        f"xinyong/bare rate ratio {bare / mine:.3f} (goal >= {goal})"
    )


def memory_child(src: Path, steps: str) -> None:
    """In a fresh process: peak RSS while ingesting ``src`` (generated by the parent)."""
    default_catalog()
    use_steps(steps)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours(f"sqlite:///{src.parent}/m-{src.stem}.db", src)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kib": peak, "before_kib": base}))


def pg_run(
    tmp: str, src: Path, rows: int, no_pg: bool, goal: float, run: int, grow: int = 0
) -> None:
    """One run: SQLite then PostgreSQL, ours and the bare load each, then the derived floor.
    ``grow``: records both PostgreSQL stores hold before the run (``grow_pg``)."""
    mine, summary = ours(f"sqlite:///{tmp}/ours{run}.db", src)
    with opened(f"sqlite:///{tmp}/bare{run}.db") as engine:
        upgrade(engine)
    bare = bare_sqlite(Path(tmp) / f"bare{run}.db", src)
    report("SQLite", rows, mine, bare, summary, goal)
    if no_pg:
        return
    url = fresh_pg()
    if url is not None and grow:
        with opened(url) as engine:
            upgrade(engine)
        took = grow_pg(url, grow)
        print(f"PostgreSQL: both stores hold {grow:,} records before the run ({took:.0f} s)")
    url2 = fresh_pg(template=url if grow else None) if url else None
    if url is None or url2 is None:
        print("PostgreSQL: not running on 127.0.0.1:5432, skipped")
        return
    try:
        mine, summary = ours(url, src)
        with opened(url2) as engine:
            upgrade(engine)
        bare = bare_pg(url2, src)
        report("PostgreSQL", rows, mine, bare, summary, goal)
        if not ACCEPTED:
            return
        link_only = STEP_SECONDS.keys() == {"link_step"}
        tables = LINKED if link_only else DERIVED
        floor, keyed, counts = floor_pg(url, ACCEPTED[0], tables, LINKED_KEYS if link_only else ())
        RATIOS.setdefault("PostgreSQL derived-rows floor", []).append((floor + bare, bare))
        RATIOS.setdefault("PostgreSQL derived-rows floor with foreign keys", []).append(
            (keyed + bare, bare)
        )
        print(
            f"PostgreSQL floor: COPY of the derived rows alone {floor:.1f} s, {keyed:.1f} s with "
            f"the tables' foreign keys ({counts}); with the bare load, the best ratio this "
            f"derived form allows is {bare / (bare + floor):.3f}, "
            f"{bare / (bare + keyed):.3f} with the foreign keys"
        )
    finally:
        drop_pg(url)
        drop_pg(url2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--steps", choices=("all", "link"), default="all")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--grow",
        type=int,
        default=0,
        help="records both PostgreSQL stores hold before each run (e.g. 2000000)",
    )
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.steps)
        return
    print(f"pipeline steps as shipped: {', '.join(s.__name__ for s in pipeline.STEPS)}")
    print(f"running: {args.steps}")
    use_steps(args.steps)
    count_bulk_writes()
    rows = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "defaulters.csv"
        t = time.perf_counter()
        generate(src, rows)
        print(
            f"generated {rows:,} rows ({src.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        goal = GOALS[args.steps]
        for run in range(args.repeat):
            pg_run(tmp, src, rows, args.no_pg, goal, run, args.grow)
        for label, pairs in RATIOS.items():
            mine = statistics.median(m for m, _ in pairs)
            bare = statistics.median(b for _, b in pairs)
            ratio = statistics.median(b / m for m, b in pairs)
            print(
                f"{label} median of {len(pairs)}: xinyong {rows / mine:,.0f} rows/s, bare "
                f"{rows / bare:,.0f} rows/s; median of the runs' ratios {ratio:.3f} "
                f"(goal >= {goal})"
            )
        for size in () if args.no_memory else (max(rows // 4, 1000), rows):
            part = Path(tmp) / f"mem{size}.csv"
            generate(part, size, seed=3)
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(part), "--steps", args.steps],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            data = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"peak memory ingesting {size:,} rows: {data['peak_kib'] / 1024:.0f} MiB "
                f"(after imports and catalog, before loading: {data['before_kib'] / 1024:.0f} MiB)"
            )


if __name__ == "__main__":
    main()
