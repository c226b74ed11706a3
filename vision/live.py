"""The live path of one vision worker process: ingest's readers -> batch scheduler -> engine -> results.

::

    with LiveVision(settings, detector, on_result=handle) as live:      # handle(FrameResult), quick
        live.add_camera(CameraSource.from_rtsp(3, url), zones, rules)
        ...                                                               # until the process is told to stop

The owner (``vigil run``'s worker) passes ``on_result`` (to the store writer: events, observations,
sessions) and ingest's ``on_event``/``on_health`` sinks; nothing here is global.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from ingest.pool import ReaderPool
from vigil.settings import Settings
from vision.detectors.base import Detector
from vision.engine import CameraSetup, FrameResult, VisionEngine
from vision.scheduler import BatchScheduler
from vision.worker import VisionWorker


class LiveVision:
    """Readers, scheduler, engine and worker thread of one process, started and stopped together."""

    def __init__(self, settings: Settings, detector: Detector, on_result: Callable[[FrameResult], None],
                 on_event: Callable[..., Any] | None = None, on_health: Callable[..., Any] | None = None) -> None:
        self.settings = settings
        self.pool = ReaderPool(settings.ingest, on_event, on_health, evidence_dir=settings.data_dir / "evidence")
        self.scheduler = BatchScheduler(settings.vision.max_batch, settings.vision.max_wait_ms)
        self.engine = VisionEngine(detector, settings.vision, data_dir=settings.data_dir)
        self.worker = VisionWorker(self.engine, self.scheduler, on_result)

    def add_camera(self, source: CameraSource, zones: Sequence[ZoneSpec] = (), rules: Sequence[Any] = ()) -> None:
        """Start reading a camera (replacing one of the same id) and analysing it with its zones and rules."""
        self.engine.add_camera(CameraSetup(source.id, zones, rules, source.name))
        reader = self.pool.add(source)
        self.scheduler.add(source.id, reader.slot)

    def remove_camera(self, camera_id: int) -> None:
        self.scheduler.remove(camera_id)
        self.pool.remove(camera_id)
        self.engine.remove_camera(camera_id)

    def start(self) -> LiveVision:
        self.pool.start()
        self.worker.start()
        return self

    def stop(self) -> None:
        self.pool.stop()
        self.worker.stop()

    def __enter__(self) -> LiveVision:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
