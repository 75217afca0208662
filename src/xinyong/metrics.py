"""The process's Prometheus instruments, counted where things happen; served at ``GET /metrics``.

::

    count_check(action, outcome)                 xinyong_checks_total{action,outcome}
    observe_request(method, route, status, s)    xinyong_http_requests_total, …_seconds histogram
    set_audit_queue(depth)                       xinyong_audit_queue_depth (summed over workers)

(Ingest rows and feed lag are read from the database when ``/metrics`` is scraped:
:mod:`xinyong.api.metrics`.)

``prometheus_client`` is imported on first use, not at import time: it decides between
in-memory values and files shared by the server's workers (multiprocess mode, when
``PROMETHEUS_MULTIPROC_DIR`` is set — ``xinyong serve`` sets it) when it is first imported, and
``xinyong serve`` must set the folder before that. A CLI process counts into memory and exits;
nothing is sent anywhere.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

#: Request latency buckets, seconds: the check path answers in milliseconds, reports in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    checks: Counter
    requests: Counter
    latency: Histogram
    audit_queue: Gauge


_creating = threading.Lock()


def instruments() -> Instruments:
    """The instruments, created once per process. ``functools.cache`` alone is not enough: two
    threads checking at once would both create them and the second registration raises
    ``DuplicateTimeseries`` (the first checks of a threaded server)."""
    with _creating:
        return _create()


@functools.cache
def _create() -> Instruments:
    from prometheus_client import Counter, Gauge, Histogram

    return Instruments(
        checks=Counter(
            "xinyong_checks", "Decisions made, by action and outcome", ["action", "outcome"]
        ),
        requests=Counter(
            "xinyong_http_requests", "HTTP requests answered", ["method", "route", "status"]
        ),
        latency=Histogram(
            "xinyong_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
        ),
        audit_queue=Gauge(
            "xinyong_audit_queue_depth",
            "Decisions and audit events waiting to be written",
            multiprocess_mode="livesum",
        ),
    )


# The labelled series in use, found once each: ``labels()`` takes a lock and builds its key on
# every call, which on the check path (two series per request) cost more than the counting. The
# label values are bounded (actions, outcomes, route templates, statuses), and so are these.
_checks: dict[tuple[str, str], Any] = {}
_requests: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def count_check(action: str, outcome: str) -> None:
    series = _checks.get((action, outcome))
    if series is None:
        series = _checks[(action, outcome)] = instruments().checks.labels(action, outcome)
    series.inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    series = _requests.get(key)
    if series is None:
        meters = instruments()
        series = _requests[key] = (
            meters.requests.labels(method, route, str(status)),
            meters.latency.labels(method, route),
        )
    series[0].inc()
    series[1].observe(seconds)


def set_audit_queue(depth: int) -> None:
    instruments().audit_queue.set(depth)
