"""The loop of one camera process: its cameras' feeds, motion gates, trackers, zones, rules, evidence and
previews; detection by request to the vision process (``vision.pipeline.pool``).

For each camera, newest frame first: a shut gate holds the tracks (no detection); an open one copies the
picture into one of the camera's shared buffers and asks the vision process for its boxes. Answers are
finished in frame order (the tracker needs it). At most ``depth`` frames per camera wait for detection
(the vision process sets it, see ``vision.pipeline.pool``); a stale frame is dropped in the feed's slot,
never queued. Results go back without their picture: evidence and previews are written here, where it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from core.settings import Settings
from core.types import Detections, Frame
from vision.engine import CameraSetup, VisionEngine
from vision.pipeline.feeds import Feed, ReportsHealth, StopsAsked
from vision.pipeline.wire import (
    ADD,
    BOXES_TAG,
    DEPTH,
    EVENT,
    HEALTH,
    HEALTHS,
    MIN_DEPTH,
    READY,
    REMOVE,
    REQUEST,
    RESULTS,
    STOP,
    CameraSpec,
    ResultsMode,
    strip_picture,
    summarise,
    unpack_boxes,
)
from vision.preview import PreviewSpec, PreviewWriter

HEALTH_EVERY_S = 1.0


@dataclass
class _Waiting:
    frame: Frame
    reason: str
    seq: int
    buffer: int | None  # index of the shared buffer holding the frame (None: the gate held it)
    crops: list[tuple[int, int, int, int]] | None = None  # region detection: the crops asked for (None: whole)
    ready: bool = False
    detections: Detections | None = None


@dataclass
class HostedCamera:
    """One camera in a camera process: its feed, its shared picture buffers and its frames in flight."""

    spec: CameraSpec
    feed: Feed
    buffers: list[shared_memory.SharedMemory] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    pending: deque[_Waiting] = field(default_factory=deque)
    last: Frame | None = None
    seq: int = 0

    def in_flight(self) -> int:
        return sum(1 for w in self.pending if w.buffer is not None and not w.ready)

    def buffer_for(self, image: np.ndarray) -> int:
        """A free shared buffer big enough for this picture: a new one when none is free (at most ``depth``:
        the caller checked in_flight() < depth) or the free one is too small (the stream's size changed)."""
        if not self.free:
            self.buffers.append(shared_memory.SharedMemory(create=True, size=image.nbytes))
            return len(self.buffers) - 1
        index = self.free.pop()
        if self.buffers[index].size < image.nbytes:
            _unlink(self.buffers[index])
            self.buffers[index] = shared_memory.SharedMemory(create=True, size=image.nbytes)
        return index

    def release_buffers(self) -> None:
        for shm in self.buffers:
            _unlink(shm)
        self.buffers, self.free = [], []


def _unlink(shm: shared_memory.SharedMemory) -> None:
    with contextlib.suppress(OSError):
        shm.close()
        shm.unlink()


class CameraProcess:
    """The loop of one camera process: its cameras' feeds, gates and tails; detection by request."""

    def __init__(self, conn: Connection, settings: Settings, preview: PreviewSpec | None,
                 results: ResultsMode = "full") -> None:
        self.conn, self.settings = conn, settings
        self.full = results == "full"
        self.engine = VisionEngine(None, settings.vision, data_dir=settings.data_dir)
        self.previews = PreviewWriter.from_spec(preview, self.engine.zones_of) if preview is not None else None
        self.cameras: dict[int, HostedCamera] = {}
        self.send_lock = threading.Lock()  # reader threads send events and health too
        self.running = True
        self.depth = MIN_DEPTH
        self._next_health = time.monotonic() + HEALTH_EVERY_S

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(message)

    def run(self) -> None:
        self.send((READY, os.getpid()))
        try:
            while self.running:
                busy = self._messages()
                results: list[Any] = []
                for camera in list(self.cameras.values()):
                    busy |= self._step(camera, results)
                if results:
                    self.send((RESULTS, results))
                if time.monotonic() >= self._next_health:
                    self._send_health()
                if not busy:
                    self.conn.poll(0.002)
        finally:
            for camera in self.cameras.values():  # all asked at once, then each awaited
                if isinstance(camera.feed, StopsAsked):
                    camera.feed.request_stop()
            for camera_id in list(self.cameras):
                self._remove(camera_id)

    # -- messages from the vision process -------------------------------------------------------------
    def _messages(self) -> bool:
        got = False
        while self.running and self.conn.poll(0):
            data = self.conn.recv_bytes()
            got = True
            if data[:1] == BOXES_TAG:
                for camera_id, seq, detections in unpack_boxes(data):
                    self._arrived(camera_id, seq, detections)
                continue
            message = pickle.loads(data)
            kind = message[0]
            if kind == ADD:
                self._add(message[1])
            elif kind == REMOVE:
                self._remove(message[1])
            elif kind == DEPTH:
                self.depth = int(message[1])
            elif kind == STOP:
                self.running = False
        return got

    def _arrived(self, camera_id: int, seq: int, detections: Detections | None) -> None:
        camera = self.cameras.get(camera_id)
        if camera is None:
            return
        for waiting in camera.pending:
            if waiting.seq == seq:
                waiting.ready, waiting.detections = True, detections
                if detections is None:  # the batch failed: finish the frame as held, the gate forgets
                    self.engine.forget(camera_id)
                return

    def _add(self, spec: CameraSpec) -> None:
        self._remove(spec.camera_id)
        feed = spec.feed(spec.source, self.settings, lambda e: self.send((EVENT, e)),
                         lambda h: self.send((HEALTH, h)))
        fps = spec.source.analytics_fps or self.settings.ingest.analytics_fps
        self.engine.add_camera(CameraSetup(spec.camera_id, spec.zones, spec.rules, spec.source.name, fps))
        self.cameras[spec.camera_id] = HostedCamera(spec, feed)
        feed.start()

    def _remove(self, camera_id: int) -> None:
        camera = self.cameras.pop(camera_id, None)
        if camera is None:
            return
        camera.feed.stop()
        camera.release_buffers()
        self.engine.remove_camera(camera_id)
        if self.previews is not None:
            self.previews.forget(camera_id, delete=False)  # the picture stays until the camera moves elsewhere

    # -- one camera: finish what is ready, take the next frame ----------------------------------------
    def _step(self, camera: HostedCamera, results: list[Any]) -> bool:
        busy = False
        while camera.pending and camera.pending[0].ready:  # in frame order: the tracker needs it
            waiting = camera.pending.popleft()
            if waiting.buffer is not None:
                camera.free.append(waiting.buffer)
            result = self.engine.finish(waiting.frame, waiting.reason, waiting.detections, waiting.crops)
            if self.previews is not None:
                self.previews.offer(result)
            results.append(strip_picture(result) if self.full else summarise(result))
            busy = True
        if camera.in_flight() >= self.depth or len(camera.pending) >= 2 * self.depth + 4:
            return busy
        newest = camera.feed.slot.latest()
        if newest is None or newest is camera.last:
            return busy
        frame = camera.feed.slot.take(-1, 0.0) or newest
        camera.last = frame
        decision = self.engine.decide(frame)
        camera.seq += 1
        if not decision.run:
            camera.pending.append(_Waiting(frame, decision.reason, camera.seq, None, ready=True))
            return True
        image = np.ascontiguousarray(frame.image)
        index = camera.buffer_for(image)
        shm = camera.buffers[index]
        np.ndarray(image.shape, np.uint8, buffer=shm.buf)[...] = image
        crops = self.engine.plan(frame, decision)
        camera.pending.append(_Waiting(frame, decision.reason, camera.seq, index, crops))
        self.send((REQUEST, camera.spec.camera_id, camera.seq, shm.name, image.shape, crops))
        return True

    def _send_health(self) -> None:
        self._next_health = time.monotonic() + HEALTH_EVERY_S
        healths = [c.feed.health() for c in self.cameras.values() if isinstance(c.feed, ReportsHealth)]
        if healths:
            self.send((HEALTHS, healths))


def camera_process_main(conn: Connection, settings: Settings, preview: PreviewSpec | None, log_level: str,
                        results: ResultsMode = "full") -> None:
    """Entry point of a spawned camera process."""
    import cv2

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s [camera-proc]: %(message)s")
    cv2.setNumThreads(1)  # the gate's resize is small; the cores are the decoders'
    with contextlib.suppress(EOFError, BrokenPipeError, KeyboardInterrupt):  # the vision process went away
        CameraProcess(conn, settings, preview, results).run()
