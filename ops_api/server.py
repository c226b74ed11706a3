"""Serving the API with uvicorn: a request head must arrive in time, and proxies are the app's business.

uvicorn (0.54) has no request-head timeout: its keep-alive timer runs only between requests and stops at
the first byte received, so a client that opens a connection and sends nothing, or trickles a header a
byte at a time (slowloris), holds the connection for ever. ``HeaderTimeoutProtocol`` closes a connection
whose request line and headers are not complete ``api.header_timeout_s`` after it opened or after the
request's first byte; once the head is in, nothing limits the request (live streams stay open).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger("vigil.api.server")

DEFAULT_HEADER_TIMEOUT_S = 10.0
STARTUP_FAILURE = 3  # uvicorn's own exit code when the server did not start


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request head is too slow to arrive."""

    def __init__(self, config: uvicorn.Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_s: float = getattr(config, "header_timeout_s", DEFAULT_HEADER_TIMEOUT_S)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()  # a connection that sends nothing at all

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_head()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._head_arrived()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _head_arrived(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            # debug, not info: an attacker opening connections must not be able to flood the log
            log.debug("closed a connection from %s: no complete request head in %.0f s",
                      self.client[0] if self.client else "?", self.header_timeout_s)
            self.transport.close()


class ApiServerConfig(uvicorn.Config):
    """uvicorn's settings for the API: the head timeout above, and no proxy handling of uvicorn's own
    (``create_app`` believes X-Forwarded-* from ``api.trusted_proxies`` only, however the app is served)."""

    def __init__(self, app: Any, *, header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(app, http=HeaderTimeoutProtocol, proxy_headers=False, **kwargs)
        self.header_timeout_s = header_timeout_s  # read by each connection's protocol, in every worker process


def run_server(config: ApiServerConfig) -> None:
    """What ``uvicorn.run`` does, for a prepared config: one process, or ``workers`` sharing one socket."""
    from uvicorn.supervisors import Multiprocess

    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if config.uds and os.path.exists(config.uds):
            os.remove(config.uds)
    if not server.started and config.workers == 1:
        sys.exit(STARTUP_FAILURE)
