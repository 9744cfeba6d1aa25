"""Prometheus metrics: one registry per process, the request middleware, and hooks the services call.

Counters and histograms count what this process did; the gauges read at scrape time (queue depth per
pool, open questions) come from the database, so every process reports the same city-wide values.
With several processes, scrape each one (see docs/OPERATIONS.md) and sum the counters.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_SECONDS = Histogram(
    "fazhizhen_http_request_duration_seconds",
    "HTTP request latency by method, route template and status",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
HTTP_IN_PROGRESS = Gauge(
    "fazhizhen_http_requests_in_progress", "HTTP requests being handled now", registry=REGISTRY
)
QUESTIONS = Counter(
    "fazhizhen_questions",
    "Question state changes done by this process (created, escalated, claimed, answered, alerted)",
    ["event"],
    registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "fazhizhen_sweep_duration_seconds",
    "Duration of one deadline sweep",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
# group commit (fazhizhen/services/batching.py): how many calls each database trip carried, and how long it took
BATCH_SIZE = Histogram(
    "fazhizhen_batch_size",
    "Calls served by one batch (intake: questions per statement; tokens: look-ups per query)",
    ["batcher"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "fazhizhen_batch_duration_seconds",
    "Duration of one batch's database work",
    ["batcher"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
SWEEP_FAILURES = Counter("fazhizhen_sweep_failures", "Sweeps that raised", registry=REGISTRY)
# One outcome per delivery attempt, so the outcomes of a channel sum to its attempts:
# delivered; retried (failed, another attempt is scheduled); dead (failed for good: refused permanently or
# out of attempts); skipped (nothing to send: channel not configured, no subscriber).
NOTIFICATION_OUTCOMES = ("delivered", "retried", "dead", "skipped")
NOTIFICATIONS = Counter(
    "fazhizhen_notifications",
    "Notification delivery attempts by channel (wechat, webhook) and outcome (delivered, retried, dead, skipped)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
OPEN_QUESTIONS = Gauge(
    "fazhizhen_open_questions", "Unanswered questions by status (database)", ["status"], registry=REGISTRY
)
POOL_QUEUE_DEPTH = Gauge(
    "fazhizhen_pool_queue_depth",
    "Escalated questions waiting to be claimed, per pool (database)",
    ["pool_id", "pool"],
    registry=REGISTRY,
)
POOL_OLDEST_SECONDS = Gauge(
    "fazhizhen_pool_oldest_waiting_seconds",
    "Age of the oldest unclaimed escalated question, per pool (database; 0 when none)",
    ["pool_id", "pool"],
    registry=REGISTRY,
)
OVERDUE = Gauge(
    "fazhizhen_overdue_questions",
    "Questions past a deadline the sweep has not acted on yet (database; should stay 0)",
    registry=REGISTRY,
)
DB_UP = Gauge("fazhizhen_database_up", "1 when the last scrape reached the database", registry=REGISTRY)
DB_POOL = Gauge(
    "fazhizhen_db_pool_connections",
    "Database pool connections: in_use, idle, size (open) and max",
    ["state"],
    registry=REGISTRY,
)

for _event in ("created", "escalated", "claimed", "answered", "alerted"):
    QUESTIONS.labels(_event)
for _status in ("pending", "escalated", "claimed"):
    OPEN_QUESTIONS.labels(_status)


def batch_observer(batcher: str) -> Callable[[int, float], None]:
    """What a MicroBatcher reports after each batch: its size and how long its database work took."""
    size, seconds = BATCH_SIZE.labels(batcher), BATCH_SECONDS.labels(batcher)

    def observe(n: int, took: float) -> None:
        size.observe(n)
        seconds.observe(took)

    return observe


def question_event(event: str, n: int = 1) -> None:
    """Count `n` question state changes of one kind."""
    if n:
        QUESTIONS.labels(event).inc(n)


def notification(channel: str, outcome: str) -> None:
    """Count one notification delivery attempt by its outcome (one of NOTIFICATION_OUTCOMES)."""
    NOTIFICATIONS.labels(channel, outcome).inc()


def declare_notification_channel(channel: str) -> None:
    """Create a channel's outcome series at zero (a counter that appears only at its first failure hides it)."""
    for outcome in NOTIFICATION_OUTCOMES:
        NOTIFICATIONS.labels(channel, outcome)


def sweep_done(seconds: float, escalated: int, alerted: int) -> None:
    """Record one sweep."""
    SWEEP_SECONDS.observe(seconds)
    question_event("escalated", escalated)
    question_event("alerted", alerted)


def set_pool_usage(size: int, idle: int, maximum: int) -> None:
    """Record the database pool's state."""
    DB_POOL.labels("size").set(size)
    DB_POOL.labels("idle").set(idle)
    DB_POOL.labels("in_use").set(size - idle)
    DB_POOL.labels("max").set(maximum)


def set_database_state(snapshot: dict[str, Any] | None) -> None:
    """Record the gauges read from the database (None: it did not answer)."""
    DB_UP.set(0 if snapshot is None else 1)
    if snapshot is None:
        return
    for status in ("pending", "escalated", "claimed"):
        OPEN_QUESTIONS.labels(status).set(snapshot["open"].get(status, 0))
    POOL_QUEUE_DEPTH.clear()
    POOL_OLDEST_SECONDS.clear()
    for p in snapshot["pools"]:
        labels = (str(p["pool_id"]), p["name"])
        POOL_QUEUE_DEPTH.labels(*labels).set(p["waiting"])
        POOL_OLDEST_SECONDS.labels(*labels).set(p["oldest_seconds"] or 0)
    OVERDUE.set(snapshot["overdue"])


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time every request under its route template (not the raw path, which would explode labels)."""
    started = time.perf_counter()
    status = 500
    HTTP_IN_PROGRESS.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        HTTP_IN_PROGRESS.dec()
        HTTP_SECONDS.labels(request.method, _route(request), str(status)).observe(
            time.perf_counter() - started
        )
