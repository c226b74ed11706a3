"""Escalation and auto-close, on a served API: an alarm nobody acknowledged within its priority's time is escalated
within 2 s of its deadline, told to the supervisors of its site (their live stream) and to the webhooks with an
``escalated`` state, written to the audit log with who was told, and put first in the list; with two API replicas
it happens once. An alarm whose incident ended long ago is closed by its rule, the rule named in the audit log."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import (
    ApiHarness,
    ApiUser,
    insert_event,
    seed_sites,
    serve_in_process,
    serve_uvicorn,
    sse_messages,
)
from tests.support.net import free_port

ACK_S = 1.5  # priority 2's time in these tests (wrong_way is P2 by default); every other priority: an hour
FAST = {"alarms": {"p1_ack_s": 3600, "p2_ack_s": ACK_S, "p3_ack_s": 3600, "p4_ack_s": 3600, "p5_ack_s": 3600,
                   "auto_close_check_s": 0.5}}


class AlarmStream:
    """A user's live stream of alarms only (as a supervisor's console holds it), read in a thread: each alarm
    message with the wall-clock time it arrived."""

    def __init__(self, base_url: str, user: ApiUser) -> None:
        self.got: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.open = threading.Event()
        self._client = httpx.Client(base_url=base_url, headers=user.headers, timeout=httpx.Timeout(5, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.open.wait(5), "the stream did not open"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/api/events/stream?alarms=true&events=false") as response:
                self.open.set()
                for kind, data in sse_messages(response):
                    if kind == "alarm":
                        self.got.put((time.time(), json.loads(data)))
        except httpx.HTTPError:
            pass

    def wait_for(self, alarm_id: int, op: str, timeout_s: float) -> tuple[float, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                at, message = self.got.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if message["op"] == op and message["alarm"]["id"] == alarm_id:
                return at, message
        return None

    def close(self) -> None:
        self._client.close()


class _Hook(BaseHTTPRequestHandler):
    received: queue.Queue

    def do_POST(self) -> None:
        self.received.put(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, queue.Queue]]:
    received: queue.Queue = queue.Queue()
    server = HTTPServer(("127.0.0.1", free_port()), type("Hook", (_Hook,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def escalations(received: queue.Queue, alarm_id: int, wait_s: float) -> list[dict[str, Any]]:
    found, deadline = [], time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            message = received.get(timeout=0.2)
        except queue.Empty:
            continue
        if message["op"] == "escalated" and message["alarm"]["id"] == alarm_id:
            found.append(message)
    return found


def test_an_unacknowledged_alarm_is_escalated_within_2_s_of_its_deadline_to_its_sites_supervisors(
        db_url: str, tmp_path: Path, webhook: tuple[str, queue.Queue]) -> None:
    hook_url, hooked = webhook
    with serve_uvicorn(db_url, tmp_path, sections=FAST) as served, \
            serve_in_process(db_url, tmp_path / "replica-2", sections=FAST):  # a second replica with its own clock
        api = served.harness
        lead_all = api.user("admin", supervisor=True, name="truong-ca-thanh-pho")
        # before any event: the replicas' senders read their targets at their first event (then every 5 s)
        assert api.client.post("/api/outbound", headers=lead_all.headers, json={
            "kind": "webhook", "name": "ioc", "url": hook_url, "event_types": ["wrong_way"]}).status_code == 201
        seeded = seed_sites(api.conn, 2)
        site_a, site_b = seeded.sites
        lead_a = api.user("operator", site_ids=[site_a], supervisor=True, name="truong-ca-a")
        lead_b = api.user("operator", site_ids=[site_b], supervisor=True, name="truong-ca-b")
        api.user("operator", site_ids=[site_a], name="truc-a")  # not a supervisor: not told
        streams = {who.username: AlarmStream(served.base_url, who) for who in (lead_a, lead_b)}
        try:
            event = insert_event(api.conn, site_a, seeded.cameras[0], type="wrong_way")
            alarm = api.conn.execute("SELECT a.id, a.raised_at, a.priority FROM alarms a JOIN alarm_events e"
                                     " ON e.alarm_id = a.id WHERE e.event_id = %s", (event,)).fetchone()
            assert alarm["priority"] == 2
            due = alarm["raised_at"] + timedelta(seconds=ACK_S)
            arrived = streams[lead_a.username].wait_for(alarm["id"], "escalated", ACK_S + 5)
            assert arrived is not None, "the site's supervisor was not told"
            late = arrived[0] - due.timestamp()
            assert 0 <= late < 2.0, f"told {late:.2f} s after the deadline"
            assert arrived[1]["alarm"]["urgent"] is True and arrived[1]["alarm"]["escalated_at"]
            assert streams[lead_b.username].wait_for(alarm["id"], "escalated", 0.5) is None
        finally:
            for stream in streams.values():
                stream.close()
        stored = api.conn.execute("SELECT escalated_at FROM alarms WHERE id = %s", (alarm["id"],)).fetchone()
        assert 0 <= (stored["escalated_at"] - due).total_seconds() < 2.0
        audit = api.conn.execute("SELECT username, user_id, after FROM audit_log WHERE action = 'alarm.escalate'"
                                 " AND object_id = %s", (str(alarm["id"]),)).fetchall()
        assert len(audit) == 1, "two replicas escalated it twice"
        assert audit[0]["username"] == "vigil" and audit[0]["user_id"] is None
        assert audit[0]["after"]["notified"] == sorted(["truong-ca-a", "truong-ca-thanh-pho"])
        sent = escalations(hooked, alarm["id"], 2.0)
        assert len(sent) == 1 and sent[0]["event"]["id"] == str(event)
        assert sent[0]["alarm"]["escalated_at"] and sent[0]["alarm"]["priority"] == 2
        # it rises above the unescalated priority 1 intrusion, until someone acknowledges it
        operator = api.user("operator")
        first = api.client.get("/api/alarms", headers=operator.headers).json()["items"][0]
        assert first["id"] == alarm["id"] and first["urgent"]
        api.client.post(f"/api/alarms/{alarm['id']}/acknowledge", headers=operator.headers)
        first = api.client.get("/api/alarms", headers=operator.headers).json()["items"][0]
        assert first["priority"] == 1
        notes = api.client.get(f"/api/alarms/{alarm['id']}", headers=operator.headers).json()["notes"]
        assert [(n["action"], n["text"]) for n in notes][:1] == [("escalate", "truong-ca-a, truong-ca-thanh-pho")]


def test_an_acknowledged_alarm_is_not_escalated(served_api_fast: ApiHarness) -> None:
    api = served_api_fast
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator")
    event = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="wrong_way")
    alarm = api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s", (event,)).fetchone()["alarm_id"]
    api.client.post(f"/api/alarms/{alarm}/acknowledge", headers=operator.headers)
    time.sleep(ACK_S + 1.5)
    stored = api.conn.execute("SELECT escalated_at FROM alarms WHERE id = %s", (alarm,)).fetchone()
    assert stored["escalated_at"] is None


@pytest.fixture
def served_api_fast(db_url: str, tmp_path: Path) -> Iterator[ApiHarness]:
    with serve_in_process(db_url, tmp_path, sections=FAST) as harness:
        yield harness


def test_an_alarm_whose_incident_ended_long_ago_is_closed_by_its_rule(served_api_fast: ApiHarness) -> None:
    api = served_api_fast
    seeded = seed_sites(api.conn, 1)
    site, camera = seeded.sites[0], seeded.cameras[0]
    admin = api.user("admin")
    rule = api.client.post("/api/alarm-rules", headers=admin.headers, json={
        "site_id": site, "event_type": "stopped_vehicle", "priority": 3, "auto_close_s": 60, "group_s": 0}).json()
    now = datetime.now(UTC)

    def incident(start_ago: float, end_ago: float | None) -> int:
        event = insert_event(api.conn, site, camera, type="stopped_vehicle", when=now - timedelta(seconds=start_ago))
        if end_ago is not None:
            api.conn.execute("UPDATE events SET end_time = %s WHERE id = %s", (now - timedelta(seconds=end_ago), event))
        return api.conn.execute("SELECT alarm_id FROM alarm_events WHERE event_id = %s", (event,)).fetchone()[
            "alarm_id"]

    ended_long_ago, ended_lately, still_on = incident(600, 120), incident(600, 30), incident(600, None)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = api.conn.execute("SELECT status, auto_closed FROM alarms WHERE id = %s", (ended_long_ago,)).fetchone()
        if status["status"] == "resolved":
            break
        time.sleep(0.2)
    assert status == {"status": "resolved", "auto_closed": True}
    time.sleep(1.0)  # two more sweeps
    others = api.conn.execute("SELECT id, status FROM alarms WHERE id = ANY(%s)", ([ended_lately, still_on],))
    assert {r["status"] for r in others} == {"new"}
    audit = api.conn.execute("SELECT username, after FROM audit_log WHERE action = 'alarm.auto_close'").fetchall()
    assert len(audit) == 1 and audit[0]["username"] == "vigil"
    assert audit[0]["after"]["rule"]["id"] == rule["id"] and audit[0]["after"]["rule"]["auto_close_s"] == 60
    assert audit[0]["after"]["rule_name"].startswith(f"alarm rule #{rule['id']} (stopped_vehicle, site {site})")
    assert api.conn.execute("SELECT status FROM events e JOIN alarm_events ae ON ae.event_id = e.id"
                            " WHERE ae.alarm_id = %s", (ended_long_ago,)).fetchone()["status"] == "resolved"
