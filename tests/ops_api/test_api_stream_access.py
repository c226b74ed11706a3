"""A live stream stops serving a user who may no longer watch: signed out, deactivated, or moved to other sites.
Before, a stream was authorised once when it opened and then ran on, a whole shift for the event feed, with the
old rights. A real uvicorn server on loopback, checking every second (``api.stream_recheck_s``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.ops_api.test_api_picture_feed import feed_frames
from tests.ops_api.test_api_streams import write_live_picture
from tests.support.api import PASSWORD, ServedApi, insert_event, seed_sites, serve_uvicorn, sse_messages

RECHECK_S = 1.0


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[ServedApi]:
    with serve_uvicorn(db_url, tmp_path, stream_recheck_s=RECHECK_S) as found:
        yield found


def test_signing_out_ends_the_browsers_event_stream(served: ServedApi) -> None:
    api = served.harness
    seeded = seed_sites(api.conn, 1)
    operator = api.user("operator", site_ids=seeded.sites)
    with httpx.Client(base_url=served.base_url, timeout=10) as browser:
        signed_in = browser.post("/api/auth/login", json={"username": operator.username, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        with browser.stream("GET", "/api/events/stream") as response:
            assert response.status_code == 200
            messages = sse_messages(response)
            mine = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
            assert json.loads(next(messages)[1])["id"] == str(mine), "the stream is live"
            with httpx.Client(base_url=served.base_url, timeout=10, cookies=browser.cookies) as other_tab:
                out = other_tab.post("/api/auth/logout", headers={"X-Requested-With": "test"})
                assert out.status_code in (200, 204), out.text
            signed_out_at = time.monotonic()
            insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
            rest = list(messages)  # the server ends the response
        assert rest and rest[-1][0] == "end" and json.loads(rest[-1][1])["code"] == "session_expired", rest
        assert all(name == "insert" for name, _ in rest[:-1])
        assert time.monotonic() - signed_out_at < RECHECK_S + 3
        assert browser.get("/api/events/stream").status_code == 401, "and it cannot be opened again"


def test_deactivation_closes_the_websocket_before_the_next_event(served: ServedApi) -> None:
    api = served.harness
    seeded = seed_sites(api.conn, 1)
    admin = api.user("admin")
    operator = api.user("operator", site_ids=seeded.sites)
    url = served.base_url.replace("http://", "ws://") + "/api/events/live"
    with ws_connect(url, additional_headers=operator.headers, open_timeout=10) as ws:
        off = api.client.patch(f"/api/users/{operator.id}", json={"active": False}, headers=admin.headers)
        assert off.status_code == 200, off.text
        time.sleep(RECHECK_S + 1.0)
        insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="wrong_way")
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(json.loads(ws.recv(timeout=RECHECK_S + 5)))
        assert ws.close_code == 4401 and ws.close_reason == "session_expired"
    assert [m for m in received if m["op"] != "ping"] == [{"op": "end", "code": "session_expired"}]


def test_new_sites_end_the_stream_so_the_client_reopens_it_with_them(served: ServedApi) -> None:
    api = served.harness
    seeded = seed_sites(api.conn, 2)
    admin = api.user("admin")
    operator = api.user("operator", site_ids=seeded.sites)
    url = f"{served.base_url}/api/events/stream"
    with httpx.stream("GET", url, headers=operator.headers, timeout=10) as response:
        narrowed = api.client.patch(f"/api/users/{operator.id}", json={"site_ids": [seeded.sites[0]]},
                                    headers=admin.headers)
        assert narrowed.status_code == 200, narrowed.text
        started = time.monotonic()
        last = list(sse_messages(response))[-1]
    assert last[0] == "end" and json.loads(last[1])["code"] == "access_changed"
    assert time.monotonic() - started < RECHECK_S + 3
    with httpx.stream("GET", url, headers=operator.headers, timeout=10) as response:  # reopened: the new scope
        messages = sse_messages(response)
        insert_event(api.conn, seeded.sites[1], seeded.cameras[1])
        mine = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
        assert json.loads(next(messages)[1])["id"] == str(mine)


def test_camera_pictures_stop_once_the_viewer_is_deactivated(served: ServedApi, tmp_path: Path) -> None:
    api = served.harness
    seeded = seed_sites(api.conn, 1)
    camera = seeded.cameras[0]
    write_live_picture(tmp_path, camera, "live")
    admin = api.user("admin")
    viewer = api.user("operator", site_ids=seeded.sites)
    wall = {"cameras": [camera], "fps": 5, "seconds": 60}
    with httpx.stream("GET", f"{served.base_url}/api/pictures/stream", params=wall, headers=viewer.headers,
                      timeout=10) as feed, \
            httpx.stream("GET", f"{served.base_url}/api/cameras/{camera}/preview", params={"fps": 5, "seconds": 60},
                         headers=viewer.headers, timeout=10) as preview:
        assert feed.status_code == 200 and preview.status_code == 200
        frames = feed_frames(feed)
        assert next(frames)[1] == 200
        off = api.client.patch(f"/api/users/{viewer.id}", json={"active": False}, headers=admin.headers)
        assert off.status_code == 200, off.text
        started = time.monotonic()
        for n, _ in enumerate(frames):  # a new picture every tick, until the stream ends
            write_live_picture(tmp_path, camera, f"live {n}")
        ended = time.monotonic() - started
        sent = sum(len(chunk) for chunk in preview.iter_bytes())  # ends too (60 s asked)
    assert ended < RECHECK_S + 3 and time.monotonic() - started < RECHECK_S + 4, ended
    assert sent > 0


def test_one_user_holds_at_most_max_streams_per_user_and_a_closed_one_frees_its_slot(db_url: str,
                                                                                        tmp_path: Path) -> None:
    # Each stream costs the server a task, a queue and a socket: one account (or one leaked token) must not be
    # able to open them until the process runs out. Other users are not affected.
    with serve_uvicorn(db_url, tmp_path, max_streams_per_user=2) as served:
        api = served.harness
        seeded = seed_sites(api.conn, 1)
        camera = seeded.cameras[0]
        write_live_picture(tmp_path, camera, "live")
        operator, colleague = api.user("operator"), api.user("operator")
        events = f"{served.base_url}/api/events/stream"
        preview = f"{served.base_url}/api/cameras/{camera}/preview"
        ws_url = served.base_url.replace("http://", "ws://") + "/api/events/live"
        with httpx.stream("GET", events, headers=operator.headers, timeout=10) as first, \
                httpx.stream("GET", preview, headers=operator.headers, timeout=10) as second:
            assert first.status_code == 200 and second.status_code == 200
            third = httpx.get(events, headers=operator.headers, timeout=10)
            assert third.status_code == 429, third.text
            assert third.json()["code"] == "too_many_streams" and third.json()["params"] == {"max_streams": 2}
            assert httpx.get(preview, headers=operator.headers, timeout=10).status_code == 429
            with ws_connect(ws_url, additional_headers=operator.headers, open_timeout=10) as ws, \
                    pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
            assert ws.close_code == 4429
            with httpx.stream("GET", events, headers=colleague.headers, timeout=10) as theirs:
                assert theirs.status_code == 200, "another user still opens theirs"
        deadline = time.monotonic() + 5  # both closed: the server sees the clients go and gives the slots back
        while (status := _open_briefly(events, operator.headers)) == 429 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200


def _open_briefly(url: str, headers: dict[str, str]) -> int:
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        return response.status_code
