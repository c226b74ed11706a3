"""Live events and alarms: one LISTEN connection per API process, fanned out to each open stream.

The store notifies ``vigil_events`` on every insert or update of an event, and ``vigil_alarms`` on every insert,
update and escalation of an alarm (triggers, so every writer and every API replica takes part). The hub's thread
reads the notifications, loads the rows in one query per batch and kind, and hands each to the subscribers whose
site scope covers it (alarms only to those that asked for them). After a lost connection it catches
up on inserts by ``seq`` before listening again. A subscriber that falls more than ``QUEUE_MAX`` events
behind is closed; its client reconnects with the last seq it saw and resumes from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ops_api.metrics import ApiMetrics
from store import alarms as alarm_rows
from store.queries.events import events_after, events_by_ids, last_seq, listen

log = logging.getLogger("vigil.api.live")
QUEUE_MAX = 2000
APPLICATION_NAME = "vigil-api-live"  # how the LISTEN connection shows in pg_stat_activity


@dataclass(eq=False)
class Subscription:
    """One open stream: a bounded queue on the event loop that serves it."""

    scope: frozenset[int] | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflowed: bool = False
    events: bool = True  # event messages ({"kind": "event", ...})
    alarms: bool = False  # alarm messages ({"kind": "alarm", ...})

    def sees(self, site_id: int | None) -> bool:
        return self.scope is None or (site_id is not None and site_id in self.scope)

    def push(self, message: dict[str, Any] | None) -> None:
        """Runs on the subscriber's loop. ``None`` tells the stream to end."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveHub:
    """Owns the LISTEN thread; ``start()`` and ``stop()`` are called by the app's lifespan."""

    def __init__(self, database_url: str, pool: ConnectionPool, metrics: ApiMetrics) -> None:
        self.database_url = database_url
        self.pool = pool
        self.metrics = metrics
        self._subscribers: set[Subscription] = set()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._alarm_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.last_seq = 0
        self.last_message_at: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vigil-live-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub.loop.call_soon_threadsafe(sub.push, None)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.listening.is_set()

    # -- subscribers -----------------------------------------------------------------------------
    def subscribe(self, scope: frozenset[int] | None, *, events: bool = True, alarms: bool = False) -> Subscription:
        sub = Subscription(scope, asyncio.get_running_loop(), events=events, alarms=alarms)
        with self._lock:
            self._subscribers.add(sub)
        self.metrics.live_subscribers.inc()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.discard(sub)
                self.metrics.live_subscribers.dec()

    def add_listener(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        """A callback ``callback(op, row)`` run on the hub's thread for every event (call before start)."""
        self._listeners.append(callback)

    def add_alarm_listener(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        """A callback ``callback(op, row)`` run on the hub's thread for every alarm change (op insert, update or
        escalated; call before start)."""
        self._alarm_listeners.append(callback)

    # -- the LISTEN thread -----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.5
        caught_up = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row, connect_timeout=5,
                                     application_name=APPLICATION_NAME) as conn:
                    listen(conn)
                    alarm_rows.listen(conn)
                    if caught_up:
                        self._catch_up(conn)
                    else:
                        self.last_seq = last_seq(conn)
                        caught_up = True
                    self.listening.set()
                    backoff = 0.5
                    self._listen(conn)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stop.is_set():
                    break
                log.warning("live events: database connection lost (%s); retrying in %.1f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.listening.clear()

    def _listen(self, conn: psycopg.Connection) -> None:
        while not self._stop.is_set():
            batches: dict[str, dict[str, str]] = {"event": {}, "alarm": {}}
            for note in conn.notifies(timeout=0.5, stop_after=1):
                self._collect(batches, note.channel, note.payload)
            if not any(batches.values()):
                continue
            # More may have queued behind the first one: take them in the same row query.
            for note in conn.notifies(timeout=0.005, stop_after=500):
                self._collect(batches, note.channel, note.payload)
            # The listening connection reads the rows itself: a busy request pool never delays live events.
            events, alarms = batches["event"], batches["alarm"]
            if events:
                rows = events_by_ids(conn, [UUID(i) for i in events])
                self._dispatch([(events[str(row["id"])], row) for row in rows])
            if alarms:
                found = alarm_rows.alarms_by_ids(conn, [int(i) for i in alarms])
                self._dispatch_alarms([(alarms[str(row["id"])], row) for row in found])

    # An alarm's first message wins over later ones of the same batch; an escalation over a plain update.
    _RANK: ClassVar[dict[str, int]] = {"insert": 3, "escalated": 2, "update": 1}

    @classmethod
    def _collect(cls, batches: dict[str, dict[str, str]], channel: str, payload: str) -> None:
        kind = "alarm" if channel == alarm_rows.CHANNEL else "event"
        try:
            data = json.loads(payload)
            object_id, op = str(data["id"]), str(data.get("op", "update"))
        except (ValueError, KeyError, TypeError):
            log.warning("live events: ignoring a malformed notification %r", payload[:200])
            return
        batch = batches[kind]
        if cls._RANK.get(op, 0) > cls._RANK.get(batch.get(object_id, ""), 0):
            batch[object_id] = op

    def _catch_up(self, conn: psycopg.Connection) -> None:
        rows = events_after(conn, self.last_seq, None, limit=10_000)
        if rows:
            log.info("live events: caught up on %d events missed while reconnecting", len(rows))
        self._dispatch([("insert", row) for row in rows])

    def _dispatch(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        for op, row in items:
            if op == "insert":
                self.last_seq = max(self.last_seq, int(row["seq"]))
            self.metrics.live_messages.labels(row["type"]).inc()
        self._fan_out("event", items, self._listeners)

    def _dispatch_alarms(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        self._fan_out("alarm", items, self._alarm_listeners)

    def _fan_out(self, kind: str, items: list[tuple[str, dict[str, Any]]], listeners: list[Any]) -> None:
        """Each item to the subscribers of ``kind`` ("event" or "alarm") who see its site, then to the listeners."""
        with self._lock:
            subscribers = list(self._subscribers)
        for op, row in items:
            self.last_message_at = time.time()
            message = {"kind": kind, "op": op, "row": row}
            for sub in subscribers:
                if (sub.events if kind == "event" else sub.alarms) and sub.sees(row["site_id"]):
                    sub.loop.call_soon_threadsafe(sub.push, message)
            for callback in listeners:
                try:
                    callback(op, row)
                except Exception:  # an outbound failure must not stop the stream
                    log.exception("live %ss: listener failed", kind)
