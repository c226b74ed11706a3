"""Live events: pushed over WebSocket and Server-Sent Events from PostgreSQL LISTEN/NOTIFY, limited to the
user's sites, resumed after a reconnect from the last seq seen, and shared by several API replicas."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect as ws_connect

from tests.support.api import ApiHarness, ServedApi, insert_event, seed_sites, serve_uvicorn

XRW = {"X-Requested-With": "test"}


def current_seq(api: ApiHarness) -> int:
    return api.conn.execute("SELECT coalesce(max(seq), 0) AS s FROM events").fetchone()["s"]


def receive_until(ws: Any, marker: str, deadline_s: float = 10.0) -> list[dict[str, Any]]:
    """Messages up to and including the event whose id is ``marker`` (pings skipped)."""
    out, deadline = [], time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["op"] == "ping":
            continue
        out.append(message)
        if message["event"]["id"] == marker:
            return out
    raise AssertionError(f"event {marker} did not arrive in {deadline_s} s; got {out}")


def test_websocket_sends_only_the_users_sites_and_workflow_updates(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    scoped = api.user("operator", site_ids=[site_a])
    with api.client.websocket_connect(f"/api/events/live?after={current_seq(api)}", headers=scoped.headers) as ws:
        other = insert_event(api.conn, site_b, seeded.cameras[1])
        mine = insert_event(api.conn, site_a, seeded.cameras[0], type="wrong_way")
        first = ws.receive_json()
        assert first["op"] == "insert" and first["event"]["id"] == str(mine)
        assert first["event"]["type"] == "wrong_way" and first["event"]["site_id"] == site_a
        api.client.post(f"/api/events/{mine}/acknowledge", headers=scoped.headers)
        update = ws.receive_json()
        assert update["op"] == "update" and update["event"]["status"] == "acknowledged"
    assert str(other) not in json.dumps([first, update])


def test_websocket_refuses_unsigned_users_and_roles_without_events(api: ApiHarness) -> None:
    from starlette.websockets import WebSocketDisconnect

    engineer = api.user("engineer")
    for headers in ({}, engineer.headers, {"Authorization": "Bearer vgt_forged"}):
        try:
            with api.client.websocket_connect("/api/events/live", headers=headers) as ws:
                ws.receive_json()
            raise AssertionError("the socket should have been closed")
        except WebSocketDisconnect as closed:
            assert closed.code in (4401, 4403)


def test_reconnect_with_the_last_seq_replays_what_was_missed(served_api: ServedApi) -> None:
    api = served_api.harness
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator")
    url = served_api.base_url.replace("http", "ws") + "/api/events/live"
    with ws_connect(f"{url}?after={current_seq(api)}&token={operator.token}") as ws:
        seen = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
        last_seq = receive_until(ws, str(seen))[-1]["event"]["seq"]
    missed = [insert_event(api.conn, seeded.sites[0], seeded.cameras[0]) for _ in range(3)]  # while away
    with ws_connect(f"{url}?after={last_seq}", additional_headers=operator.headers) as ws:
        live = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
        got = [m["event"]["id"] for m in receive_until(ws, str(live))]
    assert got == [str(e) for e in [*missed, live]]


def test_server_sent_events_resume_from_last_event_id(served_api: ServedApi) -> None:
    api = served_api.harness
    seeded = seed_sites(api.conn, 1)
    manager = api.user("manager")
    start = current_seq(api)
    missed = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="crowd")
    headers = {**manager.headers, "Last-Event-ID": str(start)}
    with httpx.stream("GET", f"{served_api.base_url}/api/events/stream", headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        block: list[str] = []
        for line in lines:
            if line == "":
                break
            block.append(line)
    assert block[0] == f"id: {start + 1}" and block[1] == "event: insert"
    assert json.loads(block[2].removeprefix("data: "))["id"] == str(missed)


def test_two_replicas_serve_the_same_stream(db_url: str, tmp_path: Path) -> None:
    with serve_uvicorn(db_url, tmp_path / "a") as one, serve_uvicorn(db_url, tmp_path / "b") as two:
        api = one.harness
        seeded = seed_sites(api.conn, 1)
        operator = api.user("operator")
        after = current_seq(api)
        urls = [f"{s.base_url.replace('http', 'ws')}/api/events/live?after={after}&token={operator.token}"
                for s in (one, two)]
        with ws_connect(urls[0]) as first, ws_connect(urls[1]) as second:
            event = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
            for ws in (first, second):
                assert receive_until(ws, str(event))[-1]["event"]["id"] == str(event)


def test_events_inserted_while_the_listener_reconnects_still_arrive(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator")
    with api.client.websocket_connect(f"/api/events/live?after={current_seq(api)}", headers=operator.headers) as ws:
        first = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
        assert ws.receive_json()["event"]["id"] == str(first)
        killed = api.conn.execute("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE"
                                  " application_name = 'vigil-api-live' AND datname = current_database()").fetchall()
        assert killed and all(r["ok"] for r in killed)
        during = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])  # nobody is listening now
        assert ws.receive_json()["event"]["id"] == str(during)  # caught up by seq after the reconnect
