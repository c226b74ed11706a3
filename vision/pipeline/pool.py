"""Camera processes: decode, motion gate, tracker, zones, rules and evidence of each camera run in worker
processes; the vision process keeps only what needs the accelerator: batching and detection.

Why: in one process the decode threads, the gate, ByteTrack (~0.8 ms of Python per camera frame) and the
rules share one GIL with the detector's launch, and on a GPU host that single core is the ceiling long
before the GPU is (``docs/benchmarks.md``, "On a GPU host"). Split, each camera process has a core of its
own and the vision process does nothing but fill batches and run them.

::

    vision process (this module)                     camera process k (``vision.pipeline.child``)
    ----------------------------                     ---------------------------------------------
    CameraProcessPool.add_camera(source) ---------->  feed built by the spec's factory (ingest's CameraReader)
    dispatcher thread                                loop over its cameras, newest frame of each:
      (REQUEST, ...) frame in shared memory <-------   gate open: copy into the camera's shared buffer, ask
      FIFO batch of up to max_batch                    gate shut: hold the tracks (no detection)
      detector.detect(views of the buffers)            in frame order: tracker, zones, rules, evidence, preview
      boxes of the batch, one message per process ->
      on_result / on_event / on_health  <---------   results (frames stripped), camera events, health

The messages are ``vision.pipeline.wire``'s. Each camera has at most ``depth`` frames waiting for detection:
two (while one batch runs, the camera's next frame is already decoded, gated and queued), more when there are
fewer cameras than ``max_batch`` so their batches can still fill (``depth = max(2, ceil(max_batch /
cameras))``). Memory is bounded, the FIFO is fair (no camera has more than ``depth`` frames ahead of any
other) and stale frames are dropped in the camera's slot, never queued. A batch runs when ``max_batch``
frames wait, when every camera has ``depth`` waiting, or ``max_wait_ms`` after its first frame came.

A camera process that dies is started again with its cameras (their trackers restart) and the log says why.
Results handed to ``on_result`` carry everything but the picture (``frame.image`` is an empty array): the
evidence JPEGs and live previews are written in the camera process, where the picture is. With
``results="store"`` (the worker's and the benchmark's choice) they carry only what the store and the counts
need: the frame's identity and times, the gate's verdict, events, observations and counter sessions; the
boxes and tracks stay in the camera process.

The vision process's side of the wire is kept cheap, since its one thread also launches every batch: boxes go
back as one packed message per camera process and batch, requests and results are small tuples, and one
selector, kept across calls, waits on every pipe.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import pickle
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any, Self

import numpy as np

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth, Detections
from ingest.reader import EventSink, HealthSink
from vision.detectors.base import Detector
from vision.pipeline.child import camera_process_main
from vision.pipeline.feeds import READ_CAMERA, FeedFactory
from vision.pipeline.wire import (
    ADD,
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
    ResultSink,
    ResultsMode,
    from_summary,
    pack_boxes,
)
from vision.preview import PreviewSpec
from vision.regions import detect_in_regions
from vision.rules.base import Rule

log = logging.getLogger("vigil.vision")

RECEIVE_ROUNDS = 64  # rounds of reading before the dispatcher looks at its batch again


@dataclass
class _Request:
    child: int
    camera_id: int
    seq: int
    image: np.ndarray  # view into the camera's shared buffer
    crops: list[tuple[int, int, int, int]] | None = None  # region detection: detect these crops (None: whole)


class _Child:
    """The vision process's handle on one camera process."""

    def __init__(self, index: int, context: Any, settings: Settings, preview: PreviewSpec | None,
                 results: ResultsMode) -> None:
        self.index = index
        self.cameras: dict[int, CameraSpec] = {}
        self.attached: dict[str, tuple[int, shared_memory.SharedMemory]] = {}
        self.send_lock = threading.Lock()
        self.restarts = 0
        self._context, self._settings, self._preview, self._results = context, settings, preview, results
        self.start()

    def start(self) -> None:
        self.conn, child_conn = self._context.Pipe()
        self.process = self._context.Process(
            target=camera_process_main, name=f"vigil-camera-proc-{self.index}", daemon=True,
            args=(child_conn, self._settings, self._preview, logging.getLevelName(log.getEffectiveLevel()),
                  self._results))
        self.process.start()
        child_conn.close()
        for spec in self.cameras.values():
            self.send((ADD, spec))

    def send(self, message: tuple[Any, ...]) -> bool:
        """A control message (pickled; the camera process tells it from packed boxes by its first byte)."""
        return self.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, data: bytes) -> bool:
        with self.send_lock:
            try:
                self.conn.send_bytes(data)
                return True
            except (OSError, ValueError):  # the process died: the dispatcher restarts it
                return False

    def view(self, camera_id: int, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The picture in a camera's shared buffer (attached once; the camera process owns and unlinks it)."""
        held = self.attached.get(name)
        if held is None:
            held = self.attached[name] = (camera_id, shared_memory.SharedMemory(name=name))
        return np.ndarray(shape, np.uint8, buffer=held[1].buf)

    def detach(self, camera_id: int | None = None) -> None:
        """Unmap the buffers of one camera (None: all); one still in a batch is unmapped when that ends."""
        for name, (owner, shm) in list(self.attached.items()):
            if camera_id is None or owner == camera_id:
                del self.attached[name]
                with contextlib.suppress(BufferError, OSError):
                    shm.close()


class CameraProcessPool:
    """Camera processes around one detector: a ``vision.pipeline.Pipeline``, like the in-process one.

    ``on_result(FrameResult)`` (frame without picture), ``on_event(Event)`` and ``on_health(CameraHealth)``
    are called from the dispatcher thread and must be quick. ``results="store"``: results without boxes,
    tracks, zones and crossings (see the module's notes).
    """

    def __init__(self, settings: Settings, detector: Detector, processes: int, on_result: ResultSink | None = None,
                 on_event: EventSink | None = None, on_health: HealthSink | None = None,
                 preview: PreviewSpec | None = None, results: ResultsMode = "full") -> None:
        if results not in ("full", "store"):
            raise ValueError(f"results must be 'full' or 'store', not {results!r}")
        if processes < 1:
            raise ValueError("a camera process pool needs at least one process")
        self.settings, self.detector, self.processes = settings, detector, processes
        self.on_result, self.on_event, self.on_health = on_result, on_event, on_health
        self.preview, self.results = preview, results
        self.max_batch, self.max_wait_s = settings.vision.max_batch, settings.vision.max_wait_ms / 1000.0
        self.region_mosaic = settings.vision.region_mosaic
        self._context = mp.get_context("spawn")  # never fork a process that holds a CUDA context
        self._children: list[_Child] = []
        self._where: dict[int, int] = {}  # camera id -> child index
        self._healths: dict[int, CameraHealth] = {}
        self._pending: deque[_Request] = deque()
        self._selector = selectors.DefaultSelector()  # every child's pipe, registered once (see _receive)
        self.depth = MIN_DEPTH  # frames per camera waiting for detection at most (see the module's notes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = self.detected_frames = self.errors = 0
        self.served: dict[int, int] = {}

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> Self:
        self._children = [_Child(i, self._context, self.settings, self.preview, self.results)
                          for i in range(self.processes)]
        for child in self._children:
            self._selector.register(child.conn, selectors.EVENT_READ, child)
        self._thread = threading.Thread(target=self._dispatch, name="vision-dispatch", daemon=True)
        self._thread.start()
        log.info("vision: %d camera processes around detector %s", self.processes, self.detector.name)
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        for child in self._children:
            child.send((STOP,))
        deadline = time.monotonic() + timeout_s
        for child in self._children:
            child.process.join(max(0.1, deadline - time.monotonic()))
            if child.process.is_alive():
                log.warning("camera process %d did not stop in time; terminating it", child.index)
                child.process.terminate()
                child.process.join(2)
            child.detach()
            child.conn.close()
        self._selector.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- cameras -------------------------------------------------------------------------------------
    def add_camera(self, source: CameraSource, zones: Sequence[ZoneSpec] = (), rules: Sequence[Rule] = (),
                   feed: FeedFactory = READ_CAMERA) -> None:
        """Start a camera (replacing one of the same id) in the least loaded camera process; ``feed`` builds
        what delivers its frames there."""
        spec = CameraSpec(source, zones, rules, feed)
        self.remove_camera(spec.camera_id)
        child = min(self._children, key=lambda c: (len(c.cameras), c.index))
        child.cameras[spec.camera_id] = spec
        self._where[spec.camera_id] = child.index
        self.served.setdefault(spec.camera_id, 0)
        child.send((ADD, spec))
        self._set_depth()

    def _set_depth(self) -> None:
        depth = max(MIN_DEPTH, -(-self.max_batch // max(1, len(self._where))))
        if depth != self.depth:
            self.depth = depth
            for child in self._children:
                child.send((DEPTH, depth))

    def remove_camera(self, camera_id: int) -> None:
        index = self._where.pop(camera_id, None)
        self._healths.pop(camera_id, None)
        if index is None:
            return
        child = self._children[index]
        child.cameras.pop(camera_id, None)
        child.send((REMOVE, camera_id))
        child.detach(camera_id)  # its requests still queued are dropped by the dispatcher
        self._set_depth()

    def forget_preview(self, camera_id: int) -> None:
        """Delete a camera's live picture (it moved to another worker)."""
        if self.preview is not None:
            self.preview.picture(camera_id).unlink(missing_ok=True)

    def health(self) -> list[CameraHealth]:
        """The newest health of each camera (camera processes send it every second)."""
        return [h for camera_id, h in list(self._healths.items()) if camera_id in self._where]

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self._children)

    # -- the dispatcher thread -----------------------------------------------------------------------
    def _dispatch(self) -> None:
        first_at: float | None = None
        while not self._stop.is_set():
            timeout = 0.1 if not self._pending else max(0.0, (first_at or 0.0) + self.max_wait_s - time.monotonic())
            self._receive(timeout)
            if not self._pending:
                first_at = None
                continue
            if first_at is None:
                first_at = time.monotonic()
            if (len(self._pending) < self.max_batch and len(self._pending) < self.depth * len(self._where)
                    and time.monotonic() - first_at < self.max_wait_s):
                continue  # more frames can still come for this batch
            batch = [self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))]
            first_at = time.monotonic() if self._pending else None
            batch = [r for r in batch if self._where.get(r.camera_id) == r.child]  # not removed meanwhile
            if batch:
                self._detect(batch)

    def _receive(self, timeout: float) -> None:
        """The messages waiting (the first wait up to ``timeout``): one per readable pipe per round, then the
        kept selector again (``Connection.poll`` would build a new selector per call, ~35 us). At most
        ``RECEIVE_ROUNDS`` rounds, so a flood of messages cannot keep the batches from running."""
        for _ in range(RECEIVE_ROUNDS):
            try:
                ready = [key.data for key, _ in self._selector.select(timeout)]
            except OSError:  # a pipe closed under the selector: find it the slow way
                ready = [child for child in self._children if self._readable(child)]
            if not ready:
                return
            timeout = 0.0
            for child in ready:
                try:
                    self._handle(child, child.conn.recv())
                except (EOFError, OSError):
                    self._restart(child)

    def _readable(self, child: _Child) -> bool:
        try:
            return child.conn.poll(0)
        except (EOFError, OSError):
            self._restart(child)
            return False

    def _handle(self, child: _Child, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == REQUEST:
            _, camera_id, seq, name, shape, crops = message
            if self._where.get(camera_id) != child.index:
                return  # removed meanwhile
            try:
                image = child.view(camera_id, name, shape)
            except FileNotFoundError:  # the camera was removed and its buffer unlinked meanwhile
                return
            self._pending.append(_Request(child.index, camera_id, seq, image, crops))
        elif kind == RESULTS:
            if self.on_result is not None:
                full = self.results == "full"
                for result in message[1]:
                    self._call(self.on_result, result if full else from_summary(result))
        elif kind == EVENT:
            if self.on_event is not None:
                self._call(self.on_event, message[1])
        elif kind == HEALTH:
            self._healths[message[1].camera_id] = message[1]
            if self.on_health is not None:
                self._call(self.on_health, message[1])
        elif kind == HEALTHS:
            for health in message[1]:
                self._healths[health.camera_id] = health
        elif kind == READY:
            log.debug("camera process %d: pid %s ready", child.index, message[1])

    def _call(self, sink: Callable[[Any], None], item: object) -> None:
        try:
            sink(item)
        except Exception:
            log.exception("vision: result sink failed")

    def _detect(self, batch: list[_Request]) -> None:
        try:
            found = detect_in_regions(self.detector, [r.image for r in batch], [r.crops for r in batch],
                                      self.region_mosaic)
        except Exception:  # one bad batch (a driver hiccup) must not stop every camera
            self.errors += 1
            log.exception("vision batch of %d frames failed", len(batch))
            self._reply(batch, [None] * len(batch))
            return
        self.batches += 1
        self.detected_frames += len(batch)
        for request in batch:
            self.served[request.camera_id] = self.served.get(request.camera_id, 0) + 1
        self._reply(batch, found)

    def _reply(self, batch: list[_Request], found: Sequence[Detections | None]) -> None:
        """The boxes of a batch, one message per camera process (None: the frame's batch failed)."""
        per_child: dict[int, list[tuple[int, int, Detections | None]]] = {}
        for request, detections in zip(batch, found, strict=True):
            per_child.setdefault(request.child, []).append((request.camera_id, request.seq, detections))
        for index, items in per_child.items():
            self._children[index].send_bytes(pack_boxes(items))

    def _restart(self, child: _Child) -> None:
        """A camera process died (or its pipe broke): say why, drop its requests, start it again."""
        if self._stop.is_set():
            return
        child.process.join(1)
        code = child.process.exitcode
        log.error("camera process %d (cameras %s) died (exit code %s); starting it again",
                  child.index, sorted(child.cameras), code)
        self._pending = deque(r for r in self._pending if r.child != child.index)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(child.conn)
        with contextlib.suppress(OSError):
            child.conn.close()
        child.detach()
        child.restarts += 1
        child.start()
        self._selector.register(child.conn, selectors.EVENT_READ, child)
        child.send((DEPTH, self.depth))
