"""Prometheus metrics of one API process, on a registry of its own (no module-level state).

Request latency by route template; from the database at scrape time: events by type (last 24 h),
cameras by state, and the writer queue depth the vision workers report (when their table exists).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.queries.operations import cameras_by_state, events_last_day
from store.workers import writer_queues

log = logging.getLogger("vigil.api")
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram("vigil_api_request_seconds", "API request latency",
                                         ("method", "route", "status"), buckets=BUCKETS, registry=self.registry)
        self.live_subscribers = Gauge("vigil_api_live_subscribers", "Open live-event streams",
                                      registry=self.registry)
        self.previews = Gauge("vigil_api_previews", "Open MJPEG previews", registry=self.registry)
        self.picture_decodes = Counter("vigil_api_picture_decodes_total",
                                       "Camera streams decoded for a picture (no fresh worker picture)",
                                       registry=self.registry)
        self.live_messages = Counter("vigil_api_live_events_total", "Events fanned out to this process",
                                     ("type",), registry=self.registry)
        self.outbound = Counter("vigil_api_outbound_total", "Webhook/MQTT deliveries", ("kind", "result"),
                                registry=self.registry)
        self._store: _StoreCollector | None = None
        self.login_failures = Counter("vigil_api_login_failures_total", "Failed sign-ins", registry=self.registry)

    def watch_database(self, pool: ConnectionPool) -> None:
        """Read the store through ``pool`` at scrape time (replacing a previous pool of a restarted app)."""
        if getattr(self, "_store", None) is not None:
            self.registry.unregister(self._store)
        self._store = _StoreCollector(pool)
        self.registry.register(self._store)


class _StoreCollector(Collector):
    """Reads the store when Prometheus scrapes; answers nothing (and logs) when the database is down."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        events = GaugeMetricFamily("vigil_events_last_24h", "Events that started in the last 24 h",
                                   labels=("type",))
        cameras = GaugeMetricFamily("vigil_cameras", "Cameras by state", labels=("state",))
        queue = GaugeMetricFamily("vigil_writer_queue_rows", "Rows waiting in the store writers' queues",
                                  labels=("worker",))
        try:
            with self.pool.connection(timeout=2) as conn:
                for kind, count in events_last_day(conn).items():
                    events.add_metric((kind,), count)
                for state, count in cameras_by_state(conn).items():
                    cameras.add_metric((state,), count)
                for worker, queued in writer_queues(conn).items():
                    queue.add_metric((worker,), queued)
        except Exception as exc:  # a scrape must not fail because the database is away
            log.warning("metrics: database not readable: %s", exc)
        yield events
        yield cameras
        yield queue


class MetricsMiddleware:
    """Times every HTTP request under its route template (``/api/events/{event_id}``), not its raw path."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            self.metrics.request_seconds.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started)
