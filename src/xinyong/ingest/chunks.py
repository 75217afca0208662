"""A file's rows read, validated and prepared in chunks on a thread of their own.

While the loader writes one chunk (its ``COPY`` in flight, the database checking keys and
filling indexes), the next is read, validated, encoded and hashed: psycopg and ``sqlite3``
release the GIL while they wait for the database, so the two overlap. Nothing here touches the
database; the loader's thread alone does, in its own transaction.

- ``read_chunks(rows, validator, record_type, source, size)`` is a context manager yielding the
  chunks in file order. A chunk ends where the loader always cut one: ``size`` accepted rows, or
  as many rejected ones; the last chunk (perhaps empty) ends with the file. Each carries the rows
  read so far and the last row number, for the loader's progress and a failed batch's "after N
  rows, at row M". One chunk waits while the next is read: memory stays flat.
- An error while reading or validating (a file unreadable at row 40,001) comes out of the
  iteration after the chunks before it, with the position reached, exactly where the loader
  would have met it reading the file itself.
- Leaving the ``with`` block, however it is left, stops the thread and waits for it, so the
  caller may close the file afterwards.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from xinyong.errors import InvalidRecord
from xinyong.ingest.validate import RowValidator
from xinyong.store.identity import canonical_json, record_identity

#: Chunks waiting for the loader while the thread reads the next.
AHEAD = 1


@dataclass(frozen=True, slots=True)
class Prepared:
    """An accepted row as the loader writes it: parsed values, their canonical JSON and its
    hash, and the record's identity (``record_key``)."""

    number: int
    values: dict[str, Any]
    text: str
    row_hash: str
    key: str


@dataclass
class Chunk:
    """Rows of the file between two cuts, as the reading thread hands them over."""

    accepted: list[Prepared] = field(default_factory=list)
    #: (row number, the row as read, reason)
    rejected: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    #: Rows read up to the end of this chunk, and the last row number among them.
    seen: int = 0
    last_row: int = 0
    #: The file ends with this chunk.
    last: bool = False
    #: What stopped the reading at ``seen`` / ``last_row`` (the chunk's rows are then not
    #: complete, and none follows).
    error: BaseException | None = None


def prepare(record_type: str, source: str, number: int, values: dict[str, Any]) -> Prepared:
    text = canonical_json(values)
    row_hash = sha256(text.encode()).hexdigest()
    return Prepared(
        number, values, text, row_hash, record_identity(record_type, source, values, row_hash)
    )


class _Stopped(Exception):
    """The loader left: the reading thread ends without reading further."""


def _produce(
    rows: Iterator[tuple[int, dict[str, str]]],
    validator: RowValidator,
    record_type: str,
    source: str,
    size: int,
    out: queue.Queue[Chunk],
    stop: threading.Event,
) -> None:
    def put(chunk: Chunk) -> None:
        while True:
            if stop.is_set():
                raise _Stopped
            try:
                out.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue

    chunk = Chunk()
    seen = 0
    try:
        for number, row in rows:
            if stop.is_set():
                return
            seen += 1
            chunk.seen, chunk.last_row = seen, number
            try:
                values = validator.validate(row)
            except InvalidRecord as error:
                reason = error.detail or "记录无效 / invalid record"
                chunk.rejected.append((number, row, reason))
            else:
                chunk.accepted.append(prepare(record_type, source, number, values))
            if len(chunk.accepted) >= size or len(chunk.rejected) >= size:
                put(chunk)
                chunk = Chunk(seen=seen, last_row=number)
    except _Stopped:
        return
    except BaseException as error:  # handed to the loader's thread, which raises it
        chunk.error = error
    chunk.last = True
    try:
        put(chunk)
    except _Stopped:
        return


@contextmanager
def read_chunks(
    rows: Iterator[tuple[int, dict[str, str]]],
    validator: RowValidator,
    record_type: str,
    source: str,
    size: int,
) -> Iterator[Iterator[Chunk]]:
    """The chunks of ``rows`` (see the module docstring), read on a thread of their own."""
    out: queue.Queue[Chunk] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce,
        args=(rows, validator, record_type, source, size, out, stop),
        name="xinyong-ingest-read",
        daemon=True,
    )

    def chunks() -> Iterator[Chunk]:
        while True:
            chunk = out.get()
            yield chunk
            if chunk.last:
                return

    thread.start()
    try:
        yield chunks()
    finally:
        stop.set()
        thread.join()
