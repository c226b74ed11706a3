"""The soak benchmark (``vigil bench soak``): the real worker on N file cameras for many minutes.

One in-process :class:`vigil.worker.Worker` leases every camera from a private embedded cluster and runs
them through ingest -> vision -> rules -> store, exactly as ``vigil worker`` does. Every ``sample_s`` the
soak samples the process (resident memory, threads, open files), ingest (analytics frames handed to
vision, frames dropped because vision had not taken the previous one), vision (frame-to-result latency,
and frame-to-event latency for results that carry an event) and the store writer (memory-queue depth,
spooled rows). A worker that dies is restarted and counted, as the supervisor would.

With ``recording`` the cameras are RTSP streams of the same footage (the GStreamer RTSP server,
``tools/rtsp_server.py``, standing in for them) and the worker also records each one as ``vigil worker`` does
(its RecorderPool: one ffmpeg per camera, segments indexed in the cluster), so the recorder's memory is in the
worker's too.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.store import free_port

if TYPE_CHECKING:
    from vigil.worker import Worker
    from vision.engine import FrameResult
    from vision.pipeline import InProcessPipeline

log = logging.getLogger("vigil.soak")
Say = Callable[[str], None]


@dataclass
class SoakProbe:
    """What the soak learns from inside the worker: latencies of results (``note`` is the worker's result
    observer) and the frames of each run's pipeline."""

    lives: list[InProcessPipeline] = field(default_factory=list)  # the pipeline of each worker run
    latencies_s: list[float] = field(default_factory=list)  # frame-to-result, since the last sample
    event_latencies_s: list[float] = field(default_factory=list)  # frame-to-result of results with events
    # The whole run's latencies as packed doubles (8 bytes each, not 32): a long soak must not itself grow.
    all_latencies_s: array[float] = field(default_factory=lambda: array("d"))
    all_event_latencies_s: array[float] = field(default_factory=lambda: array("d"))
    results: int = 0
    events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, result: FrameResult) -> None:
        latency = float(result.latency_s)
        with self.lock:
            self.results += 1
            self.latencies_s.append(latency)
            if result.events:
                self.events += len(result.events)
                self.event_latencies_s.append(latency)

    def take_interval(self) -> tuple[list[float], list[float]]:
        """The latencies since the last call (kept for the whole-run figures too)."""
        with self.lock:
            latencies, events = self.latencies_s, self.event_latencies_s
            self.latencies_s, self.event_latencies_s = [], []
        self.all_latencies_s.extend(latencies)
        self.all_event_latencies_s.extend(events)
        return latencies, events

    def watch(self, worker: Worker) -> None:
        """Count the frames of ``worker``'s pipeline (once per pipeline)."""
        from vision.pipeline import InProcessPipeline

        pipeline = worker.pipeline
        if pipeline is None:
            return
        # The soak runs one process: with camera processes the cameras' frames live in children it does not see.
        assert isinstance(pipeline, InProcessPipeline), "the soak needs the in-process pipeline"
        with self.lock:  # the sampler and the worker's supervisor both call this
            if not any(pipeline is live for live in self.lives):
                self.lives.append(pipeline)

    def frames(self) -> tuple[int, int, int]:
        """(analytics frames handed over by the readers, taken by vision, dropped) over every worker run."""
        delivered = taken = dropped = 0
        for live in self.lives:
            counts = live.frame_counts()
            delivered, taken, dropped = delivered + counts.offered, taken + counts.taken, dropped + counts.dropped
        return delivered, taken, dropped


def percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def growth_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per hour; None with fewer than 3 points."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread * 3600


# The memory goal of issue 18: over a run of 3 hours or more, the robust slope of resident memory over the last
# two hours stays under 2 MB/h (a worker then gains under 50 MB a day).
GOAL_MINUTES = 180.0
GOAL_WINDOW_S = 7200.0
GOAL_MB_PER_HOUR = 2.0


def memory_goal(rss_points: Sequence[tuple[float, float]], minutes: float) -> dict[str, Any]:
    """The robust RSS slope over the run's last two hours (None when the run sampled less than that) and
    whether the goal is met: a run of ``GOAL_MINUTES`` or more whose slope is under ``GOAL_MB_PER_HOUR``."""
    slope = None
    if rss_points and rss_points[-1][0] - rss_points[0][0] >= GOAL_WINDOW_S:
        end = rss_points[-1][0]
        slope = robust_growth_per_hour([p for p in rss_points if p[0] >= end - GOAL_WINDOW_S])
    return {"memory_growth_mb_per_hour_robust_last_2h": _round(slope),
            "memory_goal_met": bool(minutes >= GOAL_MINUTES and slope is not None and slope < GOAL_MB_PER_HOUR)}


def robust_growth_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """Theil-Sen slope of (seconds, value) points, per hour: the median of the slopes between every two points.
    A transient spike (a burst of frames, an evidence JPEG) moves it little, unlike the least-squares slope,
    which one high last sample can double. None with fewer than 3 points."""
    if len(points) < 3:
        return None
    import numpy as np

    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    first, second = np.triu_indices(len(xs), k=1)
    dx = xs[second] - xs[first]
    keep = dx > 0
    if not keep.any():
        return None
    return float(np.median((ys[second] - ys[first])[keep] / dx[keep])) * 3600


def process_sample() -> dict[str, float]:
    """Resident memory (MB), threads and open file descriptors of this process now."""
    rss_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return {"rss_mb": rss_kb / 1024, "threads": threading.active_count(),
            "fds": len(os.listdir("/proc/self/fd"))}


def seed_cameras(conn: Any, footage: Sequence[Path], cameras: int, fps: float,
                 stream_of: Callable[[int], str] | None = None) -> list[int]:
    """A street site with ``cameras`` file cameras (footage in turn), each watching its lower half; with
    ``stream_of`` (camera number from 1 -> RTSP URL) network cameras of that footage instead, recorded."""
    from cameras.geometry import make_zone
    from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
    from store import registry

    site = registry.save_site(conn, SiteRecord(code="soak", name="Soak", kind=SiteKind.STREET))
    ids = []
    for number in range(cameras):
        clip = footage[number % len(footage)]
        kind, uri = (SourceKind.FILE, str(clip.resolve())) if stream_of is None \
            else (SourceKind.RTSP, stream_of(number + 1))
        camera = registry.save_camera(conn, CameraRecord(
            site_id=site.id or 0, name=f"soak-{number + 1:02d}", source_kind=kind, main_uri=uri,
            analytics_fps=fps))
        # People and vehicles cross the lower half of both clips all the time: intrusion events flow.
        registry.save_zone(conn, camera.id or 0, make_zone("lower", "restricted",
                                                           [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]))
        ids.append(camera.id or 0)
    return ids


@dataclass
class SoakRun:
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def run_soak(settings: Any, minutes: float, footage: Sequence[Path], cameras: int = 16, fps: float = 2.0,
             sample_s: float = 30.0, say: Say = print, trace: Any = None, recording: bool = False) -> SoakRun:
    """Run the worker on ``cameras`` file cameras for ``minutes``; sample every ``sample_s`` seconds.

    With ``trace`` (a started :class:`bench.memtrace.MemoryTrace`) every sample also records the traced
    Python heap, and the summary the allocation sites that grew between the warm-up and the end.
    """
    from store.db import connect
    from store.embedded import EmbeddedPostgres
    from store.migrate import migrate

    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-soak-"))
    folder.chmod(0o755)  # the cluster runs as 'postgres'
    cluster = EmbeddedPostgres(folder / "db", port=free_port())
    server = None
    if recording:
        from bench.ingest import BenchServer

        server = BenchServer.of_clips([footage[n % len(footage)].resolve() for n in range(cameras)], free_port())
        server.start()
    cluster.start()
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
            seed_cameras(conn, footage, cameras, fps, server.url if server is not None else None)
        # One process: the soak reads the readers' slots and measures one process's memory; with camera
        # processes (the GPU hosts' default) the cameras' state would live in children it does not see.
        run_settings = settings.model_copy(update={
            "data_dir": folder / "data", "secret_key_file": None,
            "vision": settings.vision.model_copy(update={"camera_processes": 0})})
        run_settings.data_dir.mkdir(parents=True, exist_ok=True)
        return _soak(run_settings, cluster.url, minutes, sample_s, cameras, fps, say, trace)
    finally:
        if server is not None:
            server.kill()
        cluster.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _soak(settings: Any, url: str, minutes: float, sample_s: float, cameras: int, fps: float, say: Say,
          trace: Any = None) -> SoakRun:
    from prometheus_client import REGISTRY

    from store.db import connect
    from vigil.worker import Worker, WorkerOptions

    probe = SoakProbe()
    restarts = 0
    failures: list[str] = []
    current: dict[str, Any] = {}
    stop = threading.Event()

    def supervise() -> None:
        nonlocal restarts
        while not stop.is_set():
            # The probe times every result the real worker stores (its result observer).
            worker = Worker(settings, url, WorkerOptions(worker_id="soak", capacity=cameras, lease_ttl_s=15),
                            observers=[probe.note])
            current["worker"] = worker
            try:
                worker.run()
            except Exception as exc:  # what the supervisor would see as a crash
                log.exception("soak: the worker died")
                failures.append(f"{type(exc).__name__}: {exc}")
            probe.watch(worker)
            if not stop.is_set():
                restarts += 1
                stop.wait(1.0)

    load_start = os.getloadavg()
    thread = threading.Thread(target=supervise, name="soak-worker", daemon=True)
    started = time.monotonic()
    thread.start()
    rows: list[dict[str, Any]] = []
    rss_points: list[tuple[float, float]] = []
    queue_depths: list[float] = []
    end = started + minutes * 60
    # Memory after the warm-up (model loaded, every reader and tracker running): the first fifth, at least 1 min.
    warm = max(60.0, minutes * 60 / 5)
    memory: dict[str, Any] = {}
    try:
        while (now := time.monotonic()) < end:
            stop.wait(min(sample_s, max(0.0, end - now)))
            elapsed = time.monotonic() - started
            if "worker" in current:
                probe.watch(current["worker"])
            row = _sample(probe, elapsed, REGISTRY, trace)
            rows.append(row)
            queue_depths.append(row["writer_queue_rows"])
            rss_points.append((elapsed, row["rss_mb"]))
            say(f"{elapsed / 60:5.1f} min: RSS {row['rss_mb']:.0f} MB, {row['threads']} threads, "
                f"{row['frames_analysed']} frames analysed, {row['frames_dropped']} dropped, "
                f"p95 {row['p95_frame_to_result_ms']} ms, writer queue {row['writer_queue_rows']}"
                + (f", Python heap {row['python_heap_mb']:.0f} MB" if "python_heap_mb" in row else ""))
            if trace is not None and not trace.has_baseline and elapsed >= warm:
                trace.mark_baseline(elapsed)
        if trace is not None:  # while the worker still runs: its state is what is being measured
            memory = memory_at_end(trace, rows, warm)
    finally:
        stop.set()
        if "worker" in current:
            current["worker"].stop()
        thread.join(120)
    if trace is not None:  # grouping the snapshots' traces is slow: only now that the worker has stopped
        memory.update(trace.growth())
    with connect(url) as conn:
        stored = {table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
                  for table in ("events", "observations", "camera_health", "recording_segments")}
        recorded = conn.execute("SELECT count(DISTINCT camera_id) AS cameras, coalesce(sum(bytes), 0)::bigint AS bytes"
                                " FROM recording_segments").fetchone()
    last = rows[-1] if rows else {"frames_offered": 0, "frames_analysed": 0, "frames_dropped": 0}
    # Counted while the worker still ran: a stopped worker has removed its readers (and their counters).
    delivered, taken, dropped = last["frames_offered"], last["frames_analysed"], last["frames_dropped"]
    steady = [p for p in rss_points if p[0] >= warm] if minutes * 60 > 2 * warm else rss_points
    summary = {
        "minutes": round((time.monotonic() - started) / 60, 2), "cameras": cameras, "analytics_fps_per_camera": fps,
        "model": settings.vision.model, "imgsz": settings.vision.imgsz,
        "rss_start_mb": round(rss_points[0][1], 1) if rss_points else None,
        "rss_end_mb": round(rss_points[-1][1], 1) if rss_points else None,
        "memory_growth_mb_per_hour": _round(growth_per_hour(steady)),
        "memory_growth_mb_per_hour_robust": _round(robust_growth_per_hour(steady)),
        **memory_goal(rss_points, (time.monotonic() - started) / 60),
        "threads_start": rows[0]["threads"] if rows else None, "threads_end": rows[-1]["threads"] if rows else None,
        "fds_start": rows[0]["fds"] if rows else None, "fds_end": rows[-1]["fds"] if rows else None,
        "frames_offered": delivered, "frames_analysed": taken, "frames_dropped": dropped,
        "dropped_share": round(dropped / delivered, 3) if delivered else None,
        "analysed_fps": round(taken / max(1e-9, minutes * 60), 2),
        "p95_frame_to_result_ms": _ms(percentile(probe.all_latencies_s, 0.95)),
        "p50_frame_to_result_ms": _ms(percentile(probe.all_latencies_s, 0.50)),
        "p95_frame_to_event_ms": _ms(percentile(probe.all_event_latencies_s, 0.95)),
        "events_emitted": probe.events,
        "writer_queue_rows_max": max(queue_depths, default=0), "writer_queue_rows_mean":
            round(statistics.fmean(queue_depths), 1) if queue_depths else 0,
        "spool_rows_max": max((r["spool_rows"] for r in rows), default=0),
        "worker_restarts": restarts, "worker_failures": failures[:5],
        "stored_events": stored["events"], "stored_observations": stored["observations"],
        "stored_health_rows": stored["camera_health"],
        "recorded_cameras": recorded["cameras"], "recorded_segments": stored["recording_segments"],
        "recorded_mb": round(recorded["bytes"] / 1e6, 1),
        "load_average_start": round(load_start[0], 2), "load_average_end": round(os.getloadavg()[0], 2),
    }
    if memory:
        summary["memory"] = memory
    return SoakRun(rows, summary)


def memory_at_end(trace: Any, rows: Sequence[dict[str, Any]], warm_s: float) -> dict[str, Any]:
    """Growth per hour after the warm-up of RSS, the Python heap, tracemalloc's own bookkeeping and malloc's
    in-use and free bytes; how much resident memory ``malloc_trim(0)`` gives back now; then the end snapshot."""
    from bench.memtrace import malloc_trim

    # After the baseline snapshot: building it is a one-off bump of resident memory, not growth.
    after = trace.baseline_at_s if trace.baseline_at_s is not None else warm_s
    steady = [r for r in rows if r["minute"] * 60 > after] or list(rows)
    findings: dict[str, Any] = {}
    for key in ("rss_mb", "rss_anon_mb", "rss_file_mb", "python_heap_mb", "tracemalloc_overhead_mb",
                "malloc_in_use_mb", "malloc_free_mb", "malloc_heap_mb"):
        points = [(r["minute"] * 60, r[key]) for r in steady if r.get(key) is not None]
        findings[f"{key.removesuffix('_mb')}_growth_mb_per_hour"] = _round(growth_per_hour(points))
    before = process_sample()["rss_mb"]
    malloc_trim()
    findings["rss_released_by_malloc_trim_mb"] = round(before - process_sample()["rss_mb"], 1)
    trace.mark_end()
    return findings


def _sample(probe: SoakProbe, elapsed: float, registry: Any, trace: Any = None) -> dict[str, Any]:
    latencies, event_latencies = probe.take_interval()
    delivered, taken, dropped = probe.frames()
    process = process_sample()
    row = {
        "minute": round(elapsed / 60, 2), "rss_mb": round(process["rss_mb"], 1), "threads": process["threads"],
        "fds": process["fds"], "frames_offered": delivered, "frames_analysed": taken, "frames_dropped": dropped,
        "p95_frame_to_result_ms": _ms(percentile(latencies, 0.95)),
        "p95_frame_to_event_ms": _ms(percentile(event_latencies, 0.95)),
        "writer_queue_rows": int(registry.get_sample_value("vigil_store_queue_rows") or 0),
        "spool_rows": int(registry.get_sample_value("vigil_store_spool_pending_rows") or 0),
    }
    if trace is not None:
        from bench.memtrace import malloc_sample, rss_split

        row.update(rss_split())
        row.update(trace.sample())
        row.update(malloc_sample())
    return row


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
