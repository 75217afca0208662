"""The JetStream side: where events go, the stream that keeps them, and connecting to NATS.

One stream (``XINYONG`` by default) holds every subject under the prefix (``xinyong.events.>``),
with a duplicate window: a message whose ``Nats-Msg-Id`` (our event id) was already stored inside
the window is acknowledged and dropped, so a publisher that crashed after JetStream stored a batch
but before it marked the batch published sends it again harmlessly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoServersError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from xinyong.errors import UnusableInput

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_STREAM = "XINYONG"
DEFAULT_PREFIX = "xinyong.events"
#: How long JetStream remembers message ids: a publisher restarted within it sends nothing twice.
DUPLICATE_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class FeedStream:
    """Which NATS server, stream and subject prefix a platform's feed uses."""

    url: str = DEFAULT_NATS
    stream: str = DEFAULT_STREAM
    prefix: str = DEFAULT_PREFIX
    duplicate_window: float = DUPLICATE_WINDOW_SECONDS

    def family(self, family: str) -> str:
        """The subject filter for one family of events: ``xinyong.events.restriction.>``."""
        return f"{self.prefix}.{family}.>"


@asynccontextmanager
async def connected(feed: FeedStream) -> AsyncIterator[tuple[Client, JetStreamContext]]:
    """A NATS connection and its JetStream context; ``UnusableInput`` if the server is not there."""
    try:
        nc = await nats.connect(
            feed.url,
            connect_timeout=2,
            max_reconnect_attempts=2,
            allow_reconnect=True,
            error_cb=_quiet,
        )
    except (NoServersError, OSError, NatsError, TimeoutError) as exc:
        raise UnusableInput(
            f"无法连接 NATS / cannot reach NATS at {feed.url}: {type(exc).__name__}"
        ) from exc
    try:
        yield nc, nc.jetstream(timeout=10)
    finally:
        await nc.drain()


@asynccontextmanager
async def pull_subscription(
    js: JetStreamContext,
    feed: FeedStream,
    subject: str,
    config: ConsumerConfig,
    durable: str | None = None,
) -> AsyncIterator[JetStreamContext.PullSubscription]:
    """A pull subscription on the feed's stream, unsubscribed when the block ends.

    Draining the connection (``connected`` does, on the way out) waits for every subscription's
    queue of pending messages to empty; a pull subscription whose last ``fetch`` timed out keeps
    an entry nobody takes, so the drain would wait out its whole timeout (30 s) and a follower
    told to stop would stall that long. Unsubscribing first drops the queue at once."""
    sub = await js.pull_subscribe(subject, durable=durable, stream=feed.stream, config=config)
    try:
        yield sub
    finally:
        with contextlib.suppress(NatsError):
            await sub.unsubscribe()


async def _quiet(_exc: Exception) -> None:
    """Connection errors surface where they matter (a publish that fails); not on stderr."""


async def ensure_stream(js: JetStreamContext, feed: FeedStream) -> None:
    """Create the stream if it is missing (file storage, the duplicate window above).

    Several processes may start at once against a fresh server (a publisher and its
    followers): when another one's creation wins the race, the server refuses ours ("subjects
    overlap with an existing stream"); the stream then exists, which is all that was wanted."""
    try:
        await js.stream_info(feed.stream)
        return
    except NotFoundError:
        pass
    try:
        await js.add_stream(
            StreamConfig(
                name=feed.stream,
                subjects=[f"{feed.prefix}.>"],
                duplicate_window=feed.duplicate_window,
                storage=StorageType.FILE,
            )
        )
    except BadRequestError as refused:
        try:
            await js.stream_info(feed.stream)  # made by another process meanwhile: fine
        except NotFoundError:
            raise refused from None  # the subjects belong to another stream: misconfigured
