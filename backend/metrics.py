"""Prometheus metrics: what an operator watches, served at ``GET /metrics``.

- ``localsync_request_duration_seconds{method, route, status}``: HTTP request
  latency by route template (``/api/local-sync/sources/push-batch``), never the
  raw path, so scanners cannot mint new series; unmatched paths count as
  ``unmatched``.
- ``localsync_push_items_total{status}``: pushed items by result (applied,
  merged, conflict, unchanged, duplicate, rejected), REST and GraphQL alike.
- ``localsync_open_subscriptions``: live feeds open now.
- ``localsync_db_pool_connections_in_use`` and ``localsync_db_pool_size``: the
  database pool, per process summed over processes.

With several worker processes (``localsync serve --workers N``) every process
writes its values under ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them
(prometheus-client's multiprocess mode); gauges count live processes only.
"""

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "localsync_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PUSH_ITEMS = Counter(
    "localsync_push_items", "Pushed items by result status (REST and GraphQL).", ["status"]
)
OPEN_SUBSCRIPTIONS = Gauge(
    "localsync_open_subscriptions", "Live feed subscriptions open now.", multiprocess_mode="livesum"
)
POOL_IN_USE = Gauge(
    "localsync_db_pool_connections_in_use",
    "Database connections checked out of the pool now.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "localsync_db_pool_size",
    "Database connections the pool keeps (without overflow).",
    multiprocess_mode="livesum",
)

UNMATCHED = "unmatched"


def count_push_items(statuses: Iterable[str]) -> None:
    """Count one push's item results (called by the REST and GraphQL push handlers)."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    for status, n in counts.items():
        PUSH_ITEMS.labels(status=status).inc(n)


@contextmanager
def open_subscription() -> Iterator[None]:
    OPEN_SUBSCRIPTIONS.inc()
    try:
        yield
    finally:
        OPEN_SUBSCRIPTIONS.dec()


def watch_pool(engine: Engine, size: int) -> None:
    """Follow ``engine``'s checkouts; a connection that is closed while out counts back in."""
    POOL_SIZE.inc(size)

    @event.listens_for(engine, "checkout")
    def _out(*_: Any) -> None:
        POOL_IN_USE.inc()

    @event.listens_for(engine, "checkin")
    def _in(*_: Any) -> None:
        POOL_IN_USE.dec()


def unwatch_pool(size: int) -> None:
    POOL_SIZE.dec(size)


class RequestMetrics:
    """Times every HTTP request and labels it with the route template it matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            REQUEST_SECONDS.labels(scope["method"], _route(scope), str(status)).observe(
                time.perf_counter() - started
            )


def _route(scope: Scope) -> str:
    """The matched route's template. A route without parameters (all of ours) is its own
    template, so the request path is used as is: included routers keep only the part
    of the template below their prefix."""
    route = scope.get("route")
    if not isinstance(route, BaseRoute):
        return UNMATCHED
    template = getattr(route, "path_format", None)
    if isinstance(template, str) and "{" in template:
        return template
    path: str = scope["path"]
    return path


def metrics_response(multiprocess_dir: str | None) -> Response:
    """The text exposition: this process's registry, or every worker's summed."""
    registry: CollectorRegistry = REGISTRY
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def process_exited(multiprocess_dir: str | None) -> None:
    """Drop an exiting worker's live gauges from the sums."""
    if multiprocess_dir:
        multiprocess.mark_process_dead(os.getpid(), multiprocess_dir)  # type: ignore[no-untyped-call]


async def serve_metrics(request: Request) -> Response:
    """``GET /metrics`` (mounted by ``create_app`` when metrics are enabled)."""
    directory: str | None = request.app.state.runtime.settings.prometheus_multiproc_dir
    return metrics_response(directory)
