"""``vigil bench vision``: the detector alone, the pipeline, the naive way and a static scene, side by side.

Same model and machine in one run, on the shipped footage as N file cameras:

- raw_fps: the detector alone on pre-decoded frames, at the best batch size (the limit of one instance);
- pipeline_fps: camera-frames/s through decode (ingest's decoder: NVDEC on GPU hosts), motion gate,
  batch scheduler, detector, tracker and zones, whole frames, with the worker's detectors (one per core on a
  CPU, ``vision.detectors``, on the backend ``vision.backend`` chooses);
- regions_fps: the same with region detection (``vision.regions``: crops of the moving areas, two to four of
  them as one mosaic where that shows them larger than the whole frame, ``vision.region_mosaic``);
- regions_crops_fps: region detection with every crop a detector input of its own (``region_mosaic`` off);
- naive_fps: one thread per camera, each with its own Ultralytics model calling
  ``model.track(source, stream=True)``;
- static_fps: the pipeline on a static scene (a still clip made from the footage's first frame).

Bench cameras decode on demand: a camera decodes its next frame when the scheduler took the previous one,
so the pipeline always has a fresh frame and no decode is spent on frames that would be dropped. A frame
then waits in its slot while the batch before it runs, so their latency is pessimistic; ``live_p95_ms``
is measured as a live worker sees it: ingest's own CameraReaders playing the clip at its native rate.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cameras.models import CameraSource
from core.settings import Settings
from core.types import Frame
from ingest.decode import Decoder, choose_decoder, open_stream, to_bgr
from ingest.reader import EventSink, HealthSink
from ingest.slot import FrameSlot
from vision.detectors.base import Detector
from vision.engine import FrameResult
from vision.pipeline import (
    READ_CAMERA,
    CameraProcessPool,
    FeedFactory,
    InProcessPipeline,
    ResultSink,
    ResultsMode,
    default_processes,
)

log = logging.getLogger("vigil.vision")


class _DemandSlot(FrameSlot):
    """A FrameSlot that tells its camera when its frame was taken."""

    def __init__(self, camera_id: int) -> None:
        super().__init__(camera_id)
        self.wanted = threading.Event()
        self.wanted.set()

    def take(self, newer_than_index: int = -1, timeout: float | None = 0.0) -> Frame | None:
        frame = super().take(newer_than_index, timeout)
        if frame is not None:
            self.wanted.set()
        return frame


class BenchCamera:
    """A file camera for the benchmark: loops the file through ingest's decoder, one frame per demand."""

    def __init__(self, camera_id: int, path: Path, decoder: str) -> None:
        self.camera_id, self.path, self.decoder = camera_id, path, decoder
        self.slot = _DemandSlot(camera_id)
        self.decoded = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bench-camera-{camera_id}", daemon=True)

    def start(self) -> BenchCamera:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.slot.wanted.set()
        self._thread.join(5)

    def _run(self) -> None:
        source = on_demand_source(self.camera_id, self.path)
        index = 0
        while not self._stop.is_set():
            opened = open_stream(source, 10.0, 10.0, self.decoder)  # type: ignore[arg-type]
            try:
                for av_frame in opened.container.decode(opened.stream):
                    self.slot.wanted.wait()
                    if self._stop.is_set():
                        return
                    self.slot.wanted.clear()
                    image = to_bgr(av_frame)
                    self.decoded += 1
                    self.slot.put(Frame(self.camera_id, image, time.time(), index))
                    index += 1
            finally:
                opened.close()


@dataclass(frozen=True)
class OnDemandFile:
    """The pipeline's feed factory for bench cameras (picklable: camera processes build them too); the
    camera's source is a file (``on_demand_source``). ``decoder`` None: the settings' choice."""

    decoder: Decoder | None = None

    def __call__(self, source: CameraSource, settings: Settings, on_event: EventSink | None,
                 on_health: HealthSink | None) -> BenchCamera:
        return BenchCamera(source.id, Path(source.uri), self.decoder or choose_decoder(settings.ingest.decode))


def on_demand_source(camera_id: int, clip: Path) -> CameraSource:
    """A bench camera: the clip looped as fast as it is asked for (``OnDemandFile`` reads it)."""
    return CameraSource.from_file(camera_id, clip, loop=True, realtime=False)


@dataclass
class PipelineRun:
    fps: float
    frames: int
    p50_ms: float
    p95_ms: float
    detected_share: float
    min_share: float  # the least-served camera's share of an equal split (fairness: 1.0 = equal)


def _live_sources(clip: Path, cameras: int) -> list[CameraSource]:
    """The clip as N live file cameras: played in real time, every frame handed to vision."""
    native = cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FPS) or 10.0
    return [CameraSource.from_file(i, clip, analytics_fps=native, loop=True, realtime=True)
            for i in range(1, cameras + 1)]


def run_pipeline(detector: Detector | Sequence[Detector], settings: Settings, clip: Path, cameras: int,
                 seconds: float, decoder: Decoder, motion_gate: bool = True, warmup_s: float = 1.0,
                 live: bool = False, processes: int = 0, regions: bool = False,
                 mosaic: bool | None = None) -> PipelineRun:
    """N bench cameras (``live``: ingest's real-time readers) -> scheduler -> engine for ``seconds``;
    ``processes`` > 0: the same in that many camera processes (``vision.pipeline.pool``, the first detector);
    several detectors share the cameras in one process (``InProcessPipeline``)."""
    update: dict[str, Any] = {"motion_gate": motion_gate, "regions": regions}
    if mosaic is not None:
        update["region_mosaic"] = mosaic
    vision = settings.vision.model_copy(update=update)
    detectors = list(detector) if isinstance(detector, Sequence) else [detector]
    settings = settings.model_copy(update={"vision": vision})
    counter = _Counter()
    feed: FeedFactory
    if live:
        sources, feed = _live_sources(clip, cameras), READ_CAMERA
    else:
        sources, feed = [on_demand_source(i, clip) for i in range(1, cameras + 1)], OnDemandFile(decoder)
    if processes > 0:  # the GPU-host layout: decode, gate and tracking in camera processes
        with serving_pool(settings, detectors[0], sources, min(processes, cameras), counter.on_result, feed=feed):
            elapsed = counter.measure(warmup_s, seconds)
    else:
        with InProcessPipeline(settings, detectors, counter.on_result) as pipeline:
            for source in sources:
                pipeline.add_camera(source, feed=feed)
            elapsed = counter.measure(warmup_s, seconds)
    return _summarise(counter.results, cameras, elapsed)


class _Counter:
    """Keeps the results that arrive while a measurement runs."""

    def __init__(self) -> None:
        self.results: list[FrameResult] = []
        self._counting = threading.Event()

    def on_result(self, result: FrameResult) -> None:
        if self._counting.is_set():
            self.results.append(result)

    def measure(self, warmup_s: float, seconds: float) -> float:
        """Warm up, count for ``seconds``; the measured time."""
        time.sleep(warmup_s)
        self._counting.set()
        began = time.perf_counter()
        time.sleep(seconds)
        self._counting.clear()
        return time.perf_counter() - began


@contextmanager
def serving_pool(settings: Settings, detector: Detector, sources: Sequence[CameraSource], processes: int,
                 on_result: ResultSink, results: ResultsMode = "store",
                 feed: FeedFactory = OnDemandFile()) -> Iterator[CameraProcessPool]:
    """A camera-process pool with ``sources`` started (read by ``feed``) and their first frames detected
    (spawned processes import their libraries first: up to two minutes), ready to measure."""
    with CameraProcessPool(settings, detector, processes, on_result, results=results) as pool:
        for source in sources:
            pool.add_camera(source, feed=feed)
        deadline = time.monotonic() + 120
        while sum(pool.served.values()) < len(sources) and time.monotonic() < deadline:
            time.sleep(0.1)
        yield pool


def _summarise(results: list[FrameResult], cameras: int, elapsed: float) -> PipelineRun:
    latencies = sorted(r.latency_s * 1000 for r in results) or [0.0]
    per_camera = [sum(1 for r in results if r.frame.camera_id == i) for i in range(1, cameras + 1)]
    fair = min(per_camera) / (len(results) / cameras) if results else 0.0
    return PipelineRun(len(results) / elapsed, len(results), statistics.median(latencies),
                       float(np.percentile(latencies, 95)), sum(r.detected for r in results) / max(len(results), 1),
                       fair)


def run_raw(detector: Detector, images: list[np.ndarray], batches: list[int], seconds: float) -> dict[int, float]:
    """Detector alone on pre-decoded frames: frames/s per batch size, each measured for ``seconds``."""
    out = {}
    for size in batches:
        for _ in range(3):  # warm this shape (allocator, kernels, clocks)
            detector.detect(images[:size])
        done, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            start = done % max(1, len(images) - size)
            detector.detect(images[start:start + size])
            done += size
        out[size] = done / (time.perf_counter() - began)
    return out


def run_naive(model_path: Path, clip: Path, cameras: int, seconds: float, imgsz: int, device: str,
              confidence: float) -> float:
    """One thread per camera, each with its own Ultralytics model and ``model.track(source, stream=True)``."""
    from ultralytics import YOLO

    from vision.torch_compat import ensure_torchvision

    ensure_torchvision()
    models = [YOLO(str(model_path), task="detect") for _ in range(cameras)]
    counts = [0] * cameras
    start_line = threading.Barrier(cameras + 1)
    counting, stop = threading.Event(), threading.Event()

    def camera(i: int) -> None:
        stream = models[i].track(source=str(clip), stream=True, imgsz=imgsz, device=device, conf=confidence,
                                 verbose=False, persist=True, tracker="bytetrack.yaml")
        first = True
        for _ in stream:
            if first:
                first = False
                start_line.wait()
            if stop.is_set():
                break
            if counting.is_set():
                counts[i] += 1

    threads = [threading.Thread(target=camera, args=(i,), daemon=True) for i in range(cameras)]
    for thread in threads:
        thread.start()
    start_line.wait(timeout=300)  # every camera has produced its first result (models loaded, warm)
    counting.set()
    began = time.perf_counter()
    time.sleep(seconds)
    counting.clear()
    elapsed = time.perf_counter() - began
    stop.set()
    for thread in threads:
        thread.join(60)
    return sum(counts) / elapsed


def make_static_clip(source: Path, folder: Path, seconds: float = 10.0) -> Path:
    """A still H.264/MP4V clip of the footage's first frame (a static scene: nothing moves)."""
    cap = cv2.VideoCapture(str(source))
    ok, image = cap.read()
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    cap.release()
    if not ok:
        raise OSError(f"{source}: no frame to make a static clip from")
    path = folder / "static.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (image.shape[1], image.shape[0]))
    for _ in range(int(fps * seconds)):
        writer.write(image)
    writer.release()
    return path


def predecode(path: Path, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    images = []
    while len(images) < count:
        ok, image = cap.read()
        if not ok:
            break
        images.append(image)
    cap.release()
    return images


def run_bench(settings: Settings, detector: Detector | Sequence[Detector], model_path: Path, footage: Path,
              cameras: list[int], seconds: float, batches: list[int], say: Callable[[str], None] = print,
              processes: int | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every figure per camera count, side by side; returns the table rows and a summary.

    ``detector``: the pipeline's detectors (the worker's: one per core on a CPU); raw_fps is the first one's.
    ``processes``: camera processes of the pipeline (None: ``vision.camera_processes``, -1 = auto). With
    camera processes the in-process pipeline is measured too (``pipeline_1proc_fps``), for comparison."""
    detectors = list(detector) if isinstance(detector, Sequence) else [detector]
    detector = detectors[0]
    decoder = choose_decoder(settings.ingest.decode)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    images = predecode(footage, 48)
    raw_seconds = max(1.0, seconds / 3)
    say(f"raw: detector alone, batch sizes {batches}, {raw_seconds:g} s each (again at the end)")
    raw = run_raw(detector, images, batches, raw_seconds)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        static = make_static_clip(footage, Path(tmp))
        for n in cameras:
            wanted = settings.vision.camera_processes if processes is None else processes
            procs = default_processes(detector.device, n) if wanted < 0 else min(wanted, n)
            single = None
            if procs:
                say(f"{n} camera(s): pipeline in one process (for comparison)")
                single = run_pipeline(detectors, settings, footage, n, seconds, decoder)
            say(f"{n} camera(s): pipeline" + (f" ({procs} camera processes)" if procs else
                                              f" ({len(detectors)} detector(s))"))
            pipe = run_pipeline(detectors, settings, footage, n, seconds, decoder, processes=procs)
            say(f"{n} camera(s): pipeline with region detection")
            regional = run_pipeline(detectors, settings, footage, n, seconds, decoder, processes=procs, regions=True)
            say(f"{n} camera(s): pipeline with region detection, each crop alone (no mosaic)")
            crops_alone = run_pipeline(detectors, settings, footage, n, seconds, decoder, processes=procs,
                                       regions=True, mosaic=False)
            say(f"{n} camera(s): naive (one thread and one model per camera, model.track)")
            naive = run_naive(model_path, footage, n, seconds, detector.imgsz, detector.device,
                              settings.vision.confidence)
            say(f"{n} camera(s): pipeline on a static scene")
            still = run_pipeline(detectors, settings, static, n, seconds, decoder, processes=procs)
            say(f"{n} camera(s): live latency (ingest readers at the clip's own rate)")
            paced = run_pipeline(detectors, settings, footage, n, seconds, decoder, live=True, processes=procs)
            rows.append({
                "cameras": n, "raw_fps": None, "pipeline_fps": pipe.fps, "regions_fps": regional.fps,
                "naive_fps": naive, "static_fps": still.fps, "pipeline/raw": None,
                "pipeline/naive": pipe.fps / naive if naive else None,
                "regions/naive": regional.fps / naive if naive else None,
                "regions_detected_share": regional.detected_share, "regions_crops_fps": crops_alone.fps,
                "regions_crops/naive": crops_alone.fps / naive if naive else None,
                "static/pipeline": still.fps / pipe.fps if pipe.fps else None,
                "p50_ms": pipe.p50_ms, "p95_ms": pipe.p95_ms, "static_p95_ms": still.p95_ms,
                "live_fps": paced.fps, "live_p50_ms": paced.p50_ms, "live_p95_ms": paced.p95_ms,
                "fairness": pipe.min_share, "detected_share_static": still.detected_share,
                "camera_processes": procs, "pipeline_1proc_fps": single.fps if single else None,
            })
    say("raw: detector alone again (the machine may have changed pace meanwhile)")
    raw_end = run_raw(detector, images, batches, raw_seconds)
    # The limit is the better of the two measurements per batch size: the ratio is never flattered.
    best = {b: max(raw[b], raw_end[b]) for b in batches}
    best_batch = max(best, key=lambda b: best[b])
    raw_fps = best[best_batch]
    for row in rows:
        row["raw_fps"], row["pipeline/raw"] = raw_fps, row["pipeline_fps"] / raw_fps
    summary = {"model": model_path.name, "imgsz": detector.imgsz, "device": detector.device, "decoder": decoder,
               "detector": f"{type(detector).__name__} {getattr(detector, 'runtime', '')}".strip(),
               "detectors": len(detectors), "threads_per_detector": getattr(detector, "threads", None),
               "best_batch": best_batch, "max_batch": settings.vision.max_batch,
               **{f"raw_fps_batch{b}": v for b, v in raw.items()},
               **{f"raw_fps_batch{b}_end": v for b, v in raw_end.items()}, "seconds_per_figure": seconds,
               "load_avg_1m_before": load_before, "load_avg_1m_after": os.getloadavg()[0]}
    return rows, summary
