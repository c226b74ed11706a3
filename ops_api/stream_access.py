"""Long-lived responses keep checking who is on the other end.

A request is authorised once, when it comes in. A live stream (events and alarms over Server-Sent Events or a
WebSocket, a camera's MJPEG preview, the wall's picture stream) runs for minutes or for a whole shift, so a
check at the start alone let a user who was signed out, deactivated or moved to other sites keep watching
what they may no longer see. ``StreamAccess`` looks the stream's credential up again every
``api.stream_recheck_s`` (on a pooled connection for the moment it takes: a stream still holds none between
checks) and says why the stream must end:

- ``session_expired``: the session or token is gone (signed out, expired, revoked), the user deactivated, or a
  password change is now required;
- ``access_changed``: the user's role or sites changed; the stream ends so that its client opens a new one,
  which gets the new scope (or a 403/404).

While the database cannot be reached the stream goes on (nobody can be signed out meanwhile) and the check is
tried again at the next interval.

A user holds at most ``api.max_streams_per_user`` streams at once in one API process (``StreamSlots``): one
more is a 429 ``too_many_streams`` (the WebSocket closes with 4429). Each stream costs a task, a queue and a
socket; without a cap one signed-in account, or one leaked token, could open them until the process runs out.
A stream gives its slot back when it ends, and also when its response is dropped before it ever started.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter

import psycopg
from psycopg_pool import PoolTimeout
from starlette.concurrency import run_in_threadpool

from ops_api.deps import ApiContext, authenticate_hash
from ops_api.errors import ApiProblem
from ops_api.roles import Principal

log = logging.getLogger("vigil.api")


class StreamSlots:
    """How many streams each user holds open in this process, up to ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: Counter[int] = Counter()
        self._lock = threading.Lock()

    def take(self, user_id: int) -> None:
        """One more stream for the user, or a 429 ``too_many_streams``."""
        with self._lock:
            if self.held[user_id] >= self.limit:
                raise ApiProblem(429, f"you already have {self.limit} live streams open; close one first",
                                 code="too_many_streams", params={"max_streams": self.limit})
            self.held[user_id] += 1

    def give_back(self, user_id: int) -> None:
        with self._lock:
            self.held[user_id] -= 1
            if self.held[user_id] <= 0:
                del self.held[user_id]


class StreamAccess:
    """The access check of one stream opened by ``user`` with ``permission``; it holds one of the user's stream
    slots until ``close`` (or until it is dropped)."""

    def __init__(self, ctx: ApiContext, user: Principal, permission: str) -> None:
        slots = ctx.streams
        assert slots is not None, "the app's lifespan makes them"
        slots.take(user.user_id)
        # Given back once: by ``close`` when the stream ends, or when this object goes away unclosed (a response
        # dropped before its body started, whose generator's ``finally`` never runs).
        self.close = weakref.finalize(self, slots.give_back, user.user_id)
        self.ctx = ctx
        self.user = user
        self.permission = permission
        self.every_s = ctx.settings.api.stream_recheck_s
        self._next = time.monotonic() + self.every_s
        self.ended: str | None = None  # why the stream must end, once it must
        self._unchecked = False  # the last check could not reach the database

    def seconds_to_check(self) -> float:
        return max(0.0, self._next - time.monotonic())

    async def allowed(self) -> bool:
        """False once the stream must end (``ended`` says why); a database read only when a check is due."""
        if self.ended is not None:
            return False
        if time.monotonic() < self._next:
            return True
        self._next = time.monotonic() + self.every_s
        try:
            now = await run_in_threadpool(self._look_up)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if not self._unchecked:  # once per outage and stream, not every interval of every stream
                log.warning("stream access of user %s not checked (database unavailable): %s", self.user.username,
                            exc)
            self._unchecked = True
            return True
        self._unchecked = False
        if now is None or now.must_change_password:
            self.ended = "session_expired"
        elif (now.user_id, now.role, now.site_ids, now.province_ids) != (
                self.user.user_id, self.user.role, self.user.site_ids, self.user.province_ids):
            self.ended = "access_changed"
        if self.ended is not None:
            log.info("ending a %s stream of user %s: %s", self.permission, self.user.username, self.ended)
            return False
        return True

    def _look_up(self) -> Principal | None:
        with self.ctx.pool.connection() as conn:
            return authenticate_hash(conn, self.user.via, self.user.credential_hash)
