"""Live streams hold no database connection and no thread (issue 13, finding 2): with more alarm streams
(SSE) and camera previews (MJPEG) open than the pool has connections, sign-in, reads and the health checks
still answer at once; previews come from the worker's picture in memory, one decode per camera serves all
its viewers, and a preview ends when its viewer leaves. A real uvicorn server on loopback, real clients."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from tests.support.api import PASSWORD, insert_event, seed_sites, serve_uvicorn

POOL = 2
ALARM_STREAMS = 3 * POOL
PREVIEWS = 45  # more than the request threadpool's 40 threads, as a few wall pages open
QUICK_S = 1.0


def write_live_picture(data_dir: Path, camera_id: int, text: str) -> bytes:
    """What the vision worker does: an annotated JPEG replaced atomically at ``live/<id>.jpg``."""
    image = np.full((180, 320, 3), 40, np.uint8)
    cv2.putText(image, text, (10, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    folder = data_dir / "live"
    folder.mkdir(exist_ok=True)
    (folder / f"{camera_id}.tmp").write_bytes(jpeg)
    os.replace(folder / f"{camera_id}.tmp", folder / f"{camera_id}.jpg")
    return jpeg


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> tuple[str, Any, float]:
    started = time.perf_counter()
    try:
        status: Any = (await client.request(method, path, **kwargs)).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return f"{method} {path}", status, time.perf_counter() - started


def test_streams_beyond_the_pool_leave_sign_in_reads_and_health_answering(db_url: str, tmp_path: Path) -> None:
    with serve_uvicorn(db_url, tmp_path, database={"pool_size": POOL}) as served:
        api = served.harness
        seeded = seed_sites(api.conn, 1)
        camera = seeded.cameras[0]
        api.conn.execute("UPDATE cameras SET snapshot_path = %s WHERE id = %s", (f"live/{camera}.jpg", camera))
        write_live_picture(tmp_path, camera, "cam-1")
        operator = api.user("operator")
        results = asyncio.run(_hold_streams_and_ask(served.base_url, operator.headers, operator.username, api,
                                                    seeded.sites[0], camera))
    opened, alarms_received, previews_received, answers = results
    assert opened == [200] * (ALARM_STREAMS + PREVIEWS), opened
    slow = [a for a in answers if a[1] != 200 or a[2] >= QUICK_S]
    assert not slow, f"with {ALARM_STREAMS + PREVIEWS} streams open on a pool of {POOL}: {slow}"
    assert all(previews_received), "every preview kept sending pictures"
    assert all(alarms_received), "every alarm stream got the event inserted while they were all open"


async def _hold_streams_and_ask(base_url: str, headers: dict[str, str], username: str, api: Any, site_id: int,
                                camera: int) -> tuple[list[Any], list[bool], list[bool], list[tuple[str, Any, float]]]:
    opened: list[Any] = []
    alarms = [False] * ALARM_STREAMS
    previews = [False] * PREVIEWS
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=httpx.Timeout(10.0, read=None)) as browsers:

        async def hold(path: str, params: dict[str, Any], seen: list[bool], index: int, marker: bytes) -> None:
            try:
                async with browsers.stream("GET", path, params=params) as response:
                    opened.append(response.status_code)
                    async for chunk in response.aiter_bytes():
                        seen[index] = seen[index] or marker in chunk
            except httpx.HTTPError as exc:
                opened.append(type(exc).__name__)

        tasks = [asyncio.create_task(hold("/api/events/stream", {}, alarms, i, b"event: insert"))
                 for i in range(ALARM_STREAMS)]
        tasks += [asyncio.create_task(hold(f"/api/cameras/{camera}/preview", {"fps": 1, "seconds": 60}, previews, i,
                                           b"Content-Type: image/jpeg")) for i in range(PREVIEWS)]
        await asyncio.sleep(2.0)  # every console has its wall and alarms open (or is waiting for them)
        answers: list[tuple[str, Any, float]] = []
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as other:
            for _ in range(3):
                answers.append(await timed(other, "POST", "/api/auth/login",
                                           json={"username": username, "password": PASSWORD}))
                answers.append(await timed(other, "GET", "/api/events?limit=50", headers=headers))
                answers.append(await timed(other, "GET", "/readyz"))
                answers.append(await timed(other, "GET", "/healthz"))
        await asyncio.to_thread(insert_event, api.conn, site_id, camera)
        deadline = time.monotonic() + 5
        while not all(alarms) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return opened, alarms, previews, answers


class DeadCamera:
    """A camera address that accepts a connection, says nothing and hangs up after ``hold_s``; counts the
    connections. (The hold keeps the first attempt in flight while the other viewers arrive.)"""

    def __init__(self, hold_s: float = 3.0) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.hold_s = hold_s
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Timer(self.hold_s, conn.close).start()


def test_twelve_viewers_of_a_dead_camera_make_one_attempt(db_url: str, tmp_path: Path) -> None:
    dead = DeadCamera()
    with serve_uvicorn(db_url, tmp_path) as served:
        api = served.harness
        site = seed_sites(api.conn, 1).sites[0]
        camera = api.conn.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri) VALUES (%s, 'dead',"
                                  " 'rtsp', %s) RETURNING id",
                                  (site, f"rtsp://127.0.0.1:{dead.port}/stream")).fetchone()["id"]
        operator = api.user("operator")

        async def wall() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=served.base_url, headers=operator.headers, timeout=30) as client:
                return await asyncio.gather(*(client.get(f"/api/cameras/{camera}/preview", params={"seconds": 5})
                                              for _ in range(12)))

        answers = asyncio.run(wall())
    dead.server.close()
    assert [r.status_code for r in answers] == [502] * 12
    assert {r.json()["code"] for r in answers} == {"camera_no_picture"}
    assert dead.connections == 1, f"{dead.connections} connections to the camera for 12 viewers"


def preview_frames(response: httpx.Response) -> Any:
    """The JPEGs of an MJPEG stream, as they arrive."""
    buffer = b""
    for chunk in response.iter_bytes():
        buffer += chunk
        while b"\r\n\r\n" in buffer:
            head, rest = buffer.split(b"\r\n\r\n", 1)
            length = int(head.rsplit(b"Content-Length: ", 1)[1])
            if len(rest) < length + 2:
                break
            yield rest[:length]
            buffer = rest[length + 2:]


def test_a_preview_serves_the_workers_newest_picture_and_ends_when_its_viewer_leaves(db_url: str,
                                                                                      tmp_path: Path) -> None:
    with serve_uvicorn(db_url, tmp_path) as served:
        api = served.harness
        camera = seed_sites(api.conn, 1).cameras[0]
        api.conn.execute("UPDATE cameras SET snapshot_path = %s WHERE id = %s", (f"live/{camera}.jpg", camera))
        first = write_live_picture(tmp_path, camera, "first")
        operator = api.user("operator")

        def open_previews() -> float:
            with httpx.stream("GET", f"{served.base_url}/api/cameras/{camera}/preview",
                              params={"fps": 5, "seconds": 600}, headers=operator.headers, timeout=10) as response:
                frames = preview_frames(response)
                assert next(frames) == first
                second = write_live_picture(tmp_path, camera, "second")
                deadline = time.monotonic() + 3
                while next(frames) != second:
                    assert time.monotonic() < deadline, "the worker's new picture never reached the viewer"
            return time.monotonic()

        left = open_previews()
        admin = api.user("admin").headers  # /metrics is for admins (or the metrics token)
        while (open_now := _gauge(served.base_url, "vigil_api_previews", admin)) > 0 and time.monotonic() - left < 5:
            time.sleep(0.1)
        stopped_after = time.monotonic() - left
    assert open_now == 0 and stopped_after < 2.0, f"the preview still ran {stopped_after:.1f} s after its viewer left"


def _gauge(base_url: str, name: str, headers: dict[str, str]) -> float:
    for line in httpx.get(f"{base_url}/metrics", headers=headers, timeout=5).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not among the metrics")


def test_a_preview_keeps_its_pace(db_url: str, tmp_path: Path) -> None:
    """Pictures leave at the rate asked for: a timer that fires early must not send a burst of them."""
    with serve_uvicorn(db_url, tmp_path) as served:
        api = served.harness
        camera = seed_sites(api.conn, 1).cameras[0]
        operator = api.user("operator")
        write_live_picture(tmp_path, camera, "pace")

        async def watch() -> list[int]:
            async with httpx.AsyncClient(base_url=served.base_url, headers=operator.headers, timeout=10) as client:

                async def count() -> int:
                    async with client.stream("GET", f"/api/cameras/{camera}/preview",
                                             params={"fps": 5, "seconds": 4}) as response:
                        return b"".join([chunk async for chunk in response.aiter_bytes()]).count(b"--vigilframe")

                return await asyncio.gather(*(count() for _ in range(3)))

        counts = asyncio.run(watch())
    assert all(14 <= n <= 21 for n in counts), f"pictures in 4 s at 5 a second (1 + 20 ticks at most): {counts}"
