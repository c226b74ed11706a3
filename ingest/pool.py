"""Many cameras: one ``CameraReader`` each, sharing one wake-up condition for the batched detector.

::

    with ReaderPool(settings.ingest, on_event=..., on_health=..., data_dir=...) as pool:
        pool.add(CameraSource.from_file(1, "var/footage/vtest.mp4"))
        pool.add(CameraSource.from_rtsp(2, "rtsp://127.0.0.1:8554/cam2"))
        seen: dict[int, int] = {}
        while running:
            for frame in pool.wait_frames(seen, timeout=0.5):   # newest frame of each camera with news
                seen[frame.camera_id] = frame.index
                ...
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cameras.models import CameraSource
from core.settings import IngestSettings
from core.types import CameraHealth, Frame
from ingest.reader import CameraReader, EventSink, HealthSink
from ingest.slot import FrameSlot
from ingest.tamper import TamperConfig


class ReaderPool:
    """Starts, holds and stops the readers of many cameras."""

    def __init__(self, settings: IngestSettings, on_event: EventSink | None = None,
                 on_health: HealthSink | None = None, *, tamper: TamperConfig | None = None,
                 data_dir: Path | None = None) -> None:
        self.settings = settings
        self._on_event = on_event
        self._on_health = on_health
        self._tamper = tamper
        self._data_dir = data_dir
        self._cond = threading.Condition()
        self._readers: dict[int, CameraReader] = {}
        self._started = False

    def add(self, camera: CameraSource) -> CameraReader:
        """Add a camera (started at once when the pool runs); a camera already there is replaced."""
        if camera.id in self._readers:
            self.remove(camera.id)
        reader = CameraReader(camera, self.settings, self._on_event, self._on_health,
                              slot=FrameSlot(camera.id, self._cond), tamper=self._tamper,
                              data_dir=self._data_dir)
        self._readers[camera.id] = reader
        if self._started:
            reader.start()
        return reader

    def remove(self, camera_id: int) -> None:
        reader = self._readers.pop(camera_id, None)
        if reader is not None:
            reader.stop()

    def start(self) -> None:
        self._started = True
        for reader in list(self._readers.values()):
            reader.start()

    def stop(self) -> None:
        """Stop every reader (all asked at once, then awaited)."""
        self._started = False
        readers = list(self._readers.values())
        for reader in readers:
            reader.request_stop()
        deadline = time.monotonic() + self.settings.read_timeout_s + 5
        for reader in readers:
            reader.stop(max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> ReaderPool:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def readers(self) -> dict[int, CameraReader]:
        return dict(self._readers)

    def slot(self, camera_id: int) -> FrameSlot:
        return self._readers[camera_id].slot

    def health(self) -> list[CameraHealth]:
        return [reader.health() for reader in self._readers.values()]

    def wait_frames(self, newer_than: dict[int, int], timeout: float | None = None) -> list[Frame]:
        """The newest frame of every camera that has one above ``newer_than[camera_id]`` (default -1).

        Waits up to ``timeout`` seconds for at least one; returns an empty list when none came.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                frames = []
                for camera_id, reader in self._readers.items():
                    frame = reader.slot.take(newer_than.get(camera_id, -1), timeout=0)
                    if frame is not None:
                        frames.append(frame)
                if frames:
                    return frames
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return []
                self._cond.wait(remaining)
