"""Fixtures for the portal tests.

- ``demo_db``: one small demo database per session (about 600 subjects), built the way
  ``xinyong demo`` builds it: lab files loaded through ``ingest_file``. Tests that change state
  (objections, uploads) run against it too, so they pick subjects nobody else uses.
- ``client``: Starlette's test client on ``create_app(demo_db, demo_logins=True)``.
- ``live_server``: the same app served by uvicorn in a thread on a free port, for the browser.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.demo import build_demo
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade

DEMO_SUBJECTS = 600


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    with opened(url) as engine:
        upgrade(engine)
        build_demo(engine, subjects=DEMO_SUBJECTS, catalog=default_catalog())
    return url


@pytest.fixture()
def client(demo_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(demo_db, demo_logins=True, secret=b"test-secret")) as c:
        yield c


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient, login: str, password: str = "demo") -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"login": login, "password": password, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(demo_db: str) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(demo_db, demo_logins=True), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def screenshots_dir(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "screenshots"
    path.mkdir(exist_ok=True)
    return path
