"""Batch scheduler: the newest frame of every camera that has one, up to max_batch or max_wait_ms.

Cameras deliver into ingest's latest-frame slots (``ingest.slot.FrameSlot``, one frame each: a new frame
replaces an unread one, which is how the pipeline keeps up under load: it drops stale frames instead of
building latency, and memory is bounded by one frame per camera). The scheduler visits the cameras
round-robin, starting after the last camera it served, so with more cameras than ``max_batch`` every
camera is served within ceil(cameras / max_batch) batches: none starves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from core.types import Frame


class FrameSource(Protocol):
    """A camera's latest-frame slot as the scheduler reads it (``ingest.slot.FrameSlot``)."""

    def latest(self) -> Frame | None:
        """The newest frame, taken or not, without waiting."""
        ...

    def take(self, newer_than_index: int = -1, timeout: float | None = 0.0) -> Frame | None:
        """The newest frame (marking it taken)."""
        ...


class BatchScheduler:
    """Collects batches of frames across cameras for one detector.

    ``collect()`` returns as soon as ``max_batch`` frames are in hand or every camera has given one, or
    ``max_wait_ms`` after the first frame of the batch arrived, or an empty list after ``idle_timeout_s``
    with no frame at all.
    """

    def __init__(self, max_batch: int = 8, max_wait_ms: float = 30.0, poll_s: float = 0.002) -> None:
        self.max_batch, self.max_wait_s, self.poll_s = max_batch, max_wait_ms / 1000.0, poll_s
        self._sources: dict[int, FrameSource] = {}
        self._order: list[int] = []
        self._next = 0  # index in _order where the next visit starts
        self._lock = threading.Lock()
        self.served: dict[int, int] = {}
        self._handed: dict[int, Frame] = {}  # the frame last handed out per camera

    def _fresh(self, camera_id: int, source: FrameSource) -> Frame | None:
        """The camera's newest frame when it is not the one handed out last time (by identity: a looping
        file restarts its frame index)."""
        newest = source.latest()
        if newest is None or newest is self._handed.get(camera_id):
            return None
        frame = source.take(-1, 0.0) or newest
        self._handed[camera_id] = frame
        return frame

    def add(self, camera_id: int, source: FrameSource) -> None:
        with self._lock:
            if camera_id not in self._sources:
                self._order.append(camera_id)
            self._sources[camera_id] = source
            self.served.setdefault(camera_id, 0)

    def add_all(self, sources: Iterable[tuple[int, FrameSource]]) -> None:
        for camera_id, source in sources:
            self.add(camera_id, source)

    def remove(self, camera_id: int) -> None:
        with self._lock:
            self._sources.pop(camera_id, None)
            self._handed.pop(camera_id, None)
            if camera_id in self._order:
                self._order.remove(camera_id)
                self._next = self._next % len(self._order) if self._order else 0

    @property
    def cameras(self) -> int:
        return len(self._order)

    def _visit(self, batch: list[Frame], taken: set[int]) -> None:
        """One round-robin pass over the cameras not yet in this batch."""
        with self._lock:
            order, start, sources = list(self._order), self._next, dict(self._sources)
        n = len(order)
        for step in range(n):
            if len(batch) >= self.max_batch:
                break
            camera_id = order[(start + step) % n]
            if camera_id in taken or camera_id not in sources:
                continue
            frame = self._fresh(camera_id, sources[camera_id])
            if frame is None:
                continue
            batch.append(frame)
            taken.add(camera_id)
            self.served[camera_id] = self.served.get(camera_id, 0) + 1
            with self._lock:  # the next pass starts after the last camera served
                self._next = (start + step + 1) % n

    def collect(self, idle_timeout_s: float = 0.5, stop: Callable[[], bool] | None = None) -> list[Frame]:
        """The next batch (one frame per camera at most), or [] when nothing came within idle_timeout_s."""
        batch: list[Frame] = []
        taken: set[int] = set()
        deadline = time.monotonic() + idle_timeout_s
        first_at: float | None = None
        while True:
            self._visit(batch, taken)
            now = time.monotonic()
            if batch and first_at is None:
                first_at = now
            if len(batch) >= self.max_batch or len(taken) >= self.cameras:
                return batch
            if first_at is not None and now - first_at >= self.max_wait_s:
                return batch
            if (first_at is None and now >= deadline) or (stop is not None and stop()):
                return batch
            time.sleep(self.poll_s)
