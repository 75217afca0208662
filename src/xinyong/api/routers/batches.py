"""``/api/v1/batches``: a department submits a file of records; anyone entitled reads the batch
and its rejects. Thin: :func:`xinyong.ingest.ingest_file` does the work, exactly as
``xinyong ingest`` does (same validation, same idempotency, same pipeline).

A department submits under its own authority; an operator names the ``source``. A department
sees its own batches only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from sqlalchemy import Engine

from xinyong.api.auth import require_roles
from xinyong.dependencies import CatalogDep, engine
from xinyong.errors import Forbidden, NotFound, UnusableInput
from xinyong.ingest import ingest_file
from xinyong.ingest.mapping import MAX_MAPPING, uploaded_mapping
from xinyong.measures.clients import Client
from xinyong.store.queries import batch_by_id, batch_json, batch_list, batch_rejects

router = APIRouter(prefix="/batches", tags=["batches"])
Submitter = Depends(require_roles("department", "operator"))

#: The largest file one request may carry (a department's export of a few million rows).
MAX_BYTES = 2 * 1024**3
SUFFIXES = {".csv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".json"}


def _visible(caller: Client, row: Any) -> bool:
    return caller.role == "operator" or row.source == caller.authority


def _spool(upload: UploadFile, directory: FilePath) -> FilePath:
    """Copy the upload to a file named with its own suffix (the reader goes by it)."""
    name = FilePath(upload.filename or "").name
    suffix = FilePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnusableInput(
            f"不支持的文件类型 {suffix or '(无)'} / unsupported file type {suffix or '(none)'}: "
            f"use {', '.join(sorted(SUFFIXES))}"
        )
    target = directory / f"upload{suffix}"
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            written += len(chunk)
            if written > MAX_BYTES:
                raise UnusableInput(
                    f"文件超过 {MAX_BYTES // 1024**3} GiB / file larger than "
                    f"{MAX_BYTES // 1024**3} GiB: use `xinyong ingest` on the platform"
                )
            out.write(chunk)
    if written == 0:
        raise UnusableInput("文件为空 / the file is empty")
    return target


@router.post("", status_code=201, summary="提交一批记录 / submit a batch of records (file upload)")
def submit(
    caller: Annotated[Client, Submitter],
    db: Annotated[Engine, Depends(engine)],
    catalog: CatalogDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8/GBK), XLSX or JSON Lines")],
    record_type: Annotated[str, Form(min_length=1, max_length=64)],
    source: Annotated[str | None, Form(max_length=64)] = None,
    encoding: Annotated[str | None, Form(max_length=32)] = None,
    mapping: Annotated[
        UploadFile | None,
        File(description="字段映射文件 / mapping file (YAML, as for xinyong ingest --map)"),
    ] = None,
) -> dict[str, Any]:
    if caller.role == "department":
        if source not in (None, caller.authority):
            raise Forbidden(
                f"部门只能以本部门名义提交 / a department submits as itself ({caller.authority})"
            )
        source = caller.authority
    elif source is None:
        raise UnusableInput("运营方提交须指明 source / an operator must name the source")
    own = None
    if mapping is not None:
        own = uploaded_mapping(
            catalog, record_type, mapping.file.read(MAX_MAPPING + 1), mapping.filename or ""
        )
    with tempfile.TemporaryDirectory(prefix="xinyong-batch-") as tmp:
        directory = FilePath(tmp)
        path = _spool(file, directory)
        result = ingest_file(
            db,
            path,
            record_type,
            source,
            catalog=catalog,
            encoding=encoding,
            rejects_path=directory / "rejects.csv",
            file_name=FilePath(file.filename or path.name).name[:200],
            mapping=own,
        )
    body = result.as_json()
    body["rejects_file"] = None  # the rejects live with the batch: GET /batches/{id}
    body["url"] = f"/api/v1/batches/{result.batch}"
    return body


@router.get("", summary="批次列表 / the newest batches")
def index(
    caller: Annotated[Client, Submitter],
    db: Annotated[Engine, Depends(engine)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    source = None if caller.role == "operator" else caller.authority
    with db.connect() as conn:
        return [batch_json(row) for row in batch_list(conn, source=source, limit=limit)]


@router.get("/{batch_id}", summary="一个批次及其退回行 / a batch with its rejected rows")
def show(
    batch_id: Annotated[int, Path(ge=1, le=2**53)],
    caller: Annotated[Client, Submitter],
    db: Annotated[Engine, Depends(engine)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> dict[str, Any]:
    with db.connect() as conn:
        row = batch_by_id(conn, batch_id)
        if row is None or not _visible(caller, row):
            raise NotFound(f"批次 {batch_id} / batch {batch_id}")
        found = batch_rejects(conn, batch_id, limit=limit, offset=offset)
    body = batch_json(row)
    body["rejects"] = [
        {"row": r.row_number, "reason": r.reason, "original": r.original} for r in found
    ]
    body["rejects_page"] = {"limit": limit, "offset": offset}
    return body
