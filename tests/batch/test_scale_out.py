"""Scaling the check path out: several stateless API processes on one PostgreSQL.

``uvicorn --workers 3`` (three processes, nothing shared between them but the database) serves
concurrent checks, each on a fresh connection so the kernel spreads them over the workers. Every
answer must be right (the defaulter denied, the other permitted), every decision id unique,
every decision logged and every check audited after shutdown, and the one hash chain that all
three processes appended to must verify. This is how the check path grows (docs/scale.md):
more API processes, read replicas behind them, one primary for the log.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from xinyong.audit.tables import audit_events
from xinyong.audit.verify import verify
from xinyong.catalog import default_catalog
from xinyong.ingest import ingest_file
from xinyong.measures.clients import create_client
from xinyong.store.engine import connect

pytestmark = pytest.mark.slow
DEFAULTER = "130203199105010601"
OTHER = "340405199011034461"
CHECKS = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture()
def engine(pg_store_url: str) -> Iterator[Engine]:
    made = connect(pg_store_url)
    try:
        yield made
    finally:
        made.dispose()


def test_three_api_processes_on_postgresql(
    pg_store_url: str, engine: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "defaulters.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["被执行人姓名/名称", "身份证号码/组织机构代码", "执行法院", "案号",
                         "失信被执行人行为具体情形", "决定日期"])  # fmt: skip
        writer.writerow(["王五", DEFAULTER, "杭州市西湖区人民法院", "（2024）浙0106执1号",
                         "违反财产报告制度的", "2024-03-05"])  # fmt: skip
    catalog = default_catalog()
    assert ingest_file(engine, source, "judgment_defaulter", "spc", catalog=catalog).accepted == 1
    with engine.begin() as conn:
        _, key = create_client(conn, catalog, authority="caac", role="agency")
    with engine.connect() as conn:
        events_before = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "xinyong.api.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "3", "--log-level", "warning"],
        env={**os.environ, "XINYONG_DB": pg_store_url},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("uvicorn did not start")
        workers = _children(server.pid)

        def one(n: int) -> tuple[str, int, dict[str, object]]:
            subject = DEFAULTER if n % 2 else OTHER
            params = {"subject": subject, "action": "buy_flight_ticket", "at": "2025-01-01"}
            # A fresh connection per request: the kernel hands them to different workers.
            answer = httpx.get(
                f"{base}/api/v1/check", params=params, headers={"X-API-Key": key}, timeout=60
            )
            return subject, answer.status_code, answer.json()

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(one, range(CHECKS)))
    finally:
        server.terminate()
        server.wait(timeout=60)

    assert len(workers) >= 3, workers  # three worker processes (a fourth: uvicorn's own)
    assert all(status == 200 for _, status, _ in answers), answers[:3]
    for subject, _, body in answers:
        assert body["outcome"] == ("deny" if subject == DEFAULTER else "permit"), body
    ids = {body["decision_id"] for _, _, body in answers}
    assert len(ids) == CHECKS
    with engine.connect() as conn:
        logged = conn.execute(
            select(func.count()).select_from(audit_events).where(audit_events.c.resource.in_(ids))
        ).scalar_one()
        events_after = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
        chain = verify(conn)
        decisions = conn.exec_driver_sql(
            "SELECT count(*) FROM decisions WHERE decision_id = ANY(%(ids)s)", {"ids": list(ids)}
        ).scalar_one()
    assert logged == CHECKS  # every check audited, by whichever process served it
    assert decisions == CHECKS  # every decision logged before the workers stopped
    assert events_after >= events_before + CHECKS
    assert chain.ok, chain
