"""``xinyong serve`` and ``xinyong demo``: the portal and API on one address."""

from __future__ import annotations

import enum
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from xinyong.catalog import catalog_in_force
from xinyong.cli.options import DEFAULT_DB, CatalogOption, DbOption, JsonOption
from xinyong.cli.store import one_line_errors
from xinyong.demo import DEMO_SEED, DEMO_SUBJECTS, build_demo, counts, has_data
from xinyong.errors import ConfigurationError, UnusableInput
from xinyong.settings import Settings, env_name
from xinyong.settings import load as load_settings
from xinyong.store.engine import opened
from xinyong.store.schema import require_current, upgrade
from xinyong.web.accounts import DEMO_PASSWORD, demo_logins
from xinyong.web.oidc import load_roles

HOST = "127.0.0.1"
DEMO_DB = "sqlite:///xinyong-demo.db"
#: The app factory each worker calls (uvicorn --factory).
APP_FACTORY = "xinyong.api.server:app_from_environment"
#: Shortest XINYONG_SECRET ``serve`` accepts (it signs every session cookie).
MIN_SECRET = 32

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


PortOption = Annotated[
    int, typer.Option("--port", min=1, max=65535, help="端口 / port (default 8000)")
]


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise UnusableInput(
                f"无法监听 {host}:{port} / cannot listen on {host}:{port} ({error.strerror}); "
                "use --port or --host to pick another"
            ) from error


def _require_secret(settings: Settings) -> None:
    secret = settings.secret.get_secret_value() if settings.secret else ""
    if not secret:
        raise ConfigurationError(
            "未设置 XINYONG_SECRET，拒绝启动（演示请用 --demo-logins）/ XINYONG_SECRET is not "
            "set; refusing to start (say --demo-logins for a demo)"
        )
    if len(secret) < MIN_SECRET:
        raise ConfigurationError(
            f"XINYONG_SECRET 至少 {MIN_SECRET} 个字符 / XINYONG_SECRET must be at least "
            f"{MIN_SECRET} characters"
        )


def _metrics_dir() -> Path:
    """The folder the workers share their metrics in: $PROMETHEUS_MULTIPROC_DIR (e.g. systemd's
    RuntimeDirectory), else a new temporary one; emptied at start, as prometheus_client asks."""
    named = os.environ.get(METRICS_DIR_ENV)
    folder = Path(named) if named else Path(tempfile.mkdtemp(prefix="xinyong-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[METRICS_DIR_ENV] = str(folder)
    return folder


def _run(
    db: str,
    *,
    host: str = HOST,
    port: int,
    catalog_dirs: list[Path] | None,
    demo: bool,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
    log_format: str | None = None,
) -> None:
    """Start uvicorn on the app factory; the settings travel to the workers in the environment.
    ``log_format`` None: quiet (``xinyong demo``); else request logs in that format."""
    from xinyong.api.monitoring import log_config

    os.environ[env_name("db")] = db
    if catalog_dirs:
        named = [load_settings().catalog] + [str(d) for d in catalog_dirs]
        os.environ[env_name("catalog")] = os.pathsep.join(p for p in named if p)
    os.environ[env_name("demo_logins")] = "1" if demo else "0"
    logging: dict[str, Any] = {"log_level": "warning"}
    made = None
    if log_format is not None:
        os.environ[env_name("log_format")] = log_format
        logging = {"log_config": log_config(log_format)}
        ours = not os.environ.get(METRICS_DIR_ENV)
        folder = _metrics_dir()
        made = folder if ours else None  # the operator's folder (systemd's) is left in place
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            access_log=False,
            **logging,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


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
    host: Annotated[
        str, typer.Option("--host", help="监听地址 / address to listen on (default 127.0.0.1)")
    ] = HOST,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="工作进程数 / worker processes")
    ] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="信任其 X-Forwarded-* 头的代理地址，逗号分隔 / proxies whose X-Forwarded-For "
            "and -Proto are trusted, comma-separated (default 127.0.0.1; '*' for any)",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format", help="请求日志格式 / request log format (default $XINYONG_LOG_FORMAT)"
        ),
    ] = None,
) -> None:
    """提供门户网站与 API / serve the portal and the API on http://HOST:PORT.

    The database must exist and be current (`xinyong init`). XINYONG_SECRET (at least 32
    characters) must be set: it signs the session cookies of every worker. People log in through
    the identity service named by XINYONG_OIDC_ISSUER (docs/deploy.md); without one only public
    pages are served. --demo-logins turns on the demo accounts instead (no secret needed).
    Settings: every XINYONG_* variable, checked before anything starts (docs/deploy.md).

    Example: xinyong serve --host 0.0.0.0 --port 8000 --workers 4 --log-format json
    """
    with one_line_errors():
        settings = load_settings()
        if not demo_logins:
            _require_secret(settings)
        catalog = catalog_in_force(catalog_dirs or ())
        load_roles(settings.roles, catalog)  # a bad role map stops here, not in every worker
        with opened(db, create=False) as engine:
            require_current(engine)
            with engine.connect() as conn:
                n_subjects, n_records = counts(conn)
        _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"门户与 API / portal and API: http://{shown}:{port}/  "
        f"(主体 {n_subjects:,} 个，记录 {n_records:,} 条 / {n_subjects:,} subjects, "
        f"{n_records:,} records; {workers} 个工作进程 / worker(s); 目录 / catalog "
        f"{catalog.version})"
    )
    typer.echo(f"API 文档 / API docs: http://{shown}:{port}/api/v1/docs · Ctrl+C 停止 / to stop")
    _run(
        db,
        host=host,
        port=port,
        catalog_dirs=catalog_dirs,
        demo=demo_logins,
        workers=workers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_format=(log_format.value if log_format else settings.log_format),
    )


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
            _check_port(HOST, port)
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
        _run(db, port=port, catalog_dirs=catalog_dirs, demo=True)


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
