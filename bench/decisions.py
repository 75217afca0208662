# ruff: noqa: E501
"""Bench: single checks (in-process and over HTTP) and bulk screening, each against a baseline.

    python bench/decisions.py --subjects 1000000 --restrictions 100000 --screen-rows 10000000

A synthetic SQLite store: ``--subjects`` individuals (valid citizen numbers), ``--restrictions``
index rows for ``buy_flight_ticket`` inserted directly. Prints:

- in-process ``Checker.check`` (decision logged and audited, answered after its commit): p50 /
  p99 latency; baselines: the bare indexed SELECTs on the same rows, and the FLOOR: the same two
  SELECTs + one INSERT of a decision-sized row + one INSERT of an audit-sized row + a commit per
  check, on the plain driver (``sqlite3`` / ``psycopg``), no xinyong code (``Floor``);
- HTTP: ``uvicorn`` (``--workers``) serving the app, a bare FastAPI endpoint answering from
  memory (``bare_app``) and a bare FastAPI endpoint doing the floor's work per request
  (``floor_app``), each loaded by ``wrk`` the same way, interleaved: requests/s, p99, server
  CPU per request;
- ``screen`` of ``--screen-rows`` codes (Parquet, 0.1% invalid) against a bare DuckDB join of
  the same codes with the same restriction table, in the same run; the ratio and peak RSS;
  then the same screen audited (one event per subject matched) against the unaudited one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert, make_url, text

from xinyong.catalog import default_catalog
from xinyong.codes import ric
from xinyong.measures import check
from xinyong.measures.checker import Checker
from xinyong.measures.clients import create_client
from xinyong.measures.screen import restriction_table, screen
from xinyong.measures.tables import restrictions
from xinyong.store.engine import connect
from xinyong.store.schema import upgrade
from xinyong.store.tables import batches, records, subject_identifiers, subjects

ACTION = "buy_flight_ticket"


def build(url: str, n_subjects: int, n_restrictions: int, rng: random.Random) -> list[str]:
    engine = connect(url)
    upgrade(engine)
    now = datetime.now(UTC)
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < n_subjects:
        code = ric.generate(rng)
        if code not in seen:
            seen.add(code)
            codes.append(code)
    with engine.begin() as conn:
        conn.execute(
            insert(batches),
            [{"id": 1, "record_type": "judgment_defaulter", "source": "court", "file_name": "x",
              "file_sha256": "0" * 64, "started_at": now, "state": "done"}],
        )  # fmt: skip
        step = 100_000
        for start in range(0, n_subjects, step):
            part = codes[start : start + step]
            conn.execute(
                insert(subjects),
                [{"id": start + i + 1, "kind": "individual", "primary_code": c, "created_at": now}
                 for i, c in enumerate(part)],
            )  # fmt: skip
            conn.execute(
                insert(subject_identifiers),
                [{"subject_id": start + i + 1, "scheme": "ric", "value": c}
                 for i, c in enumerate(part)],
            )  # fmt: skip
        conn.execute(
            insert(records),
            [{"id": 1, "record_type": "judgment_defaulter", "source": "court", "subject_id": 1,
              "subject_code": codes[0], "subject_name": "x", "fields": {}, "status": "active",
              "recorded_at": now, "record_key": "k", "row_hash": "h"}],
        )  # fmt: skip
        chosen = rng.sample(range(1, n_subjects + 1), n_restrictions)
        for start in range(0, n_restrictions, step):
            conn.execute(
                insert(restrictions),
                [{"subject_id": sid, "subject_kind": "individual",
                  "list_id": "consumption_restricted", "entry_id": 1,
                  "source_subject_id": sid, "record_id": 1, "record_key": "k",
                  "valid_from": date(2024, 1, 1),
                  "valid_to": date(2030, 1, 1) if sid % 2 else None, "recorded_at": now}
                 for sid in chosen[start : start + step]],
            )  # fmt: skip
        for ddl in (*_FLOOR_DDL[engine.dialect.name], *_FLOOR_INDEXES):
            conn.execute(text(ddl))
    engine.dispose()
    return codes


# The floor: what one answered check costs the database itself. Plain driver, SQL text, no
# SQLAlchemy and no xinyong code per check: the two indexed SELECTs of a check, one INSERT of a
# decision-sized row, one INSERT of an audit-sized row (hashed, but no chain head: the chain's
# head row is ours), one commit. Tables of the same columns and indexes as ``decisions`` and
# ``audit_events`` (on PostgreSQL a plain table, not partitioned; no unique index on the hashes,
# as since revision 0015), made by ``build``.
_FLOOR_DDL = {
    "sqlite": (
        "CREATE TABLE floor_decisions (id INTEGER PRIMARY KEY, decision_id VARCHAR(36) NOT NULL "
        "UNIQUE, catalog_version VARCHAR(64) NOT NULL, subject VARCHAR(32) NOT NULL, subject_id "
        "BIGINT REFERENCES subjects (id), action VARCHAR(64) NOT NULL, at DATE NOT NULL, "
        "known_at DATETIME, outcome VARCHAR(8) NOT NULL, until DATE, reasons JSON NOT NULL, "
        "actor VARCHAR(128), decided_at DATETIME NOT NULL)",
        "CREATE TABLE floor_audit (id INTEGER PRIMARY KEY, at DATETIME NOT NULL, actor TEXT NOT "
        "NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, subject TEXT, action TEXT NOT NULL, "
        "resource TEXT, outcome TEXT, detail TEXT, prev_hash VARCHAR(64) NOT NULL, "
        "hash VARCHAR(64) NOT NULL)",
    ),
    "postgresql": (
        "CREATE TABLE floor_decisions (id BIGSERIAL PRIMARY KEY, decision_id VARCHAR(36) NOT NULL "
        "UNIQUE, catalog_version VARCHAR(64) NOT NULL, subject VARCHAR(32) NOT NULL, subject_id "
        "BIGINT REFERENCES subjects (id), action VARCHAR(64) NOT NULL, at DATE NOT NULL, "
        "known_at TIMESTAMPTZ, outcome VARCHAR(8) NOT NULL, until DATE, reasons JSONB NOT NULL, "
        "actor VARCHAR(128), decided_at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE floor_audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor TEXT "
        "NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, subject TEXT, action TEXT NOT NULL, "
        "resource TEXT, outcome TEXT, detail TEXT, prev_hash VARCHAR(64) NOT NULL, "
        "hash VARCHAR(64) NOT NULL)",
    ),
}
_FLOOR_INDEXES = (
    "CREATE INDEX ix_floor_decisions_subject ON floor_decisions (subject)",
    "CREATE INDEX ix_floor_audit_subject ON floor_audit (subject)",
)
_FLOOR_SUBJECT = "SELECT subject_id FROM subject_identifiers WHERE scheme = 'ric' AND value = ?"
_FLOOR_ROWS = (
    "SELECT * FROM restrictions WHERE subject_id = ? AND superseded_at IS NULL "
    "AND (valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)"
)
_FLOOR_DECISION = (
    "INSERT INTO floor_decisions (decision_id, catalog_version, subject, subject_id, action, at, "
    "outcome, until, reasons, actor, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_FLOOR_AUDIT = (
    "INSERT INTO floor_audit (at, actor, role, purpose, subject, action, resource, outcome, "
    "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: A deny's one reason as the log stores it (measure, list, legal basis, way out): ~1.5 kB.
_FLOOR_REASON = json.dumps([{
    "measure": "consumption_restriction_flight", "measure_zh": "限制乘坐飞机" * 2,
    "measure_en": "no flights", "effect": "deny", "list": "consumption_restricted",
    "list_zh": "限制消费人员名单", "list_en": "persons restricted in consumption",
    "records": [1], "authority": "caac", "authority_zh": "中国民用航空局",
    "authority_en": "Civil Aviation Administration of China", "listed_by": "court",
    "valid_from": "2024-01-01", "until": "2030-01-01", "via_subject": None, "via_role": None,
    "legal_basis": [{"instrument": "spc-consumption-2015", "article": "3", "paragraph": None,
                     "item": 1, "citation": "《最高人民法院关于限制被执行人高消费的若干规定》第三条第一项",
                     "title_zh": "最高人民法院关于限制被执行人高消费及有关消费的若干规定",
                     "title_en": "SPC Provisions on Restricting High Consumption of Judgment Debtors",
                     "summary_zh": "被执行人为自然人的，被采取限制消费措施后，不得乘坐飞机", "summary_en": "no flights"}],
    "way_out": {"objection_zh": "认为信息有误的，可向人民法院提出异议或申请纠正；异议期间可申请核查",
                "objection_en": "if the information is wrong, object to or ask the court to correct it",
                "decided_by": "court", "repair_available": False, "conditions_zh": [], "conditions_en": []},
}], ensure_ascii=False)  # fmt: skip


class Floor:
    """One thread's plain driver connection doing the floor's work for one check (``check``)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            import sqlite3

            assert parsed.database
            self.conn: Any = sqlite3.connect(parsed.database, timeout=30, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self._lock_fd = os.open(f"{parsed.database}.floor-lock", os.O_RDWR | os.O_CREAT)
            mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False))
            self._lock_fd = -1
            mark = "%s"
        self.cursor = self.conn.cursor()
        self.sql = [q.replace("?", mark) for q in
                    (_FLOOR_SUBJECT, _FLOOR_ROWS, _FLOOR_DECISION, _FLOOR_AUDIT)]  # fmt: skip

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On SQLite, the writers of several processes take turns by ``flock``, as ours do
        (SQLite's busy handler would otherwise sleep up to 100 ms on its write lock)."""
        if self._lock_fd < 0:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def check(self, code: str) -> dict[str, Any]:
        """Look up, log, audit, commit; the answer's body."""
        cur = self.cursor
        day = date.today().isoformat()
        cur.execute(self.sql[0], (code,))
        found = cur.fetchone()
        rows = []
        if found is not None:
            cur.execute(self.sql[1], (found[0], day, day))
            rows = cur.fetchall()
        outcome = "deny" if rows else "permit"
        decision_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        stamp = now.isoformat() if self.sqlite else now
        detail = json.dumps({"at": day, "authority": "caac"})
        digest = hashlib.sha256(f"{decision_id}|{stamp}|{code}|{outcome}|{detail}".encode())
        with self._turn():
            cur.execute(self.sql[2], (decision_id, "2025.1", code, found[0] if found else None,
                                      ACTION, day, outcome, None,
                                      _FLOOR_REASON if rows else "[]", "api:floor", stamp))  # fmt: skip
            cur.execute(self.sql[3], (stamp, "floor", "agency", "check", code, "check:" + ACTION,
                                      decision_id, outcome, detail,
                                      hashlib.sha256(decision_id.encode()).hexdigest(),
                                      digest.hexdigest()))  # fmt: skip
            self.conn.commit()
        return {"decision_id": decision_id, "subject": code, "action": ACTION,
                "outcome": outcome, "until": None, "reasons": [], "catalog_version": "2025.1"}  # fmt: skip

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_in_process(url: str, codes: list[str], n: int, rng: random.Random) -> None:
    engine = connect(url)
    catalog = default_catalog()
    sample = [rng.choice(codes) for _ in range(n)]
    today = date.today()
    checker = Checker(engine, catalog)
    audit = {"actor": "bench", "role": "agency", "purpose": "bench", "action": "check:" + ACTION}
    for code in sample[:200]:  # warm: the per-thread connection, the reason cache
        checker.decide(code, ACTION)
    timings: list[float] = []
    for code in sample:
        t0 = time.perf_counter()
        checker.check(code, ACTION, actor="bench", audit=audit)
        timings.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    checker.writer.flush()
    drained = time.perf_counter() - t0
    # The same at a steady 2,000 checks/s (the API's goal rate) instead of back to back: the
    # writer then takes its share of the GIL between checks, as it does under real traffic.
    paced: list[float] = []
    start = time.perf_counter()
    for i, code in enumerate(sample):
        while time.perf_counter() < start + i / 2000:
            pass
        t0 = time.perf_counter()
        checker.check(code, ACTION, actor="bench", audit=audit)
        paced.append(time.perf_counter() - t0)
    checker.writer.flush()
    # Baseline: the bare indexed SELECT (identifier → subject → index rows) on the same driver.
    raw = engine.raw_connection()
    cursor = raw.cursor()
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    bare: list[float] = []
    for code in sample:
        t0 = time.perf_counter()
        cursor.execute(
            "SELECT subject_id FROM subject_identifiers WHERE scheme = 'ric' AND value = ?".replace(
                "?", mark
            ),
            (code,),
        )
        sid = cursor.fetchone()[0]
        cursor.execute("SELECT * FROM restrictions WHERE subject_id = ? AND superseded_at IS NULL "
                       "AND (valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)".replace("?", mark),
                       (sid, today.isoformat(), today.isoformat()))  # fmt: skip
        cursor.fetchall()
        bare.append(time.perf_counter() - t0)
    raw.close()
    # The transactional path (CLI): decision written in the caller's transaction.
    tx: list[float] = []
    for code in sample[: min(n, 1000)]:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            check(conn, code, ACTION, catalog=catalog, actor="bench")
        tx.append(time.perf_counter() - t0)
    engine.dispose()
    # The floor: the database's own work for one answered check, plain driver (``Floor``).
    floor = Floor(url)
    for code in sample[:200]:
        floor.check(code)
    floored: list[float] = []
    for code in sample:
        t0 = time.perf_counter()
        floor.check(code)
        floored.append(time.perf_counter() - t0)
    floor.close()
    print(f"in-process Checker.check (logged + audited via the writer), n={n}: "
          f"p50 {pct(timings, .5) * 1e3:.3f} ms, p99 {pct(timings, .99) * 1e3:.3f} ms "
          f"(writer drained {drained * 1e3:.0f} ms after the last)")  # fmt: skip
    print(f"  paced at 2,000 checks/s: p50 {pct(paced, .5) * 1e3:.3f} ms, "
          f"p99 {pct(paced, .99) * 1e3:.3f} ms")  # fmt: skip
    print(f"  baseline bare indexed SELECTs: p50 {pct(bare, .5) * 1e3:.3f} ms, "
          f"p99 {pct(bare, .99) * 1e3:.3f} ms; ratio p99 {pct(timings, .99) / pct(bare, .99):.1f}x")  # fmt: skip
    print(f"  check(conn) in its own transaction (CLI path), n={len(tx)}: "
          f"p50 {pct(tx, .5) * 1e3:.3f} ms, p99 {pct(tx, .99) * 1e3:.3f} ms")  # fmt: skip
    print(f"  FLOOR (plain driver: 2 SELECTs + decision INSERT + audit INSERT + commit), n={n}: "
          f"p50 {pct(floored, .5) * 1e3:.3f} ms, p99 {pct(floored, .99) * 1e3:.3f} ms; "
          f"ours / floor: p50 {pct(timings, .5) / pct(floored, .5):.1f}x, "
          f"p99 {pct(timings, .99) / pct(floored, .99):.1f}x")  # fmt: skip


async def _load(port: int, key: str, codes: list[str], seconds: float, conc: int) -> None:
    import httpx

    lat: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 headers={"X-API-Key": key}, timeout=10) as client:  # fmt: skip

        async def worker(seed: int) -> None:
            nonlocal errors
            r = random.Random(seed)
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    resp = await client.get("/api/v1/check",
                                            params={"subject": r.choice(codes), "action": ACTION})  # fmt: skip
                    ok = resp.status_code == 200
                except httpx.HTTPError:
                    ok = False
                lat.append(time.perf_counter() - t0)
                errors += 0 if ok else 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(conc)))
        elapsed = time.perf_counter() - start
    print(f"  httpx (asyncio) check: {len(lat) / elapsed:,.0f} req/s, p50 {pct(lat, .5) * 1e3:.1f} ms, "
          f"p99 {pct(lat, .99) * 1e3:.1f} ms, errors {errors} of {len(lat)} "
          f"(concurrency {conc}, {seconds:.0f}s)")  # fmt: skip


def bench_app() -> object:
    """The app as ``uvicorn --factory`` builds it in each worker (no address limit: one client;
    its key is created with its own rate limit of 10**9), its start-up heap frozen as
    ``xinyong.api.server`` freezes it."""
    from xinyong.api.app import create_app
    from xinyong.api.server import freeze_startup_heap

    app = create_app(rate_limit=10**9)
    freeze_startup_heap()
    return app


_WRK_SCRIPT = """
local codes = {}
for line in io.lines("%s") do codes[#codes + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local code = codes[math.random(#codes)]
  return wrk.format("GET", "/api/v1/check?action=buy_flight_ticket&subject=" .. code)
end
"""


def bare_app() -> object:
    """The baseline: a bare FastAPI endpoint at the same path answering a decision-sized JSON
    body from memory (no key, no database), served the same way."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()
    body = {"decision_id": "0" * 26, "subject": "x" * 18, "action": ACTION, "outcome": "permit",
            "until": None, "reasons": [], "catalog_version": "2025.1"}  # fmt: skip

    @app.get("/api/v1/check")
    async def check(subject: str, action: str) -> JSONResponse:
        return JSONResponse({**body, "subject": subject})

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def floor_app() -> object:
    """The floor served: a bare FastAPI endpoint doing ``Floor.check``'s work per request (no
    key). On SQLite inline in the event loop (as ours decides inline there), on PostgreSQL in
    the thread pool, one connection per thread (a commit waits for the server)."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    url = os.environ["XINYONG_DB"]
    app = FastAPI()
    local = threading.local()

    def floor() -> Floor:
        found: Floor | None = getattr(local, "floor", None)
        if found is None:
            found = local.floor = Floor(url)
        return found

    if url.startswith("sqlite"):

        @app.get("/api/v1/check")
        async def check(subject: str, action: str) -> JSONResponse:
            return JSONResponse(floor().check(subject))

    else:

        @app.get("/api/v1/check")
        def check_in_thread(subject: str, action: str) -> JSONResponse:
            return JSONResponse(floor().check(subject))

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _serve(factory: str, url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    import httpx

    env = {**os.environ, "XINYONG_DB": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", f"decisions:{factory}",
         "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server


def bench_http(
    url: str, codes: list[str], seconds: float, conc: int, tmp: Path, repeat: int, workers: int
) -> None:
    """``wrk`` against the app and against ``bare_app``, interleaved, ``repeat`` times each."""
    import httpx

    engine = connect(url)
    with engine.begin() as conn:
        _, key = create_client(
            conn, default_catalog(), authority="caac", role="agency", rate_limit=10**9
        )
    engine.dispose()
    sample = codes[:100_000]
    (tmp / "codes.txt").write_text("\n".join(sample))
    (tmp / "check.lua").write_text(_WRK_SCRIPT % (tmp / "codes.txt"))
    wrk = shutil.which("wrk")
    if wrk is None:
        print("HTTP: wrk is not installed (apt-get install wrk); skipped")
        return
    variants = (("bare", "bare_app"), ("floor", "floor_app"), ("xinyong", "bench_app"))
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in variants}
    for _ in range(repeat):
        for i, (name, factory) in enumerate(variants):
            port = 8790 + i
            server = _serve(factory, url, port, workers)
            try:
                for code in sample[:50]:  # warm every worker: engine, checker, key cache
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/check",
                              params={"subject": code, "action": ACTION}, headers={"X-API-Key": key})  # fmt: skip
                cpu0, db0 = _cpu_seconds(server.pid), postgres_cpu_seconds()
                done, rate, p99 = _wrk(wrk, port, key, tmp / "check.lua", seconds, conc)
                cpu = _cpu_seconds(server.pid) - cpu0
                db = postgres_cpu_seconds() - db0
                results[name].append((rate, p99, cpu * 1e6 / max(done, 1)))
                database = (
                    f", PostgreSQL CPU {db * 1e6 / max(done, 1):5,.0f} µs/request"
                    if engine.dialect.name == "postgresql" else ""
                )  # fmt: skip
                print(f"  {name:8s} wrk -c{conc}: {rate:8,.0f} req/s, p99 {p99:7.1f} ms, "
                      f"server CPU {cpu * 1e6 / max(done, 1):5,.0f} µs/request{database}")  # fmt: skip
            finally:
                server.terminate()
                server.wait()
    med = {n: [statistics.median(x) for x in zip(*r, strict=True)] for n, r in results.items()}
    print(f"HTTP GET /api/v1/check on {engine.dialect.name}, uvicorn --workers {workers}, "
          f"wrk -t1 -c{conc} {seconds:.0f}s, median of {repeat} interleaved runs "
          f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores):")  # fmt: skip
    for name, (rate, p99, cpu) in med.items():
        print(f"  {name:8s} {rate:8,.0f} req/s  p99 {p99:7.1f} ms  server CPU {cpu:5,.0f} µs/req")
    print(f"  ratio xinyong / bare: {med['xinyong'][0] / med['bare'][0]:.2f}×; "
          f"floor / bare: {med['floor'][0] / med['bare'][0]:.2f}×; "
          f"xinyong / floor: {med['xinyong'][0] / med['floor'][0]:.2f}×")  # fmt: skip
    engine = connect(url)
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT count(*) FROM decisions")).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        from xinyong.audit import verify

        chain = verify(conn)
    engine.dispose()
    print(f"  after shutdown: {logged:,} decisions logged, {events:,} audit events, "
          f"chain ok={chain.ok} ({chain.count:,} events)")  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_cpu_seconds() -> float:
    """User + system CPU seconds of this machine's PostgreSQL processes, with those of their
    children that have exited (a backend's, once its connection closed, is counted in the
    postmaster's): the database's share of the two cores, which "server CPU" leaves out."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith("(postgres"):
            fields = rest.split()
            total += sum(int(f) for f in fields[11:15]) / tick
    return total


def _wrk(
    wrk: str, port: int, key: str, script: Path, seconds: float, conc: int
) -> tuple[int, float, float]:
    """``wrk`` (C, one thread) as the load generator: (requests, requests/s, p99 in ms)."""
    out = subprocess.run(
        [wrk, "-t1", f"-c{conc}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
         "-H", f"X-API-Key: {key}", f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(
        next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    )
    p99 = next(line.split()[1] for line in out.splitlines() if line.split()[:1] == ["99%"])
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    unit = "us" if p99.endswith("us") else "ms" if p99.endswith("ms") else "s"
    errors = [
        line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line
    ]
    if errors:
        print(f"  wrk: {'; '.join(errors)}")
    done = int(next(line.split()[0] for line in out.splitlines() if "requests in" in line))
    return done, rate, float(p99.removesuffix(unit)) * scale[unit]


def bench_screen(url: str, codes: list[str], rows: int, tmp: Path, rng: random.Random) -> None:
    path = tmp / "buyers.parquet"
    writer = None
    step = 1_000_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        part = [rng.choice(codes) for _ in range(n)]
        for i in range(0, n, 1000):  # 0.1% invalid: a changed last character
            part[i] = part[i][:-1] + ("0" if part[i][-1] != "0" else "1")
        table = pa.table({"code": part})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    engine = connect(url)
    catalog = default_catalog()
    t0 = time.perf_counter()
    result = screen(engine, path, ACTION, tmp / "out.csv", catalog=catalog)
    ours = time.perf_counter() - t0
    # Audited (as the CLI, the console and the API screen): one event per subject matched.
    reader = {"actor": "bench", "role": "operator", "purpose": "bench"}
    t0 = time.perf_counter()
    screen(engine, path, ACTION, tmp / "audited.csv", catalog=catalog, audit=reader)
    audited = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = restriction_table(engine, ACTION, date.today(), None, default_catalog())
    con = duckdb.connect()
    con.register("idx", index)
    con.execute(
        f"COPY (SELECT b.code, coalesce(i.effect, 'permit') AS outcome, i.until, i.measure "
        f"FROM read_parquet('{path}') b LEFT JOIN idx i ON i.code = b.code) "
        f"TO '{tmp / 'bare.csv'}' (FORMAT CSV, HEADER)"
    )
    bare = time.perf_counter() - t0
    engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"screen {rows:,} codes: {ours:.2f} s ({result.outcomes}); bare DuckDB join "
          f"{bare:.2f} s; ratio {ours / bare:.2f}x; peak RSS {rss:,.0f} MB")  # fmt: skip
    print(f"screen audited (one event per subject matched): {audited:.2f} s; "
          f"ratio to the unaudited screen {audited / ours:.2f}x")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        port, key, seconds, conc = sys.argv[2:6]
        codes = sys.stdin.read().split()
        asyncio.run(_load(int(port), key, codes, float(seconds), int(conc)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--restrictions", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--http-seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--screen-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--http-repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default=None, help="an empty scratch PostgreSQL database URL")
    args = parser.parse_args()
    rng = random.Random(2024)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = args.db or f"sqlite:///{tmp / 'bench.db'}"
        t0 = time.perf_counter()
        codes = build(url, args.subjects, args.restrictions, rng)
        print(f"store: {args.subjects:,} subjects, {args.restrictions:,} restrictions "
              f"({time.perf_counter() - t0:.1f} s to build)")  # fmt: skip
        engine = connect(url)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
        bench_in_process(url, codes, args.checks, rng)
        if not args.skip_http:
            bench_http(url, codes, args.http_seconds, args.concurrency, tmp, args.http_repeat,
                       args.workers)  # fmt: skip
        if args.screen_rows:
            bench_screen(url, codes, args.screen_rows, tmp, rng)


if __name__ == "__main__":
    main()
