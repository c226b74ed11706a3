"""The pipeline in one process (the default on a CPU): each camera's feed (ingest's reader) -> the batch
scheduler -> a vision thread running the engine (gate, batched detector, tracker, zones, rules, evidence)
-> the live pictures -> ``on_result``.

Given several detectors (``vision.detectors``: one per core on a CPU), the cameras are shared among as many
shards, each with its own scheduler, engine and vision thread: one batched call keeps one core busy, so on a
CPU N independent detectors (one thread each) use the N cores, as N naive per-camera loops would, while each
shard still batches its cameras and gates their still scenes. A camera stays on its shard (its tracker
lives there); a new camera goes to the shard with the fewest.

Results are whole (pictures, boxes and tracks included) whatever ``results`` mode the owner asked for: nothing
crosses a process boundary here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth
from ingest.reader import EventSink, HealthSink
from vision.detectors.base import Detector
from vision.engine import CameraSetup, FrameResult, VisionEngine
from vision.pipeline.feeds import READ_CAMERA, Feed, FeedFactory, ReportsHealth, stop_feeds
from vision.pipeline.scheduler import BatchScheduler
from vision.pipeline.wire import ResultSink
from vision.preview import PreviewSpec, PreviewWriter
from vision.rules.base import Rule

log = logging.getLogger("vigil.vision")


class VisionThread:
    """One thread running ``scheduler.collect() -> engine.process() -> on_result`` until stopped."""

    def __init__(self, engine: VisionEngine, scheduler: BatchScheduler, on_result: ResultSink) -> None:
        self.engine, self.scheduler, self.on_result = engine, scheduler, on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.errors = 0

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="vision-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            frames = self.scheduler.collect(idle_timeout_s=0.2, stop=self._stop.is_set)
            if not frames:
                continue
            try:
                results = self.engine.process(frames)
            except Exception:  # one bad batch (a driver hiccup) must not stop every camera
                self.errors += 1
                log.exception("vision batch of %d frames failed", len(frames))
                continue
            self.batches += 1
            for result in results:
                self.on_result(result)


@dataclass(frozen=True)
class FrameCounts:
    """Frames of the cameras held now: handed over by their feeds, taken by vision, dropped unread."""

    offered: int
    taken: int
    dropped: int


def _also_preview(on_result: ResultSink, previews: PreviewWriter) -> ResultSink:
    def handle(result: FrameResult) -> None:
        on_result(result)
        previews.offer(result)

    return handle


@dataclass
class _Shard:
    """One detector with its scheduler, engine, vision thread and cameras."""

    scheduler: BatchScheduler
    engine: VisionEngine
    thread: VisionThread
    cameras: set[int]


class InProcessPipeline:
    """Feeds, schedulers, engines and vision threads of one process: a ``vision.pipeline.Pipeline``."""

    def __init__(self, settings: Settings, detector: Detector | Sequence[Detector], on_result: ResultSink,
                 on_event: EventSink | None = None, on_health: HealthSink | None = None,
                 preview: PreviewSpec | None = None) -> None:
        self.settings, self.preview = settings, preview
        self._on_event, self._on_health = on_event, on_health
        detectors = list(detector) if isinstance(detector, Sequence) else [detector]
        self._previews: PreviewWriter | None = None
        self._feeds: dict[int, Feed] = {}
        self._running = False
        handle = on_result
        if preview is not None:
            previews = self._previews = PreviewWriter.from_spec(preview, self._zones_of)
            handle = _also_preview(on_result, previews)
        self.shards: list[_Shard] = []
        for one in detectors:
            scheduler = BatchScheduler(settings.vision.max_batch, settings.vision.max_wait_ms)
            engine = VisionEngine(one, settings.vision, data_dir=settings.data_dir)
            self.shards.append(_Shard(scheduler, engine, VisionThread(engine, scheduler, handle), set()))

    @property
    def engine(self) -> VisionEngine:
        """The first shard's engine (the only one with one detector)."""
        return self.shards[0].engine

    @property
    def inferences(self) -> int:
        return sum(shard.engine.inferences for shard in self.shards)

    def _zones_of(self, camera_id: int) -> Sequence[ZoneSpec]:
        return self._shard_of(camera_id).engine.zones_of(camera_id)

    def _shard_of(self, camera_id: int) -> _Shard:
        return next((s for s in self.shards if camera_id in s.cameras), self.shards[0])

    def add_camera(self, source: CameraSource, zones: Sequence[ZoneSpec] = (), rules: Sequence[Rule] = (),
                   feed: FeedFactory = READ_CAMERA) -> None:
        """Start a camera (replacing one of the same id) with its zones and rules on the shard with the fewest
        cameras; ``feed`` builds what delivers its frames (default: ingest's reader on ``source``)."""
        self.remove_camera(source.id)
        shard = min(self.shards, key=lambda s: len(s.cameras))
        fps = source.analytics_fps or self.settings.ingest.analytics_fps
        shard.engine.add_camera(CameraSetup(source.id, zones, rules, source.name, fps))
        shard.cameras.add(source.id)
        built = self._feeds[source.id] = feed(source, self.settings, self._on_event, self._on_health)
        if self._running:
            built.start()
        shard.scheduler.add(source.id, built.slot)

    def remove_camera(self, camera_id: int) -> None:
        for shard in self.shards:
            if camera_id in shard.cameras:
                shard.scheduler.remove(camera_id)
                shard.cameras.discard(camera_id)
                shard.engine.remove_camera(camera_id)
        feed = self._feeds.pop(camera_id, None)
        if feed is not None:
            feed.stop()

    def forget_preview(self, camera_id: int) -> None:
        """Delete a camera's live picture (it moved to another worker)."""
        if self._previews is not None:
            self._previews.forget(camera_id)

    def health(self) -> list[CameraHealth]:
        """Each camera's health now."""
        return [feed.health() for feed in self._feeds.values() if isinstance(feed, ReportsHealth)]

    def frame_counts(self) -> FrameCounts:
        """Frames offered, taken and dropped so far by the cameras held now (taken: since the pipeline began)."""
        feeds = list(self._feeds.values())
        taken = sum(sum(shard.scheduler.served.values()) for shard in self.shards)
        return FrameCounts(sum(f.slot.delivered for f in feeds), taken, sum(f.slot.dropped for f in feeds))

    def start(self) -> Self:
        self._running = True
        for feed in list(self._feeds.values()):
            feed.start()
        for shard in self.shards:
            shard.thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        stop_feeds(list(self._feeds.values()))
        for shard in self.shards:
            shard.thread.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
