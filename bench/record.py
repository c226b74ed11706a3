"""The recording benchmark (``vigil bench record``): the real worker recording N cameras while it analyses them.

For each footage size and camera count, a private embedded PostgreSQL, the GStreamer RTSP server with a main
stream (native size, or scaled to 1920x1080) and a sub-stream (native size) per camera, and one in-process
:class:`vigil.worker.Worker` that leases every camera: analytics read the sub-streams, recorders copy the main
streams, exactly as ``vigil worker`` does. After a warm-up (every camera has indexed two segments) it measures
for ``seconds``: ffmpeg's CPU per recorded stream (from /proc, the recorders' own processes), the recorder
thread's CPU (playlists and index), MB per hour per stream (indexed bytes), index lag (segment closed -> row
committed) p95, and gaps during steady state (a new run or a break inside the window). Then playback start
(``bench/playback.py``: a playlist request to the first segment's bytes, through ``vigil serve``) and, with one
camera, the export of an hour.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest import BenchServer
from bench.playback import PlaybackApi
from bench.store import free_port

log = logging.getLogger("vigil.bench.record")
Say = Callable[[str], None]
# Given a camera id and a recorded range, the seconds from a playback request to the first segment's bytes.
PlaybackProbe = Callable[[int, datetime, datetime], float]
TICK = os.sysconf("SC_CLK_TCK")
PLAYBACK_ROUNDS = 5  # playback starts measured per camera


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Server(BenchServer):
    """N cameras, each a main-stream mount and a sub-stream mount."""

    def __init__(self, main: Path, sub: Path, cameras: int, port: int) -> None:
        super().__init__(main, 0, port)
        for i in range(1, cameras + 1):
            self.args += ["--mount", f"/main{i}={main}", "--mount", f"/sub{i}={sub}"]


def seed(conn: Any, url_of: Callable[[str], str], cameras: int, fps: float) -> list[int]:
    from cameras.geometry import make_zone
    from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
    from store import registry

    site = registry.save_site(conn, SiteRecord(code="bench-record", name="Bench", kind=SiteKind.STREET))
    ids = []
    for i in range(1, cameras + 1):
        camera = registry.save_camera(conn, CameraRecord(
            site_id=site.id or 0, name=f"rec-{i:02d}", source_kind=SourceKind.RTSP, main_uri=url_of(f"/main{i}"),
            sub_uri=url_of(f"/sub{i}"), analytics_fps=fps))
        registry.save_zone(conn, camera.id or 0, make_zone("lower", "restricted", [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]))
        ids.append(camera.id or 0)
    return ids


def measure(settings: Any, main: Path, sub: Path, cameras: int, seconds: float, fps: float, port: int,
            say: Say, playback: bool = True) -> dict[str, Any]:
    """One run: ``cameras`` recorded and analysed for ``seconds`` after the warm-up; the row of figures."""
    from store import recordings
    from store.db import connect
    from store.embedded import EmbeddedPostgres
    from store.migrate import migrate

    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-record-"))
    folder.chmod(0o755)  # the cluster runs as 'postgres'
    cluster = EmbeddedPostgres(folder / "db", port=free_port())
    server = _Server(main, sub, cameras, port)
    cluster.start()
    server.start()
    api = PlaybackApi(cluster.url, folder, free_port()) if playback else None
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
            ids = seed(conn, lambda mount: f"rtsp://127.0.0.1:{port}{mount}", cameras, fps)
            run_settings = settings.model_copy(update={
                "data_dir": folder / "data", "secret_key_file": None,
                "vision": settings.vision.model_copy(update={"camera_processes": 0})})
            run_settings.data_dir.mkdir(parents=True, exist_ok=True)
            return _run(run_settings, cluster.url, conn, ids, seconds, say, api.probe if api else None, recordings)
    finally:
        if api is not None:
            api.close()
        server.kill()
        cluster.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _run(settings: Any, url: str, conn: Any, ids: list[int], seconds: float, say: Say,
         playback: PlaybackProbe | None, recordings: Any) -> dict[str, Any]:
    from vigil.worker import Worker, WorkerOptions

    frames = [0]

    def count(_result: Any) -> None:
        frames[0] += 1

    worker = Worker(settings, url, WorkerOptions(worker_id="bench-record", capacity=len(ids), lease_ttl_s=15),
                    observers=[count])
    thread = threading.Thread(target=worker.run, name="bench-record-worker", daemon=True)
    thread.start()
    try:
        def indexed(camera_id: int) -> int:
            return int(conn.execute("SELECT count(*) AS n FROM recording_segments WHERE camera_id = %s",
                                    (camera_id,)).fetchone()["n"])
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not all(indexed(c) >= 2 for c in ids):
            time.sleep(0.5)
        recording = worker.recording
        if recording is None or not all(indexed(c) >= 2 for c in ids):
            raise RuntimeError("not every camera indexed two segments within 3 minutes")
        return _window(recording.pool, conn, ids, seconds, frames, say, playback, recordings)
    finally:
        worker.stop()
        thread.join(120)


def _window(pool: Any, conn: Any, ids: list[int], seconds: float, frames: list[int], say: Say,
            playback: PlaybackProbe | None, recordings: Any) -> dict[str, Any]:
    before = {s.camera_id: s for s in pool.status()}
    cpu0 = {c: _cpu_s(s.pid) for c, s in before.items() if s.pid is not None}
    thread0, indexed0, frames0 = pool.stats().thread_cpu_s, pool.stats().segments_indexed, frames[0]
    t0, m0 = datetime.now(UTC), time.monotonic()
    say(f"  measuring {len(ids)} cameras for {seconds:g} s ...")
    time.sleep(seconds)
    wall = time.monotonic() - m0
    t1, frames1 = datetime.now(UTC), frames[0]
    after = {s.camera_id: s for s in pool.status()}
    cpu1 = {c: _cpu_s(s.pid) for c, s in after.items() if s.pid is not None}
    stats = pool.stats()
    rss = [r for s in after.values() if s.pid is not None and (r := _rss_mb(s.pid)) is not None]
    same = [c for c in ids if c in cpu0 and c in cpu1 and before[c].pid == after[c].pid
            and cpu0[c] is not None and cpu1[c] is not None]
    ffmpeg_cpu = [100 * (cpu1[c] - cpu0[c]) / wall for c in same]  # type: ignore[operator]
    restarts = sum(after[c].runs - before[c].runs for c in ids if c in before and c in after)
    stalls = sum(after[c].stalls - before[c].stalls for c in ids if c in before and c in after)
    fresh = stats.segments_indexed - indexed0
    lags = list(stats.lags_s)[-fresh:] if fresh > 0 else []
    row = conn.execute("SELECT coalesce(sum(bytes), 0) AS b, count(*) AS n FROM recording_segments"
                       " WHERE start_time >= %s AND end_time <= %s", (t0, t1)).fetchone()
    covered = sum(s.duration_s for c in ids for s in recordings.segments_between(conn, c, t0, t1)
                  if s.start >= t0 and s.end <= t1)
    gaps = sum(max(0, len(recordings.spans(conn, c, t0, t1)) - 1) for c in ids)
    starts: list[float] = []
    if playback is not None:
        playback(ids[0], t0, t1)  # the API's first answer (its imports, its pool) is nobody's usual wait
        starts = [playback(c, t0, t1) for _ in range(PLAYBACK_ROUNDS) for c in ids]
    export_s = export_hour(conn, ids[0], t0, t1, recordings, pool.data_dir) if len(ids) == 1 else None
    mb_per_hour = int(row["b"]) / 1e6 / max(1e-9, covered) * 3600 if covered else None
    return {
        "cameras": len(ids),
        "ffmpeg_cpu_pct_per_stream": round(statistics.fmean(ffmpeg_cpu), 2) if ffmpeg_cpu else None,
        "ffmpeg_cpu_pct_max": round(max(ffmpeg_cpu), 2) if ffmpeg_cpu else None,
        "indexer_cpu_pct_per_stream": round(100 * (stats.thread_cpu_s - thread0) / wall / len(ids), 3),
        "ffmpeg_rss_mb": round(statistics.fmean(rss), 1) if rss else None,
        "mb_per_hour_per_stream": round(mb_per_hour, 1) if mb_per_hour else None,
        "gb_per_camera_day": round(mb_per_hour * 24 / 1000, 2) if mb_per_hour else None,
        "segments": row["n"],
        "index_lag_p95_s": _round(_percentile(lags, 0.95)),
        "index_lag_max_s": _round(max(lags) if lags else None),
        "gaps": gaps, "restarts": restarts, "stalls": stalls,
        "analytics_fps_all_cameras": round((frames1 - frames0) / wall, 1),
        "playback_start_p95_ms": _round(1000 * p) if (p := _percentile(starts, 0.95)) is not None else None,
        "export_1h_s": export_s,
        "load_average": round(os.getloadavg()[0], 2),
    }


def export_hour(conn: Any, camera_id: int, t0: datetime, t1: datetime, recordings: Any,
                data_dir: Path) -> float | None:
    """Seconds to export one hour of the camera as MP4 with the exporter (``record/export.py``): the window's real
    segments repeated to an hour (the concat demuxer shifts each file's timestamps)."""
    from core import media
    from record.export import ExportPiece, export_mp4

    segments = [s for s in recordings.segments_between(conn, camera_id, t0, t1) if s.start >= t0]
    if not segments:
        return None
    pieces, covered = [], 0.0
    while covered < 3600:
        for segment in segments:
            file = media.recording_file(data_dir, segment.path)
            assert file is not None
            pieces.append(ExportPiece(file, segment.start, segment.end))
            covered += segment.duration_s
    with tempfile.TemporaryDirectory(prefix="vigil-bench-export-") as folder:
        started = time.monotonic()
        export_mp4(pieces, Path(folder) / "hour.mp4")
        return round(time.monotonic() - started, 2)


def run_bench(settings: Any, variants: dict[str, tuple[Path, Path]], counts: Sequence[int], seconds: float,
              fps: float, port: int, say: Say, playback: bool = True) -> list[dict[str, Any]]:
    """Every footage variant (name -> (main clip, sub clip)) at every camera count; one row each."""
    rows = []
    for name, (main, sub) in variants.items():
        for count in counts:
            say(f"record: {count} cameras, main stream {name} ...")
            row = measure(settings, main, sub, count, seconds, fps, port, say, playback)
            rows.append({"footage": name, **row})
            say(f"  {row}")
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

