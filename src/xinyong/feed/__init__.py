"""The feed: every change that matters downstream, as events, to whoever may lawfully have them.

Public interface (other packages call these; keep them stable):

- :func:`emit` — write one event to the outbox in the caller's transaction (objections, repair);
- :func:`feed_step` — the pipeline's last step (records, list and restriction changes → events);
- :mod:`xinyong.feed.publisher` — ``run`` moves events to NATS JetStream and delivers webhooks;
- :mod:`xinyong.feed.subscriptions` — subscribers, agreements, watch lists;
- :mod:`xinyong.feed.webhooks` — ``sign``/``verify``, delivery, dead letters;
- :mod:`xinyong.feed.replica` — an agency's offline copy of the restriction index;
- :mod:`xinyong.feed.federation` — local and national platforms exchanging events.
"""

from __future__ import annotations

from xinyong.feed.events import EVENT_TYPES, Event, emit, feed_step, platform_id, set_platform_id

__all__ = ["EVENT_TYPES", "Event", "emit", "feed_step", "platform_id", "set_platform_id"]
