"""``xinyong serve`` and ``xinyong demo``: the portal and API on one address."""

from __future__ import annotations

import json
import socket
import time
from typing import Annotated

import typer
import uvicorn

from xinyong.catalog import Catalog, catalog_in_force
from xinyong.cli.options import DEFAULT_DB, CatalogOption, DbOption, JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.demo import DEMO_SEED, DEMO_SUBJECTS, build_demo, counts, has_data
from xinyong.errors import UnusableInput
from xinyong.store.engine import opened
from xinyong.store.schema import require_current, upgrade
from xinyong.web.accounts import DEMO_PASSWORD, demo_logins

HOST = "127.0.0.1"
DEMO_DB = "sqlite:///xinyong-demo.db"

PortOption = Annotated[
    int, typer.Option("--port", min=1, max=65535, help="端口 / port (default 8000)")
]


def _check_port(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise UnusableInput(
                f"端口 {port} 已被占用 / port {port} is in use ({error.strerror}); "
                "use --port to pick another"
            ) from error


def _run(db: str, port: int, catalog: Catalog, *, demo: bool) -> None:
    from xinyong.api.app import create_app

    app = create_app(db, catalog=catalog, demo_logins=demo)
    uvicorn.run(app, host=HOST, port=port, log_level="warning")


def serve_command(
    port: PortOption = 8000,
    db: DbOption = DEFAULT_DB,
    demo_logins: Annotated[
        bool,
        typer.Option(
            "--demo-logins", help="启用演示账户 / enable the demo accounts (password demo)"
        ),
    ] = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """提供门户网站与 API / serve the portal and the API on http://127.0.0.1:PORT.

    The database must exist and be current (`xinyong init`). Without --demo-logins only public
    pages are served: xinyong keeps no passwords; a deployment logs people in through its own
    identity service.

    Example: xinyong serve --port 8000 --db sqlite:///xinyong.db
    """
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        with opened(db, create=False) as engine:
            require_current(engine)
            with engine.connect() as conn:
                n_subjects, n_records = counts(conn)
        _check_port(port)
    typer.echo(
        f"门户与 API / portal and API: http://{HOST}:{port}/  "
        f"(主体 {n_subjects:,} 个，记录 {n_records:,} 条 / {n_subjects:,} subjects, "
        f"{n_records:,} records)"
    )
    typer.echo(f"API 文档 / API docs: http://{HOST}:{port}/api/v1/docs · Ctrl+C 停止 / to stop")
    _run(db, port, catalog, demo=demo_logins)


def demo_command(
    port: PortOption = 8000,
    db: DbOption = DEMO_DB,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="清空并重新生成 / drop the data and regenerate")
    ] = False,
    subjects: Annotated[
        int, typer.Option("--subjects", min=100, max=1_000_000, help="主体数 / about how many")
    ] = DEMO_SUBJECTS,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="只生成数据，不启动服务 / build only, do not serve")
    ] = False,
    as_json: JsonOption = False,
    catalog_dirs: CatalogOption = None,
) -> None:
    """生成演示数据并提供门户网站 / build a synthetic demo data set and serve it.

    Into an empty database (default sqlite:///xinyong-demo.db): the lab generates about 10,000
    subjects with records of every shipped type, each file is loaded through the real ingest
    pipeline, then the portal and API are served with demo log-ins for every role. A database
    that already holds data is served as it is (say --fresh to rebuild it).

    Example: xinyong demo --port 8000
    """
    began = time.perf_counter()
    with one_line_errors():
        catalog = catalog_in_force(catalog_dirs or ())
        if fresh:
            _drop_sqlite(db)
        with opened(db) as engine:
            upgrade(engine)
            with engine.connect() as conn:
                existing = has_data(conn)
            if existing:
                message = (
                    "数据库已有数据，直接使用（--fresh 重新生成）/ the database already holds "
                    "data; serving it without regenerating (--fresh to rebuild)"
                )
                summary = None
            else:
                if not as_json:
                    typer.echo("生成演示数据 / building the demo data set …")
                summary = build_demo(
                    engine,
                    subjects=subjects,
                    seed=DEMO_SEED,
                    catalog=catalog,
                    progress=None if as_json else (lambda m: typer.echo(f"  {m}")),
                )
                message = "演示数据已生成 / demo data built"
            with engine.connect() as conn:
                n_subjects, n_records = counts(conn)
                logins = demo_logins(conn, catalog)
        if not no_serve:
            _check_port(port)
    elapsed = time.perf_counter() - began
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "db": db,
                    "built": summary is not None,
                    "summary": summary.as_json() if summary else None,
                    "subjects": n_subjects,
                    "records": n_records,
                    "seconds": round(elapsed, 2),
                    "url": f"http://{HOST}:{port}/",
                    "logins": [
                        {"role": r, "login": login, "password": DEMO_PASSWORD, "what": w}
                        for r, login, w in logins
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        typer.echo(message)
        typer.echo(
            f"主体 {n_subjects:,} 个，记录 {n_records:,} 条，用时 {elapsed:.1f} 秒 / "
            f"{n_subjects:,} subjects, {n_records:,} records, {elapsed:.1f} s"
        )
        typer.echo(f"门户与 API / portal and API: http://{HOST}:{port}/")
        typer.echo(f"演示账户，密码均为 {DEMO_PASSWORD} / demo log-ins, password {DEMO_PASSWORD}:")
        for role, login, what in logins:
            typer.echo(f"  {role:<11} {login:<22} {what}")
        if not no_serve:
            typer.echo("Ctrl+C 停止 / to stop")
    if not no_serve:
        _run(db, port, catalog, demo=True)


def _drop_sqlite(db: str) -> None:
    """--fresh: remove a SQLite file (and its WAL); other databases must be emptied by hand."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(db)
    if url.get_backend_name() != "sqlite":
        raise UnusableInput(
            "--fresh 只适用于 SQLite；PostgreSQL 请先清空数据库 / --fresh works on SQLite only; "
            "empty a PostgreSQL database by hand"
        )
    path = url.database
    if path and path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
