"""The live vision pipeline of one worker process: cameras' feeds -> batched detection -> per-camera tracker,
zones, rules, evidence and previews -> the owner's sinks.

::

    with open_pipeline(settings, detector, on_result, on_event, on_health, preview=...) as pipeline:
        pipeline.add_camera(CameraSource.from_rtsp(3, url), zones, rules)
        ...                                                   # until the process is told to stop

Two layouts behind one protocol (``Pipeline``), chosen by ``vision.camera_processes`` (-1: auto,
``default_processes``), so no caller needs to know which one runs:

- ``in_process.InProcessPipeline`` (0, the default on a CPU): feeds, scheduler, engine and one vision
  thread in this process;
- ``pool.CameraProcessPool`` (N > 0, the default on a GPU host): decode, gate, tracker, zones, rules,
  evidence and previews in N spawned camera processes (``child``), only batching and detection here;
  the messages between them are ``wire``'s. Results reach ``on_result`` without their picture; with
  ``results="store"`` also without boxes and tracks (what the store needs).

What delivers a camera's frames is a feed built by a picklable factory (``feeds``): ingest's reader by
default, a benchmark's own file camera when it passes one. The owner (``vigil worker``) passes the sinks;
nothing here is global.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, Self

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth
from ingest.reader import EventSink, HealthSink
from vision.detectors.base import Detector
from vision.pipeline.feeds import READ_CAMERA, Feed, FeedFactory, ReadCamera
from vision.pipeline.in_process import FrameCounts, InProcessPipeline
from vision.pipeline.pool import CameraProcessPool
from vision.pipeline.wire import CameraSpec, ResultSink, ResultsMode
from vision.preview import PreviewSpec
from vision.rules.base import Rule

__all__ = ["READ_CAMERA", "CameraProcessPool", "CameraSpec", "Feed", "FeedFactory", "FrameCounts",
           "InProcessPipeline", "Pipeline", "ReadCamera", "ResultSink", "ResultsMode", "default_processes",
           "open_pipeline"]


class Pipeline(Protocol):
    """Cameras in, results out: what a worker process needs of vision, whichever layout runs it.

    ``on_result`` (and ``on_event``/``on_health``, the readers' sinks) are called from the pipeline's own
    threads and must be quick.
    """

    def add_camera(self, source: CameraSource, zones: Sequence[ZoneSpec] = (), rules: Sequence[Rule] = (),
                   feed: FeedFactory = READ_CAMERA) -> None:
        """Start a camera (replacing one of the same id) and analyse it with its zones and rules; ``feed``
        builds what delivers its frames (default: ingest's reader on ``source``)."""
        ...

    def remove_camera(self, camera_id: int) -> None:
        """Stop a camera (nothing happens when it is not here)."""
        ...

    def forget_preview(self, camera_id: int) -> None:
        """Delete a camera's live picture (it moved to another worker)."""
        ...

    def health(self) -> list[CameraHealth]:
        """Each camera's health now (from camera processes: at most a second old)."""
        ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


def default_processes(device: str, cameras: int | None = None) -> int:
    """``vision.camera_processes`` = -1 (auto): none on a CPU (the cores are the detector's), on an
    accelerator one per core but one, at most one per camera."""
    if not device.startswith("cuda"):
        return 0
    count = max(1, (os.cpu_count() or 2) - 1)
    return min(count, cameras) if cameras else count


def open_pipeline(settings: Settings, detector: Detector | Sequence[Detector], on_result: ResultSink,
                  on_event: EventSink | None = None, on_health: HealthSink | None = None,
                  preview: PreviewSpec | None = None, max_cameras: int | None = None,
                  results: ResultsMode = "full") -> Pipeline:
    """The pipeline ``vision.camera_processes`` asks for (-1: ``default_processes`` for the detector's device
    and ``max_cameras``), not started yet. ``results`` matters to camera processes only (see the module).
    Several detectors (one per core on a CPU) share the cameras in one process; camera processes use the first."""
    detectors = list(detector) if isinstance(detector, Sequence) else [detector]
    wanted = settings.vision.camera_processes
    processes = default_processes(detectors[0].device, max_cameras) if wanted < 0 else wanted
    if processes > 0:
        return CameraProcessPool(settings, detectors[0], processes, on_result, on_event, on_health, preview,
                                 results)
    return InProcessPipeline(settings, detectors, on_result, on_event, on_health, preview)
