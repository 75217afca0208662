"""Feed fixtures: migrated stores (what ``xinyong init`` makes), and a JetStream stream of the
test's own.

The NATS tests use the real server at 127.0.0.1:4222 (skipped, saying so, when it is down); each
test gets a stream and subject prefix no other test uses, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator

import nats
import pytest
from sqlalchemy import Engine, insert
from tests.conftest import NewStore

from xinyong.catalog import Catalog, default_catalog
from xinyong.feed.stream import FeedStream
from xinyong.store.engine import connect, utcnow
from xinyong.store.tables import subject_identifiers, subjects


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture()
def second_engine(new_store: NewStore) -> Iterator[Engine]:
    """A second platform's database (SQLite, a file of its own)."""
    engine = connect(new_store("sqlite"))
    yield engine
    engine.dispose()


@pytest.fixture()
def add_subject() -> Callable[[Engine, str, str], int]:
    """Make a subject with one identifier: ``add_subject(engine, kind, code)``."""
    return _add_subject


def _add_subject(engine: Engine, kind: str, code: str) -> int:
    scheme = "ric" if kind == "individual" else "uscc"
    with engine.begin() as conn:
        sid = conn.execute(
            insert(subjects)
            .values(kind=kind, primary_code=code, created_at=utcnow())
            .returning(subjects.c.id)
        ).scalar_one()
        conn.execute(insert(subject_identifiers).values(subject_id=sid, scheme=scheme, value=code))
    return int(sid)


@pytest.fixture()
def feed(nats_server: None) -> Iterator[FeedStream]:
    tag = uuid.uuid4().hex[:10]
    stream = FeedStream(stream=f"T{tag}", prefix=f"t{tag}.events")
    yield stream

    async def drop() -> None:
        nc = await nats.connect(stream.url)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(stream.stream)
        await nc.drain()

    asyncio.run(drop())
