"""The live path of one vision worker process: ingest's readers -> batch scheduler -> engine -> results.

::

    with LiveVision(settings, detector, on_result=handle) as live:      # handle(FrameResult), quick
        live.add_camera(CameraSource.from_rtsp(3, url), zones, rules)
        ...                                                               # until the process is told to stop

Two layouts, chosen by ``vision.camera_processes`` (``vision.procs.default_processes`` for -1, auto):

- in one process (0, the default on a CPU): readers, scheduler, engine and one vision thread here;
- camera processes (N > 0, the default on a GPU host): decode, gate, tracker, zones, rules, evidence and
  previews in N spawned processes, only batching and detection here (``vision.procs``). Results reach
  ``on_result`` without their picture; with ``results="store"`` also without boxes and tracks (events,
  observations, sessions, the frame's identity and times, the gate's verdict: what the store needs).

The owner (``vigil run``'s worker) passes ``on_result`` (to the store writer: events, observations,
sessions) and ingest's ``on_event``/``on_health`` sinks; nothing here is global.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth
from ingest.pool import ReaderPool
from vision.detectors.base import Detector
from vision.engine import CameraSetup, FrameResult, VisionEngine
from vision.preview import PreviewSpec, PreviewWriter
from vision.procs import CameraProcessPool, CameraSpec, ResultsMode, default_processes
from vision.scheduler import BatchScheduler
from vision.worker import VisionWorker


class LiveVision:
    """Readers, scheduler, engine and worker thread of one process (or its camera processes), started and
    stopped together."""

    def __init__(self, settings: Settings, detector: Detector, on_result: Callable[[FrameResult], None],
                 on_event: Callable[..., Any] | None = None, on_health: Callable[..., Any] | None = None,
                 preview: PreviewSpec | None = None, max_cameras: int | None = None,
                 results: ResultsMode = "full") -> None:
        self.settings = settings
        self.preview = preview
        wanted = settings.vision.camera_processes
        self.processes = default_processes(detector.device, max_cameras) if wanted < 0 else wanted
        self.procs: CameraProcessPool | None = None
        self._previews: PreviewWriter | None = None
        if self.processes > 0:
            self.procs = CameraProcessPool(settings, detector, self.processes, on_result, on_event, on_health,
                                           preview, results)
            return
        self.pool = ReaderPool(settings.ingest, on_event, on_health, data_dir=settings.data_dir)
        self.scheduler = BatchScheduler(settings.vision.max_batch, settings.vision.max_wait_ms)
        self.engine = VisionEngine(detector, settings.vision, data_dir=settings.data_dir)
        if preview is not None:
            self._previews = PreviewWriter.from_spec(preview, self.engine.zones_of)
            previews = self._previews

            def handle(result: FrameResult) -> None:
                on_result(result)
                previews.offer(result)

            self.worker = VisionWorker(self.engine, self.scheduler, handle)
        else:
            self.worker = VisionWorker(self.engine, self.scheduler, on_result)

    def add_camera(self, source: CameraSource, zones: Sequence[ZoneSpec] = (), rules: Sequence[Any] = ()) -> None:
        """Start reading a camera (replacing one of the same id) and analysing it with its zones and rules."""
        if self.procs is not None:
            self.procs.add_camera(CameraSpec(source.id, source=source, zones=zones, rules=rules, name=source.name))
            return
        self.engine.add_camera(CameraSetup(source.id, zones, rules, source.name))
        reader = self.pool.add(source)
        self.scheduler.add(source.id, reader.slot)

    def remove_camera(self, camera_id: int) -> None:
        if self.procs is not None:
            self.procs.remove_camera(camera_id)
            return
        self.scheduler.remove(camera_id)
        self.pool.remove(camera_id)
        self.engine.remove_camera(camera_id)

    def forget_preview(self, camera_id: int) -> None:
        """Delete a camera's live picture (it moved to another worker)."""
        if self._previews is not None:
            self._previews.forget(camera_id)
        elif self.preview is not None:
            self.preview.picture(camera_id).unlink(missing_ok=True)

    def health(self) -> list[CameraHealth]:
        """Each camera's health now (from the camera processes: at most a second old)."""
        return self.procs.health() if self.procs is not None else self.pool.health()

    def start(self) -> LiveVision:
        if self.procs is not None:
            self.procs.start()
            return self
        self.pool.start()
        self.worker.start()
        return self

    def stop(self) -> None:
        if self.procs is not None:
            self.procs.stop()
            return
        self.pool.stop()
        self.worker.stop()

    def __enter__(self) -> LiveVision:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
