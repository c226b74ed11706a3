"""Outbound integrations: events pushed to webhooks (HTTP POST, HMAC-signed) and MQTT brokers (paho-mqtt).

Targets live in ``outbound_targets``. With several API replicas only one sends: the one holding a
PostgreSQL advisory lock on its own connection (another takes over within seconds when it dies).
Webhook body: ``{"op": "insert"|"update", "event": {...}}`` with ``X-Vigil-Signature: sha256=<hex>`` of
the body under the target's secret. MQTT topic: ``<prefix>/events/<site_id>/<type>``, QoS 1, same body.
An alarm nobody acknowledged in time goes out once more, with its state: ``{"op": "escalated", "event": {its
newest event}, "alarm": {...}}``, to the targets its event matches, on the same topic.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from core.redact import redact
from ops_api.metrics import ApiMetrics
from ops_api.schemas import alarm_json, event_json
from store import integrations
from store.queries.events import events_by_ids

log = logging.getLogger("vigil.api.outbound")
LEADER_LOCK = 0x76_69_67_01  # "vig" + 1: the advisory lock whose holder sends outbound messages
TARGETS_TTL_S = 5.0
ATTEMPTS = 3


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def matches(target: dict[str, Any], row: dict[str, Any]) -> bool:
    if target["event_types"] and row["type"] not in target["event_types"]:
        return False
    return not target["site_ids"] or row["site_id"] in target["site_ids"]


class OutboundDispatcher:
    """A thread that delivers events offered by the live hub to the matching targets."""

    def __init__(self, database_url: str, pool: ConnectionPool, metrics: ApiMetrics, queue_max: int = 10_000,
                 ack_s: tuple[float, ...] = (60.0, 120.0, 300.0, 900.0, 1800.0)) -> None:
        self.database_url = database_url
        self.pool = pool
        self.metrics = metrics
        self.ack_s = ack_s  # alarms.p1_ack_s .. p5_ack_s: an escalated alarm's message says when it was due
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue(queue_max)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._targets: list[dict[str, Any]] = []
        self._targets_at = 0.0
        self._mqtt: dict[int, Any] = {}
        self._http: httpx.Client | None = None
        self._leader_conn: psycopg.Connection | None = None
        self._leader_checked = 0.0
        self.is_leader = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vigil-outbound", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def offer(self, op: str, row: dict[str, Any]) -> None:
        """Called on the hub's thread; never blocks (a full queue drops and logs)."""
        self._put(("event", op, row))

    def offer_alarm(self, op: str, row: dict[str, Any]) -> None:
        """Called on the hub's thread for alarm changes; only escalations go out."""
        if op == "escalated":
            self._put(("alarm", op, row))

    def _put(self, item: tuple[str, str, dict[str, Any]]) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.metrics.outbound.labels("any", "dropped").inc()

    # -- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        self._http = httpx.Client(timeout=5.0, follow_redirects=False)
        try:
            while not self._stop.is_set():
                item = self._queue.get()
                if item is None:
                    break
                try:
                    if self._lead():
                        self._deliver(*item)
                except Exception:  # one bad target or message must not stop deliveries
                    log.exception("outbound: delivery failed")
        finally:
            self._http.close()
            for client in self._mqtt.values():
                client.loop_stop()
                client.disconnect()
            if self._leader_conn is not None:
                self._leader_conn.close()

    def _lead(self) -> bool:
        now = time.monotonic()
        if self.is_leader and self._leader_conn is not None and not self._leader_conn.closed:
            return True
        if now - self._leader_checked < 2.0:
            return False
        self._leader_checked = now
        try:
            if self._leader_conn is None or self._leader_conn.closed:
                self._leader_conn = psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row,
                                                    connect_timeout=5)
            self.is_leader = integrations.try_sender_lock(self._leader_conn, LEADER_LOCK)
        except psycopg.Error as exc:
            log.warning("outbound: cannot take the sender lock: %s", exc)
            self.is_leader = False
        return self.is_leader

    def targets(self) -> list[dict[str, Any]]:
        if time.monotonic() - self._targets_at > TARGETS_TTL_S:
            with self.pool.connection() as conn:
                self._targets = integrations.active_targets(conn)
            self._targets_at = time.monotonic()
        return self._targets

    def refresh(self) -> None:
        """Re-read the targets at the next event (after the admin changed them)."""
        self._targets_at = 0.0

    def _deliver(self, kind: str, op: str, row: dict[str, Any]) -> None:
        message: dict[str, Any] = {"op": op}
        if kind == "alarm":
            with self.pool.connection() as conn:
                found = events_by_ids(conn, [row["last_event_id"]])
            if not found:
                return  # its event is gone (retention): nothing to match targets with
            message["alarm"] = alarm_json(row, self.ack_s)
            row = found[0]
        message["event"] = event_json(row)
        body = json.dumps(message, separators=(",", ":")).encode()
        for target in self.targets():
            if not matches(target, row):
                continue
            error = self._send_webhook(target, body) if target["kind"] == "webhook" \
                else self._send_mqtt(target, row, body)
            self.metrics.outbound.labels(target["kind"], "ok" if error is None else "error").inc()
            self._note(target["id"], error)

    def _send_webhook(self, target: dict[str, Any], body: bytes) -> str | None:
        headers = {"content-type": "application/json", "user-agent": "vigil-webhook/1"}
        if target["secret"]:
            headers["x-vigil-signature"] = sign(target["secret"], body)
        error = None
        for attempt in range(ATTEMPTS):
            try:
                response = self._http.post(target["url"], content=body, headers=headers)  # type: ignore[union-attr]
                if response.status_code < 300:
                    return None
                error = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    return error  # the receiver refused it; retrying will not help
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self._stop.wait(0.2 * 2**attempt)
        return error

    def _send_mqtt(self, target: dict[str, Any], row: dict[str, Any], body: bytes) -> str | None:
        client = self._mqtt.get(target["id"])
        url = urlsplit(target["url"])
        if client is None:
            import paho.mqtt.client as mqtt

            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"vigil-api-{target['id']}")
            if target["username"]:
                client.username_pw_set(target["username"], target["secret"])
            client.reconnect_delay_set(1, 30)
            try:
                client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
            except OSError as exc:
                return f"cannot connect to {url.hostname}:{url.port or 1883}: {exc}"
            client.loop_start()
            self._mqtt[target["id"]] = client
        prefix = url.path.strip("/") or "vigil"
        info = client.publish(f"{prefix}/events/{row['site_id'] or 0}/{row['type']}", body, qos=1)
        try:
            info.wait_for_publish(timeout=5)
        except (RuntimeError, ValueError) as exc:
            return f"publish failed: {exc}"
        return None if info.is_published() else "publish not acknowledged in 5 s"

    def _note(self, target_id: int, error: str | None) -> None:
        if error is not None:
            log.warning("outbound target %s: %s", target_id, error)
        with self.pool.connection() as conn:
            integrations.note_delivery(conn, target_id, None if error is None else redact(error)[:500])
