"""``vigil bench capacity``: how many cameras this machine serves at their configured rates.

For a profile (counter cameras: the composed hall clip at 2 analysed frames/s, its counter zones and rules;
street cameras: vtest at 5 frames/s, its street zones and rules), N file cameras play their clip in real time,
each from another point of it (``phased``: four starting points, so their busy moments do not coincide and a
short probe sees the whole clip's mix)
through ingest's own readers into the in-process pipeline the worker runs (its detectors: one per core on a
CPU), and the share of analytics frames dropped (replaced in a camera's slot before vision took them) is
counted. A camera count passes when under 1 % of its frames are dropped over the measured window.

The search: short probes (``probe_s``) from ``start`` cameras up, doubling while they pass and then halving
the gap to the first failure; the largest passing count is then held for the full window (``minutes``, 5 by
default) and, if it fails there, one fewer is, until one passes (or none). Reported per trial: cameras,
analysed frames/s, CPU of this process (share of all cores), p95 frame-to-result latency and p95
frame-to-event latency (results that carried an event).

With ``recording`` every camera is also recorded as ``vigil worker`` records it (record/'s RecorderPool: one
ffmpeg per camera copying an RTSP stream into segments) from the GStreamer RTSP server playing the same clip
(``tools/rtsp_server.py``, no re-encoding: it stands in for the cameras, and its CPU is reported apart). The
segment index is the one part not real here: the bench has no database, so closed segments are counted in
memory (a row every few seconds per camera; the recording bench measures the real index).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cameras.models import CameraSource
from cameras.plan import CameraPlan
from core.settings import Settings
from vision.detectors.base import Detector
from vision.engine import FrameResult
from vision.pipeline import InProcessPipeline
from vision.rules import build_rules

DROP_LIMIT = 0.01


@dataclass(frozen=True)
class Profile:
    name: str
    clip: Path
    fps: float
    plan: CameraPlan  # the zones and counters every camera of the profile watches
    phases: tuple[Path, ...] = ()  # the clip started at other points (camera k plays phase k mod n)

    def clip_of(self, camera: int) -> Path:
        return self.phases[(camera - 1) % len(self.phases)] if self.phases else self.clip


def phased(clip: Path, count: int, folder: Path) -> tuple[Path, ...]:
    """The clip and ``count - 1`` copies of it that start further in (and wrap around), made once with ffmpeg:
    cameras that all played the same second at once would see their busy moments together, and a short probe
    would only see the clip's first seconds. A clip that is not H.264 is replaced by an H.264 copy."""
    import subprocess

    import cv2

    capture = cv2.VideoCapture(str(clip))
    length = capture.get(cv2.CAP_PROP_FRAME_COUNT) / (capture.get(cv2.CAP_PROP_FPS) or 10.0)
    h264 = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").lower() in (b"avc1", b"h264")
    capture.release()
    folder.mkdir(parents=True, exist_ok=True)
    out = [clip] if h264 else []
    # Every phase in H.264, as cameras send it (and as the RTSP server that stands in for them when the bench
    # records needs it): the composed hall clip is MPEG-4 part 2, so its phase 0 is a copy in H.264 too.
    for k in range(0 if not h264 else 1, count):
        start = length * k / count
        made = folder / f"{clip.stem}-phase{k}of{count}.mp4"
        if not made.is_file():
            part = folder / f"{made.stem}.part.mp4"
            wrapped = ["-ss", f"{start:.2f}", "-i", str(clip), "-t", f"{start:.2f}", "-i", str(clip),
                       "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]"] if k else ["-i", str(clip)]
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *wrapped, "-c:v", "libx264", "-preset", "veryfast",
                            "-g", "20", "-bf", "0", "-pix_fmt", "yuv420p", str(part)], check=True, timeout=900)
            part.replace(made)
        out.append(made)
    return tuple(out)


@dataclass
class Trial:
    cameras: int
    seconds: float
    offered: int
    analysed: int
    dropped: int
    analysed_fps: float
    cpu_share: float  # this process's CPU time / (wall time x cores)
    p95_result_ms: float | None
    p95_event_ms: float | None
    events: int
    kind: str = "probe"  # probe | hold
    recorders: int = 0  # cameras being recorded at the end of the window (0: recording off)
    segments: int = 0  # segments the recorders closed during the window
    recorder_cpu_share: float | None = None  # the recorders' ffmpeg processes, share of all cores
    camera_server_cpu_share: float | None = None  # the RTSP server standing in for the cameras

    @property
    def dropped_share(self) -> float:
        return self.dropped / self.offered if self.offered else 1.0

    @property
    def passed(self) -> bool:
        return self.offered > 0 and self.dropped_share < DROP_LIMIT


@dataclass
class _Results:
    latencies: list[float] = field(default_factory=list)
    event_latencies: list[float] = field(default_factory=list)
    counting: threading.Event = field(default_factory=threading.Event)

    def on_result(self, result: FrameResult) -> None:
        if self.counting.is_set():
            self.latencies.append(result.latency_s)
            if result.events:
                self.event_latencies.append(result.latency_s)


def trial(settings: Settings, detectors: Sequence[Detector], profile: Profile, cameras: int, seconds: float,
          warmup_s: float = 8.0, kind: str = "probe", recording: bool = False) -> Trial:
    """``cameras`` cameras of the profile for ``warmup_s`` then ``seconds`` measured (recorded beside with
    ``recording``)."""
    import psutil

    results = _Results()
    settings = settings.model_copy(update={"vision": settings.vision.model_copy(update={"camera_processes": 0})})
    with _recorded(settings, profile, cameras if recording else 0) as recorders, \
            InProcessPipeline(settings, detectors, results.on_result) as pipeline:
        for number in range(1, cameras + 1):
            source = CameraSource.from_file(number, profile.clip_of(number), analytics_fps=profile.fps, loop=True,
                                            realtime=True, name=f"{profile.name}-{number}")
            pipeline.add_camera(source, profile.plan.zones, build_rules(profile.plan))
        time.sleep(warmup_s)
        before, process = pipeline.frame_counts(), psutil.Process()
        cpu0, began = sum(process.cpu_times()[:2]), time.perf_counter()
        recorded0 = recorders.sample()
        results.counting.set()
        time.sleep(seconds)
        results.counting.clear()
        after, wall = pipeline.frame_counts(), time.perf_counter() - began
        cpu = sum(process.cpu_times()[:2]) - cpu0
        recorded = recorders.sample().since(recorded0, wall)
    offered, analysed = after.offered - before.offered, after.taken - before.taken
    return Trial(cameras, round(wall, 1), offered, analysed, after.dropped - before.dropped,
                 round(analysed / wall, 2), round(cpu / wall / (os.cpu_count() or 1), 3),
                 _p95(results.latencies), _p95(results.event_latencies), len(results.event_latencies), kind,
                 **recorded)


@dataclass(frozen=True)
class _RecorderSample:
    recording: int = 0
    segments: int = 0
    ffmpeg_cpu_s: dict[int, float] = field(default_factory=dict)  # per recorder process
    server_cpu_s: float = 0.0

    def since(self, earlier: _RecorderSample, wall_s: float) -> dict[str, Any]:
        if not self.recording and not earlier.recording:
            return {}
        cores = wall_s * (os.cpu_count() or 1)
        ffmpeg = sum(cpu - earlier.ffmpeg_cpu_s[pid] for pid, cpu in self.ffmpeg_cpu_s.items()
                     if pid in earlier.ffmpeg_cpu_s)  # a recorder restarted inside the window is not counted
        return {"recorders": self.recording, "segments": self.segments - earlier.segments,
                "recorder_cpu_share": round(ffmpeg / cores, 4),
                "camera_server_cpu_share": round((self.server_cpu_s - earlier.server_cpu_s) / cores, 4)}


class _Recorders:
    def __init__(self, pool: Any = None, server_pid: int | None = None, index: _CountingIndex | None = None) -> None:
        self.pool, self.server_pid, self.index = pool, server_pid, index

    def sample(self) -> _RecorderSample:
        if self.pool is None:
            return _RecorderSample()
        import psutil

        def cpu(pid: int) -> float | None:
            try:
                return sum(psutil.Process(pid).cpu_times()[:2])
            except psutil.Error:
                return None

        live = [s for s in self.pool.status() if s.state == "recording" and s.pid is not None]
        ffmpeg = {s.pid: c for s in live if (c := cpu(s.pid)) is not None}
        return _RecorderSample(len(live), self.index.segments if self.index else 0, ffmpeg,
                               (cpu(self.server_pid) or 0.0) if self.server_pid else 0.0)


class _CountingIndex:
    """Stands in for the database index (the bench has no database): counts the segments the recorders close."""

    def __init__(self) -> None:
        self.segments = 0

    def add_segments(self, segments: Sequence[Any]) -> int:
        self.segments += len(segments)
        return len(segments)

    def close(self) -> None:
        pass


@contextmanager
def _recorded(settings: Settings, profile: Profile, cameras: int) -> Iterator[_Recorders]:
    """Every camera recorded from an RTSP server playing its clip, until the block ends (nothing when 0)."""
    if cameras == 0:
        yield _Recorders()
        return
    from bench.ingest import BenchServer
    from bench.store import free_port
    from record.pool import RecorderPool
    from record.recorder import RecordingSpec

    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-capacity-"))
    server = BenchServer.of_clips([profile.clip_of(number) for number in range(1, cameras + 1)], free_port())
    index = _CountingIndex()
    server.start()
    try:
        with RecorderPool(settings.record, folder, "bench", lambda: index, lambda _event: None) as pool:
            for number in range(1, cameras + 1):
                source = CameraSource.from_rtsp(number, server.url(number), name=f"{profile.name}-{number}")
                pool.add(RecordingSpec(source))
            yield _Recorders(pool, server.process.pid if server.process else None, index)
    finally:
        server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)) * 1000, 1) if values else None


def search(run: Callable[[int, float, str], Trial], minutes: float, probe_s: float, start: int,
           max_cameras: int, say: Callable[[str], None] = print) -> tuple[int, list[Trial]]:
    """The largest camera count that passes the full window, and every trial made on the way."""
    trials: list[Trial] = []

    def probe(n: int) -> bool:
        found = run(n, probe_s, "probe")
        trials.append(found)
        say(f"  {n} cameras: {found.dropped_share:.1%} dropped, {found.analysed_fps} frames/s analysed, CPU "
            f"{found.cpu_share:.0%} ({'pass' if found.passed else 'fail'})")
        return found.passed

    good, bad, n = 0, max_cameras + 1, max(1, start)
    while n <= max_cameras and probe(n):
        good, n = n, n * 2
    bad = min(bad, n)
    while bad - good > 1:
        middle = (good + bad) // 2
        if probe(middle):
            good = middle
        else:
            bad = middle
    while good > 0:
        held = run(good, minutes * 60, "hold")
        trials.append(held)
        say(f"  {good} cameras for {minutes:g} min: {held.dropped_share:.2%} dropped "
            f"({'pass' if held.passed else 'fail'})")
        if held.passed:
            return good, trials
        good -= 1
    return 0, trials


def summarise(profile: Profile, best: int, trials: list[Trial]) -> dict[str, Any]:
    held = next((t for t in reversed(trials) if t.kind == "hold" and t.cameras == best and t.passed), None)
    figures = {"analysed_fps": None, "dropped_share": None, "cpu_share": None, "p95_frame_to_result_ms": None,
               "p95_frame_to_event_ms": None, "events": None, "window_s": None, "recorders": None,
               "recorder_cpu_share": None, "camera_server_cpu_share": None}
    if held is not None:
        figures = {"analysed_fps": held.analysed_fps, "dropped_share": round(held.dropped_share, 4),
                   "cpu_share": held.cpu_share, "p95_frame_to_result_ms": held.p95_result_ms,
                   "p95_frame_to_event_ms": held.p95_event_ms, "events": held.events, "window_s": held.seconds,
                   "recorders": held.recorders, "recorder_cpu_share": held.recorder_cpu_share,
                   "camera_server_cpu_share": held.camera_server_cpu_share}
    return {"profile": profile.name, "clip": profile.clip.name, "fps_per_camera": profile.fps, "cameras": best,
            **figures,
            "trials": [asdict(t) | {"dropped_share": round(t.dropped_share, 4), "passed": t.passed} for t in trials]}
