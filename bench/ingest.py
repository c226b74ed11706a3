"""The ingest benchmark: N cameras reading real RTSP streams from the GStreamer server at once.

For each camera count: decoded frames/s, analytics frames delivered/s, CPU seconds per decoded frame
(this process only: the server runs apart), resident memory per camera, and the time every camera
needs to deliver frames again after the server is killed and restarted.
"""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cameras.models import CameraSource
from core.settings import IngestSettings
from ingest.pool import ReaderPool

SERVER = Path(__file__).resolve().parents[1] / "tools" / "rtsp_server.py"


class BenchServer:
    """tools/rtsp_server.py with N mounts of one clip, on a fixed loopback port (so it can be restarted)."""

    def __init__(self, footage: Path, mounts: int, port: int) -> None:
        self.args = ["/usr/bin/python3", str(SERVER), "--port", str(port)]
        self.args += [a for i in range(1, mounts + 1) for a in ("--mount", f"/cam{i}={footage}")]
        self.port = port
        self.process: subprocess.Popen[str] | None = None

    @classmethod
    def of_clips(cls, clips: list[Path], port: int) -> BenchServer:
        """One mount per clip: ``/cam1`` plays the first, ``/cam2`` the second, ..."""
        server = cls(clips[0], 0, port)
        server.args += [a for i, clip in enumerate(clips, 1) for a in ("--mount", f"/cam{i}={clip}")]
        return server

    def start(self, timeout_s: float = 20.0) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready and (self.process.stdout.readline() or "").startswith("READY"):  # type: ignore[union-attr]
                return
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"the RTSP server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None

    def url(self, i: int) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam{i}"


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _wait_all(pool: ReaderPool, since: dict[int, int], timeout_s: float) -> dict[int, float]:
    """Seconds until each camera delivers a frame newer than ``since``; missing ones never did."""
    started = time.monotonic()
    back: dict[int, float] = {}
    while len(back) < len(pool.readers) and time.monotonic() - started < timeout_s:
        for camera_id, reader in pool.readers.items():
            latest = reader.slot.latest()
            if camera_id not in back and latest is not None and latest.index > since.get(camera_id, -1):
                back[camera_id] = time.monotonic() - started
        time.sleep(0.02)
    return back


def measure(server: BenchServer, count: int, settings: IngestSettings, seconds: float,
            say: Callable[[str], None]) -> dict[str, Any]:
    """One row of the benchmark: ``count`` cameras on the running server."""
    rss_before = _rss_bytes()
    stop = threading.Event()
    with ReaderPool(settings) as pool:
        for i in range(1, count + 1):
            pool.add(CameraSource.from_rtsp(i, server.url(i)))
        consumer = threading.Thread(target=_consume, args=(pool, stop), daemon=True)
        consumer.start()
        online = _wait_all(pool, {}, 30.0)
        if len(online) < count:
            raise RuntimeError(f"only {len(online)} of {count} cameras delivered frames within 30 s")
        time.sleep(1.0)
        decoded0 = sum(r.decoded_frames for r in pool.readers.values())
        delivered0 = sum(r.slot.delivered for r in pool.readers.values())
        cpu0, wall0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        decoded = sum(r.decoded_frames for r in pool.readers.values()) - decoded0
        delivered = sum(r.slot.delivered for r in pool.readers.values()) - delivered0
        rss = _rss_bytes() - rss_before
        say(f"{count} cameras: {decoded / wall:.0f} decoded frames/s; restarting the server")
        server.kill()
        killed = time.monotonic()
        # Frames still in flight at the kill are not a reconnect: wait until every reader saw the loss.
        deadline = killed + settings.watchdog_s + settings.read_timeout_s + 5
        while time.monotonic() < deadline and any(r.state.value in ("online", "tamper")
                                                  for r in pool.readers.values()):
            time.sleep(0.02)
        last = {cid: r.slot.latest().index for cid, r in pool.readers.items()}  # type: ignore[union-attr]
        server.start()
        ready = time.monotonic()
        back = _wait_all(pool, last, 60.0)
        stop.set()
        consumer.join(2)
    since_ready = sorted(back.values())
    return {
        "cameras": count,
        "decoded_fps": round(decoded / wall, 1),
        "analytics_fps": round(delivered / wall, 2),
        "cpu_ms_per_decoded_frame": round(1000 * cpu / max(decoded, 1), 3),
        "cpu_cores": round(cpu / wall, 3),
        "rss_mb_per_camera": round(rss / count / 2**20, 1),
        "reconnect_median_s": round(statistics.median(since_ready), 2) if since_ready else None,
        "reconnect_max_s": round(since_ready[-1], 2) if len(since_ready) == count else None,
        "outage_s": round(ready - killed + (since_ready[-1] if since_ready else 0), 2),
    }


def _consume(pool: ReaderPool, stop: threading.Event) -> None:
    """Stands in for vision: takes every camera's newest frame as it comes."""
    seen: dict[int, int] = {}
    while not stop.is_set():
        for frame in pool.wait_frames(seen, timeout=0.2):
            seen[frame.camera_id] = frame.index


def run_bench(footage: Path, counts: list[int], settings: IngestSettings, seconds: float, port: int,
              say: Callable[[str], None]) -> list[dict[str, Any]]:
    server = BenchServer(footage, max(counts), port)
    server.start()
    try:
        # Warm-up: the first stream loads FFmpeg's codecs and thread pools; keep that out of the figures.
        with ReaderPool(settings) as pool:
            pool.add(CameraSource.from_rtsp(1, server.url(1)))
            _wait_all(pool, {}, 30.0)
        return [measure(server, n, settings, seconds, say) for n in counts]
    finally:
        server.kill()


def machine_note() -> str:
    return f"{os.cpu_count()} CPU cores; one process reads all cameras (threads); the RTSP server runs apart"
