"""``POST /api/v1/screen``: upload a CSV or Parquet column of codes; the decisions stream back.

Each known subject in the column is audited as the key's read (``screen(…, audit=)``: one event
per subject, in its "who looked" list), committed before anything is streamed: no audit, no
answer."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from xinyong.api.auth import may_check, require_roles
from xinyong.dependencies import CatalogDep, engine
from xinyong.errors import UnusableInput
from xinyong.measures.clients import Client
from xinyong.measures.decisions import require_action
from xinyong.measures.screen import screen

router = APIRouter(tags=["decisions"])


@router.post("/screen", summary="批量筛查 / bulk check of a column of codes (CSV result)")
async def screen_endpoint(
    caller: Annotated[Client, Depends(require_roles("agency", "operator"))],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    file: Annotated[UploadFile, File(description="CSV 或 Parquet / CSV or Parquet")],
    action: Annotated[str, Query(description="行为 / action id")],
    at: Annotated[date | None, Query()] = None,
    column: Annotated[str | None, Query()] = None,
    purpose: Annotated[str, Query()] = "screen",
) -> StreamingResponse:
    require_action(catalog, action)
    may_check(caller, action, catalog)
    suffix = Path(file.filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in (".csv", ".txt", ".parquet", ".pq"):
        raise UnusableInput(f"只支持 CSV 或 Parquet / CSV or Parquet only: {file.filename}")
    work = Path(tempfile.mkdtemp(prefix="xinyong-screen-"))
    try:
        source = work / f"in{suffix}"
        with source.open("wb") as handle:
            await run_in_threadpool(shutil.copyfileobj, file.file, handle, 1 << 20)
        out = work / "out.csv"
        reader = {"actor": caller.name, "role": caller.role, "purpose": purpose or "screen"}
        await run_in_threadpool(
            lambda: screen(
                db, source, action, out, at=at, column=column, catalog=catalog, audit=reader
            )
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return StreamingResponse(_stream(out, work), media_type="text/csv; charset=utf-8")


def _stream(path: Path, work: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 16):
                yield block
    finally:
        shutil.rmtree(work, ignore_errors=True)
