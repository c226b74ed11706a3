"""The Operations API application: ``create_app(settings, database_url)``.

Everything long-lived (connection pool, LISTEN thread, outbound dispatcher, alarm clock, picture cache, metrics
registry) is created
by the lifespan and closed with it; nothing lives at module level, so tests and replicas can build as
many apps as they like. The web console (``console/``), when it offers ``mount(app)``, is mounted here.
Every answer carries the security headers (``ops_api.headers``), from outside Starlette's own error
middleware so a 500 has them too.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import PoolTimeout
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.redact import install_log_redaction
from core.settings import Settings
from ops_api.alarm_watch import AlarmWatch
from ops_api.deps import ApiContext
from ops_api.errors import BodyLimitMiddleware, document_errors, install_error_handlers
from ops_api.headers import SecurityHeaders, content_policy
from ops_api.live import LiveHub
from ops_api.metrics import ApiMetrics, MetricsMiddleware
from ops_api.outbound import OutboundDispatcher
from ops_api.params import out_of_range
from ops_api.pictures import PictureCache
from ops_api.routers import ROUTERS
from ops_api.routers.maps import PLAN_UPLOAD
from ops_api.stream_access import StreamSlots
from store.db import make_pool

log = logging.getLogger("vigil.api")

DESCRIPTION = """Vigil Operations API: sites, cameras, zones, counters, events and their workflow, live
events, reports and exports. Sign in with `POST /api/auth/login` (console cookie) or send
`Authorization: Bearer <token>` (create tokens with `POST /api/auth/tokens`). Roles: operator, manager,
engineer, admin; a user limited to some sites gets 403 for filters outside them and 404 for their objects.
Validation errors are 422 with `{"detail": [{"field": "body.name", "message": "...", "code": "string_too_short",
"params": {"min_length": 1}}]}`; other errors are `{"detail": "...", "code": "...", "params": {...}}`. `message`
and `detail` are English; `code` is stable and `params` fill in its text (see `ops_api/error_codes.py`)."""


class VigilApp(FastAPI):
    """FastAPI with ``SecurityHeaders`` around its whole middleware stack (the error middleware included)."""

    content_policy: str | None = None  # the console's policy with the configured tile server (ops_api.headers)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.content_policy)


def create_app(settings: Settings, database_url: str, *, live: bool = True, outbound: bool = True) -> FastAPI:
    """A ready-to-serve app; the database must already be migrated."""
    metrics = ApiMetrics()
    install_log_redaction()  # uvicorn configured its own handlers (access log: ?token=) before building the app

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # again: a server configures its log handlers after the app is built
        database = settings.database
        pool = make_pool(database_url, min_size=1, max_size=database.pool_size, name="vigil-api",
                         timeout_s=database.pool_timeout_s, connect_timeout_s=database.connect_timeout_s,
                         statement_timeout_s=database.statement_timeout_s)
        pool.open(wait=False)
        try:
            pool.wait(timeout=settings.database.connect_timeout_s)
        except PoolTimeout:  # serve anyway: /readyz says 503 and requests answer 503 until it is back
            log.warning("the database is not reachable yet; the API answers 503 until it is")
        metrics.watch_database(pool)
        ctx = ApiContext(settings=settings, database_url=database_url, pool=pool, metrics=metrics,
                         streams=StreamSlots(settings.api.max_streams_per_user),
                         pictures=PictureCache(settings, pool, metrics))
        if live:
            ctx.hub = LiveHub(database_url, pool, metrics)
            if outbound:
                ctx.outbound = OutboundDispatcher(database_url, pool, metrics, ack_s=settings.alarms.ack_s)
                ctx.hub.add_listener(ctx.outbound.offer)
                ctx.hub.add_alarm_listener(ctx.outbound.offer_alarm)
                ctx.outbound.start()
            ctx.hub.start()
            ctx.alarm_watch = AlarmWatch(database_url, settings.alarms, settings.store.event_retention_days)
            ctx.alarm_watch.start()
        app.state.vigil = ctx
        try:
            yield
        finally:
            if ctx.alarm_watch is not None:
                ctx.alarm_watch.stop()
            if ctx.hub is not None:
                ctx.hub.stop()
            if ctx.outbound is not None:
                ctx.outbound.stop()
            ctx.pictures.close()
            pool.close()

    app = VigilApp(title="Vigil Operations API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.content_policy = content_policy(settings.map.tile_origin)
    install_error_handlers(app)
    app.add_exception_handler(OverflowError, out_of_range)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api.max_body_bytes,
                       larger={PLAN_UPLOAD: max(settings.map.plan_max_bytes, settings.api.max_body_bytes)})
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.api.trusted_proxies:  # outermost: the scheme and client address every layer sees
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.api.trusted_proxies)
    app.state.metrics = metrics
    app.state.statement_timeout_s = settings.database.statement_timeout_s  # named in a query_timeout answer
    _mount_console(app)
    return app


def _mount_console(app: FastAPI) -> None:
    try:
        console = importlib.import_module("console")
    except ImportError:
        return
    mount = getattr(console, "mount", None)
    if callable(mount):
        mount(app)
