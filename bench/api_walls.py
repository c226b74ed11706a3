"""The console-walls run of ``vigil bench api``: console users each holding a wall of camera previews and the
alarms stream open (issue 13) while the paced readers and sign-ins run, side by side with the same readers
and sign-ins with no stream open, then the streams alone.

What it imitates: the wall page (``console/static/js/pages/wall.js``) shows one MJPEG preview per camera
at 2 pictures/s for 300 s and keeps the alarms' Server-Sent Events open; the vision worker rewrites each
camera's live picture (``DATA_DIR/live/<id>.jpg``) every 0.5 s, which this bench does in a thread, from a
few 640 x 360 JPEGs per camera (about 37 kB each). Every camera is on five users' walls. Console users
sign in with a password and stream with their session cookie, as a browser does. The streams are read by
raw sockets in the load-generator process (cheap: they count pictures and events and drop the bytes);
reads and sign-ins go through httpx as in the other runs.

CPU: the bench samples the API processes' CPU time when each phase starts and ends (the load process
tells it through a queue), so the streams' share is the difference between the phases of the same run.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from core import media

WALL_FPS = 2.0
WALL_PREVIEW_S = 300
PICTURE_EVERY_S = 0.5
VIEWERS_PER_CAMERA = 5
SIGN_IN_EVERY_S = 1.0
EVENTS_PER_S = 1.0
PASSWORD = "bench-wall-password"
BOUNDARY = b"--vigilframe"


def prepare_walls(url: str, data_dir: Path, users: int, tiles: int) -> dict[str, Any]:
    """Console users (operators of every site) and the cameras on their walls, with live pictures."""
    from ops_api.accounts import create_user
    from store.db import connect

    with connect(url) as conn:
        wanted = max(tiles, users * tiles // VIEWERS_PER_CAMERA)
        cameras = [r["id"] for r in conn.execute("SELECT id FROM cameras ORDER BY id LIMIT %s", (wanted,))]
        for camera_id in cameras:
            conn.execute("UPDATE cameras SET snapshot_path = %s WHERE id = %s",
                         (media.live_picture(camera_id), camera_id))
        names = [f"wall-{i:02d}" for i in range(1, users + 1)]
        for name in names:
            create_user(conn, name, PASSWORD, "operator", actor_name="bench")
        site_id, camera_id = conn.execute("SELECT site_id, id FROM cameras ORDER BY id LIMIT 1").fetchone().values()
    walls = [[cameras[(u * tiles + k) % len(cameras)] for k in range(tiles)] for u in range(users)]
    return {"users": names, "walls": walls, "cameras": cameras, "data_dir": str(data_dir), "site_id": site_id,
            "camera_id": camera_id}


class LivePictures:
    """What the vision worker does for the tiles: each camera's picture replaced atomically every 0.5 s."""

    def __init__(self, data_dir: Path, cameras: list[int], variants: int = 4) -> None:
        import cv2
        import numpy as np

        rng = np.random.default_rng(7)
        self.data_dir = data_dir
        media.live_pictures_dir(data_dir).mkdir(parents=True, exist_ok=True)
        self.pictures: list[bytes] = []
        for i in range(variants):
            image = cv2.GaussianBlur((rng.random((360, 640, 3)) * 255).astype(np.uint8), (0, 0), 3)
            image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX)
            cv2.rectangle(image, (40 + 20 * i, 50), (300, 200), (0, 200, 0), 3)
            self.pictures.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes())
        self.cameras = cameras
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-live-pictures", daemon=True)

    def __enter__(self) -> LivePictures:
        self._write(0)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _write(self, turn: int) -> None:
        for camera_id in self.cameras:
            target = media.live_picture_file(self.data_dir, camera_id)
            temporary = target.with_suffix(".tmp")
            temporary.write_bytes(self.pictures[(turn + camera_id) % len(self.pictures)])
            os.replace(temporary, target)

    def _run(self) -> None:
        turn = 0
        while not self._stop.wait(PICTURE_EVERY_S):
            turn += 1
            self._write(turn)


def event_feed(url: str, site_id: int, camera_id: int, stop: threading.Event) -> None:
    """Alarms for the streams to carry: one event a second, as a busy city gives."""
    from store.db import connect

    with connect(url) as conn:
        while not stop.wait(1 / EVENTS_PER_S):
            conn.execute("INSERT INTO events (id, time, site_id, camera_id, type, severity) VALUES"
                         " (%s, now(), %s, %s, 'intrusion', 'high')", (str(uuid.uuid4()), site_id, camera_id))


# -- the load process ---------------------------------------------------------------------------------------
def walls_process(base_url: str, token: str, paths: list[str], readers: int, think_s: float, plan: dict[str, Any],
                  seconds: float, marks: Any) -> None:
    marks.put(("result", asyncio.run(_walls(base_url, token, paths, readers, think_s, plan, seconds, marks))))


class StreamStats:
    def __init__(self) -> None:
        self.opened: Counter[str] = Counter()
        self.frames = 0
        self.alarms = 0
        self.ended = 0


async def _hold(base_url: str, path: str, cookie: str, stats: StreamStats, marker: bytes) -> None:
    """One browser stream on a raw socket: counts ``marker`` (a picture, an event) and drops the bytes."""
    host, port = base_url.removeprefix("http://").split(":")
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
    except OSError as exc:
        stats.opened[type(exc).__name__] += 1
        return
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: vigil_session={cookie}\r\n"
                     "Accept: */*\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        stats.opened[status] += 1
        if status != "200":
            return
        tail = b""
        while data := await reader.read(1 << 18):
            chunk = tail + data
            found = chunk.count(marker) - tail.count(marker)
            if marker == BOUNDARY:
                stats.frames += found
            else:
                stats.alarms += found
            tail = chunk[-len(marker) + 1:]
        stats.ended += 1
    except (OSError, asyncio.IncompleteReadError) as exc:
        stats.opened[type(exc).__name__] += 1
    finally:
        writer.close()


async def _phase(readers_client: Any, sign_in_client: Any, users: list[str], paths: list[str], readers: int,
                 think_s: float, seconds: float) -> dict[str, Any]:
    """The paced readers (one request per ``think_s`` each) and one console sign-in a second."""
    import httpx

    reads: list[float] = []
    sign_ins: list[float] = []
    statuses: Counter[str] = Counter()
    end = time.perf_counter() + seconds
    rng = random.Random(3)

    async def timed(out: list[float], request: Any) -> float:
        started = time.perf_counter()
        try:
            statuses[str((await request).status_code)] += 1
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1
        out.append((time.perf_counter() - started) * 1000)
        return started

    async def reader() -> None:
        await asyncio.sleep(rng.random() * think_s)  # spread the first requests
        while time.perf_counter() < end:
            started = await timed(reads, readers_client.get(rng.choice(paths)))
            await asyncio.sleep(max(0.0, think_s - (time.perf_counter() - started)))

    async def signer() -> None:
        turn = 0
        while time.perf_counter() < end:
            name = users[turn % len(users)]
            turn += 1
            started = await timed(sign_ins, sign_in_client.post("/api/auth/login",
                                                                json={"username": name, "password": PASSWORD}))
            sign_in_client.cookies.clear()
            await asyncio.sleep(max(0.0, SIGN_IN_EVERY_S - (time.perf_counter() - started)))

    await asyncio.gather(signer(), *(reader() for _ in range(readers)))
    return {"reads": reads, "sign_ins": sign_ins, "statuses": dict(statuses)}


async def _walls(base_url: str, token: str, paths: list[str], readers: int, think_s: float, plan: dict[str, Any],
                 seconds: float, marks: Any) -> dict[str, Any]:
    import httpx

    stats = StreamStats()

    def mark(name: str) -> None:
        marks.put((name, {"frames": stats.frames, "alarms": stats.alarms, "client_cpu_s": time.process_time(),
                          "at": time.perf_counter()}))

    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as readers_client, \
            httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for path in paths[:3]:  # warm-up: connections, caches, plans
            await readers_client.get(path)
        mark("without streams")
        without = await _phase(readers_client, client, plan["users"], paths, readers, think_s, seconds)
        mark("end")
        cookies = []
        for name in plan["users"]:  # each console signs in, then opens its alarms and its wall
            response = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
            cookies.append(response.cookies.get("vigil_session", ""))
            client.cookies.clear()
        tasks = []
        for cookie, wall in zip(cookies, plan["walls"], strict=True):
            tasks.append(asyncio.create_task(_hold(base_url, "/api/events/stream", cookie, stats, b"event: insert")))
            tasks += [asyncio.create_task(_hold(base_url, f"/api/cameras/{camera}/preview?fps={WALL_FPS:g}"
                                                f"&seconds={WALL_PREVIEW_S}", cookie, stats, BOUNDARY))
                      for camera in wall]
        deadline = time.perf_counter() + 30
        while sum(stats.opened.values()) < len(tasks) and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # past the opening burst: every tile has had its first pictures
        mark("with streams")
        with_streams = await _phase(readers_client, client, plan["users"], paths, readers, think_s, seconds)
        mark("end")
        mark("streams alone")
        await asyncio.sleep(seconds / 2)
        mark("end")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"without": without, "with": with_streams, "streams": len(tasks), "opened": dict(stats.opened),
            "ended_early": stats.ended}


# -- the bench's side ---------------------------------------------------------------------------------------
def run_walls(base_url: str, token: str, paths: list[str], readers: int, think_s: float, plan: dict[str, Any],
              seconds: float, server_pid: int, database_url: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the three phases; the rows (sign-in and reads, without and with streams) and the walls' summary."""
    import multiprocessing

    from bench.api import pct, server_cpu_s

    context = multiprocessing.get_context("spawn")
    marks = context.Queue()
    stop = threading.Event()
    feed = threading.Thread(target=event_feed, args=(database_url, plan["site_id"], plan["camera_id"], stop),
                            daemon=True)
    phases: dict[str, dict[str, Any]] = {}
    with LivePictures(Path(plan["data_dir"]), plan["cameras"]):
        feed.start()
        process = context.Process(target=walls_process, args=(base_url, token, paths, readers, think_s, plan,
                                                              seconds, marks))
        process.start()
        current = None
        while True:
            name, value = marks.get(timeout=seconds * 3 + 180)
            if name == "result":
                result = value
                break
            value = {**value, "api_cpu_s": server_cpu_s(server_pid), "loadavg_1m": os.getloadavg()[0]}
            if name == "end" and current is not None:
                start = phases[current]
                span = value["at"] - start["at"]
                phases[current] = {"seconds": span,
                                   "api_cpu_per_s": (value["api_cpu_s"] - start["api_cpu_s"]) / span,
                                   "client_cpu_per_s": (value["client_cpu_s"] - start["client_cpu_s"]) / span,
                                   "pictures_per_s": (value["frames"] - start["frames"]) / span,
                                   "alarms_per_s": (value["alarms"] - start["alarms"]) / span,
                                   "loadavg_1m_before": start["loadavg_1m"], "loadavg_1m": value["loadavg_1m"]}
            else:
                current, phases[name] = name, value
        process.join(timeout=30)
        stop.set()
        feed.join(timeout=5)
    streams = result["streams"]
    rows = []
    for key, phase in (("without", "without streams"), ("with", "with streams")):
        got = result[key]
        label = "no streams" if key == "without" else f"{streams} streams open"
        for what, values in (("console sign-in (POST /api/auth/login, 1/s)", got["sign_ins"]),
                             (f"reads (the four read endpoints, {readers} clients paced)", got["reads"])):
            rows.append({"endpoint": what, "load": label, "requests": len(values),
                         "rps": len(values) / phases[phase]["seconds"], "p50_ms": pct(values, 0.5),
                         "p95_ms": pct(values, 0.95), "max_ms": max(values, default=float("nan")),
                         "errors": sum(n for s, n in got["statuses"].items() if s != "200"),
                         "loadavg_1m_before": phases[phase]["loadavg_1m_before"],
                         "loadavg_1m": phases[phase]["loadavg_1m"]})
    base, loaded, alone = phases["without streams"], phases["with streams"], phases["streams alone"]
    errors = Counter(result["without"]["statuses"]) + Counter(result["with"]["statuses"])
    errors.pop("200", None)
    cost = loaded["api_cpu_per_s"] - base["api_cpu_per_s"]
    summary = {
        "walls_users": len(plan["users"]), "walls_tiles_per_user": len(plan["walls"][0]),
        "walls_cameras": len(plan["cameras"]), "walls_streams": streams,
        "walls_streams_opened": result["opened"], "walls_streams_ended_early": result["ended_early"],
        "walls_503": errors.get("503", 0) + result["opened"].get("503", 0), "walls_errors": dict(errors),
        "walls_pictures_per_s": loaded["pictures_per_s"], "walls_alarms_per_s": loaded["alarms_per_s"],
        "walls_api_cpu_per_s_without_streams": base["api_cpu_per_s"],
        "walls_api_cpu_per_s_with_streams": loaded["api_cpu_per_s"],
        "walls_api_cpu_per_s_streams_alone": alone["api_cpu_per_s"],
        "walls_streams_cpu_per_s": cost,
        "walls_streams_cpu_us_per_picture": cost / loaded["pictures_per_s"] * 1e6 if loaded["pictures_per_s"]
        else float("nan"),
        "walls_load_generator_cpu_per_s": {k: v["client_cpu_per_s"] for k, v in phases.items()},
        "walls_sign_in_p95_ms": {k: pct(result[k]["sign_ins"], 0.95) for k in ("without", "with")},
        "walls_reads_p95_ms": {k: pct(result[k]["reads"], 0.95) for k in ("without", "with")},
    }
    return rows, summary
