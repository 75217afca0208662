"""Loading one file as one batch: validate, reject, deduplicate, version, link — all or nothing.

- One transaction per batch: the batch row, records, provenance, rejects and everything the
  pipeline derives commit together (the batch is marked ``done`` in that same commit). A crash
  or kill leaves no trace; running the same command again completes it.
- Identity of a record: record type + source + document number + subject (code, else name);
  without a document number the content is part of the identity. A row whose identity and
  content hash match the current version is a *duplicate* (counted, nothing added); same identity,
  different content is a *correction*: the current version's recorded time is closed
  (``superseded_at``) and a new version names the one it ``supersedes``.
- Rows stream in chunks (``CHUNK_ROWS``), each written with one ``COPY`` per table (``executemany``
  on SQLite) while a thread reads, validates and hashes the next (:mod:`.chunks`); memory stays
  flat. No full garbage collection walks the heap meanwhile: the young generations are
  collected after each chunk (:mod:`xinyong.collector`).
- Rejected rows go to ``FILE.rejects.csv`` (UTF-8 with BOM): the original columns, then ``row``
  and ``reason``; and to the ``rejects`` table.
- A file that cannot be used at all (unknown type, missing column, undecodable header, no data
  row) leaves nothing. A load that fails once it has started (the file turns out unreadable at
  row 40,001, the database or a pipeline step raises) rolls back, and then a ``failed`` batch
  row with its ``failure`` (zh / en, and the row reached) is written in a transaction of its
  own, so operators see it in ``xinyong batches`` and ``GET /api/v1/batches``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from xinyong import pipeline
from xinyong.catalog.model import Catalog, RecordType
from xinyong.collector import collect_young, young_only
from xinyong.errors import Forbidden, InvalidRecord, UnusableInput, XinyongError
from xinyong.ingest.chunks import Prepared, read_chunks
from xinyong.ingest.plan import ColumnPlan, LayoutMatch, Mapping, plan_columns
from xinyong.ingest.readers import RAW_KEY, open_rows
from xinyong.ingest.validate import CATEGORY_KINDS, RowValidator
from xinyong.link import resolve_codes
from xinyong.link.attach import LinkRow, forget, remember
from xinyong.link.bulk import current_by_key, db_value, insert_rows, reserve_ids
from xinyong.spreadsheet import neutralise
from xinyong.store.engine import database_errors, utcnow
from xinyong.store.footprint import require_covered
from xinyong.store.tables import batches, provenance, records, rejects

CHUNK_ROWS = 5000
#: Longest failure reason kept on a failed batch.
MAX_FAILURE = 2000
#: Columns of ``records`` as ``_ChunkLoader`` writes them.
_RECORD_COLUMNS = (
    "id",
    "record_type",
    "source",
    "subject_id",
    "subject_code",
    "subject_name",
    "document_no",
    "decided_on",
    "valid_from",
    "valid_to",
    "fields",
    "status",
    "version",
    "supersedes",
    "recorded_at",
    "record_key",
    "row_hash",
)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BatchResult:
    """What ``xinyong ingest --json`` prints (``as_json``), plus what the pipeline touched."""

    batch: int
    accepted: int
    rejected: int
    duplicates: int
    corrections: int
    rejects_file: str | None
    subjects: int
    #: Accepted rows with no code: loaded, linked to nobody until a person confirms a lead.
    unlinked: int = 0
    #: Headers that map to no field: kept with each record under the header as written.
    unmapped_columns: tuple[str, ...] = ()
    layout: LayoutMatch | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "rejects_file": self.rejects_file,
            "unmapped_columns": list(self.unmapped_columns),
            "unlinked": self.unlinked,
        }


#: How many rejected rows' reasons a dry run shows.
DRY_RUN_REASONS = 10


@dataclass(frozen=True)
class DryRun:
    """What ``xinyong ingest --dry-run`` found, having read the whole file and written nothing."""

    file: str
    record_type: str
    format: str
    encoding: str | None
    plan: ColumnPlan
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    unlinked: int = 0
    reasons: tuple[tuple[int, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "file": self.file,
            "record_type": self.record_type,
            "format": self.format,
            "encoding": self.encoding,
            "layout": self.plan.layout.as_json() if self.plan.layout else None,
            "mapping": self.plan.mapping_json(),
            "unmapped_columns": list(self.plan.unmapped),
            "missing": [f.name for f in self.plan.missing],
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unlinked": self.unlinked,
            "reasons": [{"row": row, "reason": reason} for row, reason in self.reasons],
        }


def rejects_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


class _Rejects:
    """The rejects file (written beside the input under a temporary name until commit)."""

    def __init__(self, final: Path, headers: list[str], *, raw: bool) -> None:
        self.final = final
        self.raw = raw  # JSON Lines: a line that is not an object is kept whole
        self.temp = final.with_name(final.name + f".{os.getpid()}.part")
        self.headers = headers
        self.count = 0
        self._handle: Any = None
        self._writer: Any = None

    def add(self, row: dict[str, str], number: int, reason: str) -> None:
        if self._writer is None:
            self._handle = self.temp.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            extra = [RAW_KEY] if self.raw else []
            header = [*self.headers, *extra, "row", "reason"]
            self._writer.writerow([neutralise(h) for h in header])
        cells = [row.get(h, "") for h in self.headers]
        if self.raw:
            cells.append(row.get(RAW_KEY, ""))
        self._writer.writerow([neutralise(c) for c in (*cells, number, reason)])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        self.close()
        self.temp.unlink(missing_ok=True)

    def publish(self) -> str | None:
        """Move the file into place; with no rejects, remove a stale one from an earlier run."""
        self.close()
        if self.count == 0:
            if self.final.is_file():  # a regular file only: never a device such as /dev/null
                self.final.unlink()
            return None
        self.temp.replace(self.final)
        return str(self.final)


@dataclass
class _Attempt:
    """One load of a file: what a failed batch row says about it."""

    record_type: str
    source: str
    file_name: str
    sha: str
    catalog_version: str | None
    started_at: datetime
    seen: int = 0
    last_row: int = 0


def failure_text(error: BaseException, attempt: _Attempt) -> str:
    """Why a load failed, zh / en, with the row it had reached."""
    if isinstance(error, XinyongError):
        what = error.detail or error.bilingual()
    else:
        what = f"内部错误 / internal error: {type(error).__name__}: {error}"
    where = (
        f"已读 {attempt.seen} 行，至第 {attempt.last_row} 行 / after {attempt.seen} rows, "
        f"at row {attempt.last_row}"
    )
    return f"{where}: {what}"[:MAX_FAILURE]


def _record_failure(target: Engine | Connection, attempt: _Attempt, failure: str) -> int | None:
    """Write the ``failed`` batch row after the load rolled back; None if even that fails.

    On an engine or an idle connection this is a transaction of its own. A caller that handed
    in a connection inside its own transaction gets the row in that transaction (it decides).
    """
    values = {
        "record_type": attempt.record_type,
        "source": attempt.source,
        "file_name": attempt.file_name,
        "file_sha256": attempt.sha,
        "catalog_version": attempt.catalog_version,
        "started_at": attempt.started_at,
        "finished_at": utcnow(),
        "state": "failed",
        "failure": failure,
    }
    query = insert(batches).returning(batches.c.id)
    try:
        with _transaction(target) as conn:
            return int(conn.execute(query, values).scalar_one())
    except Exception:  # the database itself may be what failed: keep the first error
        return None


@contextmanager
def _transaction(target: Engine | Connection) -> Iterator[Connection]:
    if isinstance(target, Engine):
        with target.begin() as conn:
            yield conn
    elif target.in_transaction():
        with target.begin_nested():
            yield target
    else:
        with target.begin():
            yield target


def ingest_file(
    target: Engine | Connection,
    path: str | Path,
    record_type: str,
    source: str,
    *,
    catalog: Catalog,
    encoding: str | None = None,
    progress: Progress | None = None,
    rejects_path: Path | None = None,
    file_name: str | None = None,
    at: date | None = None,
    mapping: Mapping | None = None,
) -> BatchResult:
    """Load ``path`` as one batch of ``record_type`` from authority ``source``.

    ``Forbidden`` (nothing stored) for a source the record type's ``sources`` do not name.
    ``UnusableInput`` (nothing loaded, no rejects file) for an unknown type, a
    missing required column, an unreadable or empty file. Bad rows are rejected, the rest load.
    ``rejects_path`` and ``file_name`` let a caller (the API) load an uploaded temporary file.
    ``mapping``: a department's own headers, constants and wordings (:mod:`.mapping`).
    """
    path = Path(path)
    rtype = record_type_of(catalog, record_type)
    if source not in rtype.sources:
        allowed = ", ".join(rtype.sources)
        if source not in catalog.authorities:
            raise UnusableInput(
                f"未知来源部门 {source!r}（允许的来源：{allowed}）/ unknown source authority "
                f"{source!r} (allowed sources: {allowed})"
            )
        raise Forbidden(
            f"{source!r} 不能提交 {rtype.id}（允许的来源：{allowed}）/ {source!r} may not submit "
            f"{rtype.id} (allowed sources: {allowed})"
        )
    require_covered(target, catalog)  # before the batch row: a refused catalog writes nothing
    rows = open_rows(path, encoding)
    try:
        plan = plan_columns(rtype, rows.headers, mapping)
        validator = RowValidator.for_plan(plan, catalog)
        first = next(rows.rows, None)
        if first is None:
            raise UnusableInput("文件没有数据行 / the file has no data rows")
        out = _Rejects(
            rejects_path or rejects_path_for(path),
            rows.headers,
            raw=rows.format == "jsonl" and RAW_KEY not in rows.headers,
        )
        attempt = _Attempt(
            rtype.id,
            source,
            file_name or path.name,
            file_sha256(path),
            catalog.version,
            utcnow(),
        )
        try:
            with database_errors(), _transaction(target) as conn:
                result = _load(
                    conn,
                    itertools.chain([first], rows.rows),
                    validator,
                    rtype,
                    catalog,
                    out,
                    progress,
                    at,
                    attempt,
                )
        except Exception as error:
            out.discard()
            batch_id = _record_failure(target, attempt, failure_text(error, attempt))
            if isinstance(error, UnusableInput) and batch_id is not None:
                raise UnusableInput(
                    f"批次 {batch_id} 已记为失败，未载入任何记录 / batch {batch_id} marked failed, "
                    f"nothing loaded: {error.detail or error.bilingual()}"
                ) from error
            raise
        except BaseException:  # interrupted (Ctrl-C): like a kill, it leaves nothing
            out.discard()
            raise
    finally:
        rows.close()
    return BatchResult(
        **result,
        rejects_file=out.publish(),
        unmapped_columns=plan.unmapped,
        layout=plan.layout,
    )


def record_type_of(catalog: Catalog, record_type: str) -> RecordType:
    """The record type called ``record_type``; ``UnusableInput`` naming the known ones."""
    rtype = catalog.record_types.get(record_type)
    if rtype is None:
        known = ", ".join(sorted(catalog.record_types))
        raise UnusableInput(f"未知记录类型 / unknown record type {record_type!r} (known: {known})")
    return rtype


def dry_run(
    path: str | Path,
    record_type: str,
    *,
    catalog: Catalog,
    encoding: str | None = None,
    mapping: Mapping | None = None,
) -> DryRun:
    """Read the whole of ``path`` as ``ingest_file`` would and report, writing nothing: no
    database, no rejects file. A required field without a column is in ``plan.missing`` (no
    rows are read then); an unreadable file raises ``UnusableInput`` as a load would."""
    path = Path(path)
    rtype = record_type_of(catalog, record_type)
    rows = open_rows(path, encoding)
    try:
        plan = plan_columns(rtype, rows.headers, mapping)
        report = DryRun(str(path), rtype.id, rows.format, rows.encoding, plan)
        if plan.missing:
            return report
        validator = RowValidator.for_plan(plan, catalog)
        seen = accepted = unlinked = 0
        reasons: list[tuple[int, str]] = []
        for number, row in rows.rows:
            seen += 1
            try:
                values = validator.validate(row)
            except InvalidRecord as error:
                if len(reasons) < DRY_RUN_REASONS:
                    reasons.append((number, error.detail or "记录无效 / invalid record"))
                continue
            accepted += 1
            unlinked += not values.get("subject_code")
    finally:
        rows.close()
    return DryRun(
        str(path),
        rtype.id,
        report.format,
        report.encoding,
        plan,
        rows=seen,
        accepted=accepted,
        rejected=seen - accepted,
        unlinked=unlinked,
        reasons=tuple(reasons),
    )


def _load(
    conn: Connection,
    rows: Iterator[tuple[int, dict[str, str]]],
    validator: RowValidator,
    rtype: RecordType,
    catalog: Catalog,
    out: _Rejects,
    progress: Progress | None,
    at: date | None,
    attempt: _Attempt,
) -> dict[str, Any]:
    source = attempt.source
    batch_id = conn.execute(
        insert(batches).returning(batches.c.id),
        {
            "record_type": rtype.id,
            "source": source,
            "file_name": attempt.file_name,
            "file_sha256": attempt.sha,
            "catalog_version": catalog.version,
            "started_at": attempt.started_at,
            "state": "loading",
        },
    ).scalar_one()
    loader = _ChunkLoader(
        conn, batch_id, rtype.id, source, catalog, at or attempt.started_at.date()
    )
    with young_only(), read_chunks(rows, validator, rtype.id, source, CHUNK_ROWS) as chunks:
        for chunk in chunks:
            attempt.seen, attempt.last_row = chunk.seen, chunk.last_row
            if chunk.error is not None:
                raise chunk.error
            for number, row, reason in chunk.rejected:
                out.add(row, number, reason)
            loader.load(chunk.accepted)
            _flush_rejects(
                conn,
                [
                    {"batch_id": batch_id, "row_number": number, "reason": reason, "original": row}
                    for number, row, reason in chunk.rejected
                ],
            )
            collect_young()  # no full collection while loading (xinyong.collector)
            if progress:
                progress(chunk.seen)
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            state="done",
            finished_at=utcnow(),
            accepted=loader.accepted,
            rejected=out.count,
            duplicates=loader.duplicates,
        )
    )
    return {
        "batch": batch_id,
        "accepted": loader.accepted,
        "rejected": out.count,
        "duplicates": loader.duplicates,
        "corrections": loader.corrections,
        "subjects": len(loader.subjects),
        "unlinked": loader.unlinked,
    }


def current_versions(conn: Connection, keys: list[str]) -> dict[str, tuple[int, str, int]]:
    """For record keys, the current version's ``(id, row_hash, version)`` (one parameter)."""
    columns = (records.c.record_key, records.c.id, records.c.row_hash, records.c.version)
    rows = current_by_key(conn, records, columns, keys)  # one look-up per key, one fetch
    return {r.record_key: (r.id, r.row_hash, r.version) for r in rows}


def _flush_rejects(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(rejects), rows)


class _ChunkLoader:
    def __init__(
        self,
        conn: Connection,
        batch_id: int,
        record_type: str,
        source: str,
        catalog: Catalog,
        at: date,
    ) -> None:
        self.conn, self.batch_id = conn, batch_id
        self.record_type, self.source, self.catalog, self.at = record_type, source, catalog, at
        self.accepted = self.duplicates = self.corrections = self.unlinked = 0
        self.subjects: set[int] = set()
        self.kind = pipeline.subject_kinds(catalog).get(record_type)

    def load(self, chunk: list[Prepared]) -> None:
        if not chunk:
            return
        current = current_versions(self.conn, sorted({p.key for p in chunk}))
        pending: list[Prepared] = []
        pending_keys: set[str] = set()
        for row in chunk:
            if row.key in pending_keys:
                # The same record twice in one chunk: write what came before, then compare.
                self._write(pending, current)
                current = current_versions(self.conn, sorted({p.key for p in chunk}))
                pending, pending_keys = [], set()
            existing = current.get(row.key)
            if existing is not None and existing[1] == row.row_hash:
                self.duplicates += 1
                continue
            pending.append(row)
            pending_keys.add(row.key)
        self._write(pending, current)

    def _write(self, pending: list[Prepared], current: dict[str, tuple[int, str, int]]) -> None:
        if not pending:
            return
        now = utcnow()
        superseded = [current[p.key][0] for p in pending if p.key in current]
        if superseded:
            self.conn.execute(
                update(records).where(records.c.id.in_(superseded)).values(superseded_at=now)
            )
            self.corrections += len(superseded)
        codes = [p.values.get("subject_code") for p in pending]
        kinds = [CATEGORY_KINDS.get(p.values.get("subject_category", "")) for p in pending]
        sids = resolve_codes(self.conn, codes, kind=self.kind, kinds=kinds)
        self.unlinked += sum(sid is None for sid in sids)
        ids = reserve_ids(self.conn, records, len(pending))
        recorded = db_value(self.conn, records.c.recorded_at, now)
        rows = []
        for rid, sid, p in zip(ids, sids, pending, strict=True):
            values = p.values
            old = current.get(p.key)
            valid_from = (
                values.get("valid_from") or values.get("decided_on") or values.get("published_on")
            )
            rows.append(
                (
                    rid,
                    self.record_type,
                    self.source,
                    sid,
                    values.get("subject_code"),
                    values.get("subject_name") or "",
                    values.get("document_no"),
                    _iso(values.get("decided_on")),
                    _iso(valid_from),
                    _iso(values.get("valid_until")),
                    p.text,
                    "active",
                    old[2] + 1 if old else 1,
                    old[0] if old else None,
                    recorded,
                    p.key,
                    p.row_hash,
                )
            )
        insert_rows(self.conn, records, _RECORD_COLUMNS, rows)
        insert_rows(
            self.conn,
            provenance,
            ("record_id", "batch_id", "source", "row_number", "record_key"),
            [
                (rid, self.batch_id, self.source, p.number, p.key)
                for rid, p in zip(ids, pending, strict=True)
            ],
        )
        self.accepted += len(ids)
        remember(
            self.conn,
            (
                LinkRow(
                    row[0], row[1], row[3], row[4], row[5], p.values.get("decided_on"),
                    row[13], p.values, p.key,
                )
                for row, p in zip(rows, pending, strict=True)
            ),
        )  # fmt: skip
        try:
            keys = {rid: p.key for rid, p in zip(ids, pending, strict=True)}
            touched = pipeline.apply_records(
                self.conn, ids, catalog=self.catalog, at=self.at, keys=keys
            )
        finally:
            forget(self.conn)
        self.subjects |= touched
