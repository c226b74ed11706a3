"""Camera processes: decode, motion gate, tracker, zones, rules and evidence of each camera run in worker
processes; the vision process keeps only what needs the accelerator: batching and detection.

Why: in one process the decode threads, the gate, ByteTrack (~0.8 ms of Python per camera frame) and the
rules share one GIL with the detector's launch, and on a GPU host that single core is the ceiling long
before the GPU is (``docs/benchmarks.md``, "On a GPU host"). Split, each camera process has a core of its
own and the vision process does nothing but fill batches and run them.

::

    vision process                                   camera process k (spawned, one of vision.camera_processes)
    --------------                                   ---------------------------------------------------------
    CameraProcessPool.add_camera(spec)  ---------->  feed: ingest's CameraReader (or a bench file camera)
    dispatcher thread                                loop over its cameras, newest frame of each:
      ("req", ...) frame in shared memory  <-------    gate open: copy into the camera's shared buffer, ask
      FIFO batch of up to max_batch                    gate shut: hold the tracks (no detection)
      detector.detect(views of the buffers)            in frame order: tracker, zones, rules, evidence, preview
      boxes of the batch, one message per process ->
      on_result / on_event / on_health  <---------   results (frames stripped), camera events, health

Each camera has at most ``depth`` frames waiting for detection: two (while one batch runs, the camera's next
frame is already decoded, gated and queued), more when there are fewer cameras than ``max_batch`` so their
batches can still fill (``depth = max(2, ceil(max_batch / cameras))``). Memory is bounded, the FIFO is fair
(no camera has more than ``depth`` frames ahead of any other) and stale frames are dropped in the camera's
slot, never queued. A batch runs when ``max_batch`` frames wait, when every camera has ``depth`` waiting,
or ``max_wait_ms`` after its first frame came.

A camera process that dies is started again with its cameras (their trackers restart) and the log says why.
Results handed to ``on_result`` carry everything but the picture (``frame.image`` is an empty array): the
evidence JPEGs and live previews are written in the camera process, where the picture is. With
``results="store"`` (the worker's and the benchmark's choice) they carry only what the store and the counts
need: the frame's identity and times, the gate's verdict, events, observations and counter sessions; the
boxes and tracks stay in the camera process. Unpickling a whole result (its numpy arrays) cost the vision
process ~45 us per frame, a third of its own work per frame when the detector is fast.

The vision process's side of the wire is kept cheap, since its one thread also launches every batch: boxes go
back as one packed float32 message per camera process and batch (``_pack_boxes``), requests and results are
small tuples, and one selector, kept across calls, waits on every pipe.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import selectors
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth, Detections, Event, Frame
from vision.engine import FrameResult

log = logging.getLogger("vigil.vision")

MIN_DEPTH = 2  # frames per camera waiting for detection at most, when there are cameras enough to fill batches
NO_IMAGE = np.empty((0, 0, 3), dtype=np.uint8)  # results crossing back to the vision process carry no picture
HEALTH_EVERY_S = 1.0
RECEIVE_ROUNDS = 64  # rounds of reading before the dispatcher looks at its batch again
ResultsMode = Literal["full", "store"]

# Boxes to a camera process: b"D", the count of frames, then per frame its camera id, sequence number and box
# count (-1: the batch failed) followed by that many rows of x1, y1, x2, y2, confidence, class (float32).
_BOXES_TAG = b"D"
_COUNT = struct.Struct("<I")
_FRAME = struct.Struct("<qqi")


def _pack_boxes(items: Sequence[tuple[int, int, Detections | None]]) -> bytes:
    parts = [_BOXES_TAG, _COUNT.pack(len(items))]
    for camera_id, seq, found in items:
        if found is None:
            parts.append(_FRAME.pack(camera_id, seq, -1))
            continue
        parts.append(_FRAME.pack(camera_id, seq, len(found)))
        rows = np.empty((len(found), 6), np.float32)
        rows[:, :4], rows[:, 4], rows[:, 5] = found.xyxy, found.confidence, found.class_id
        parts.append(rows.tobytes())
    return b"".join(parts)


def _unpack_boxes(data: bytes) -> list[tuple[int, int, Detections | None]]:
    (count,), offset, out = _COUNT.unpack_from(data, 1), 1 + _COUNT.size, []
    for _ in range(count):
        camera_id, seq, n = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        if n < 0:
            out.append((camera_id, seq, None))
            continue
        rows = np.frombuffer(data, np.float32, n * 6, offset).reshape(n, 6)
        offset += rows.nbytes
        out.append((camera_id, seq, Detections(rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int16))))
    return out


def default_processes(device: str, cameras: int | None = None) -> int:
    """``vision.camera_processes`` = -1 (auto): none on a CPU (the cores are the detector's), on an
    accelerator one per core but one, at most one per camera."""
    if not device.startswith("cuda"):
        return 0
    count = max(1, (os.cpu_count() or 2) - 1)
    return min(count, cameras) if cameras else count


@dataclass
class CameraSpec:
    """One camera as a camera process needs it (picklable)."""

    camera_id: int
    source: CameraSource | None = None  # ingest's CameraReader reads it (the live path)
    bench_clip: Path | None = None  # or: the benchmark's on-demand file camera (bench.vision.BenchCamera)
    zones: Sequence[ZoneSpec] = ()
    rules: Sequence[Any] = ()
    name: str = ""


# ---------------------------------------------------------------------------------------------------------
# the camera process
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Waiting:
    frame: Frame
    reason: str
    seq: int
    buffer: int | None  # index of the shared buffer holding the frame (None: the gate held it)
    ready: bool = False
    detections: Detections | None = None


@dataclass
class _HostedCamera:
    spec: CameraSpec
    feed: Any  # has .slot (a FrameSlot), .start(), .stop()
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


class _CameraProcess:
    """The loop of one camera process: its cameras' feeds, gates and tails; detection by request."""

    def __init__(self, conn: Connection, settings: Settings, preview: Any, results: ResultsMode = "full") -> None:
        from vision.engine import VisionEngine
        from vision.preview import PreviewWriter

        self.conn, self.settings = conn, settings
        self.full = results == "full"
        self.engine = VisionEngine(None, settings.vision, data_dir=settings.data_dir)
        self.previews = PreviewWriter.from_spec(preview, self.engine.zones_of) if preview is not None else None
        self.cameras: dict[int, _HostedCamera] = {}
        self.send_lock = threading.Lock()  # reader threads send events and health too
        self.running = True
        self.depth = MIN_DEPTH
        self._next_health = time.monotonic() + HEALTH_EVERY_S

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(message)

    def run(self) -> None:
        self.send(("ready", os.getpid()))
        try:
            while self.running:
                busy = self._messages()
                results = []
                for camera in list(self.cameras.values()):
                    busy |= self._step(camera, results)
                if results:
                    self.send(("res", results))
                if time.monotonic() >= self._next_health:
                    self._send_health()
                if not busy:
                    self.conn.poll(0.002)
        finally:
            for camera in self.cameras.values():  # all asked at once, then each awaited
                getattr(camera.feed, "request_stop", lambda: None)()
            for camera_id in list(self.cameras):
                self._remove(camera_id)

    # -- messages from the vision process -------------------------------------------------------------
    def _messages(self) -> bool:
        got = False
        while self.running and self.conn.poll(0):
            data = self.conn.recv_bytes()
            got = True
            if data[:1] == _BOXES_TAG:
                for camera_id, seq, detections in _unpack_boxes(data):
                    self._arrived(camera_id, seq, detections)
                continue
            message = pickle.loads(data)
            kind = message[0]
            if kind == "add":
                self._add(message[1])
            elif kind == "remove":
                self._remove(message[1])
            elif kind == "depth":
                self.depth = int(message[1])
            elif kind == "stop":
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
        from vision.engine import CameraSetup

        self._remove(spec.camera_id)
        if spec.bench_clip is not None:
            from bench.vision import BenchCamera
            from ingest.decode import choose_decoder

            feed: Any = BenchCamera(spec.camera_id, spec.bench_clip, choose_decoder(self.settings.ingest.decode))
        else:
            from ingest.reader import CameraReader

            assert spec.source is not None
            feed = CameraReader(spec.source, self.settings.ingest, lambda e: self.send(("event", e)),
                                lambda h: self.send(("health", h)),
                                data_dir=self.settings.data_dir)
        self.engine.add_camera(CameraSetup(spec.camera_id, spec.zones, spec.rules, spec.name))
        self.cameras[spec.camera_id] = _HostedCamera(spec, feed)
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
    def _step(self, camera: _HostedCamera, results: list[Any]) -> bool:
        busy = False
        while camera.pending and camera.pending[0].ready:  # in frame order: the tracker needs it
            waiting = camera.pending.popleft()
            if waiting.buffer is not None:
                camera.free.append(waiting.buffer)
            result = self.engine.finish(waiting.frame, waiting.reason, waiting.detections)
            if self.previews is not None:
                self.previews.offer(result)
            results.append(_strip(result) if self.full else _summary(result))
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
        camera.pending.append(_Waiting(frame, decision.reason, camera.seq, index))
        self.send(("req", camera.spec.camera_id, camera.seq, shm.name, image.shape))
        return True

    def _send_health(self) -> None:
        self._next_health = time.monotonic() + HEALTH_EVERY_S
        healths = [c.feed.health() for c in self.cameras.values() if hasattr(c.feed, "health")]
        if healths:
            self.send(("healths", healths))


def _strip(result: Any) -> Any:
    """The result without its picture (it stays in this process)."""
    return replace(result, frame=replace(result.frame, image=NO_IMAGE))


def _summary(result: Any) -> tuple[Any, ...]:
    """What the store and the counts need of a result, as a plain tuple (cheap to pickle both ways)."""
    frame = result.frame
    return (frame.camera_id, frame.index, frame.captured_at, frame.pts_s, result.done_at, result.detected,
            result.gate, result.events or None, result.observations or None, result.sessions or None)


def _from_summary(summary: tuple[Any, ...]) -> FrameResult:
    camera_id, index, captured_at, pts_s, done_at, detected, gate, events, observations, sessions = summary
    return FrameResult(Frame(camera_id, NO_IMAGE, captured_at, index, pts_s), _NO_BOXES, [], {}, [], detected, gate,
                       events or [], observations or [], sessions or [], done_at)


_NO_BOXES = Detections.empty()  # shared by every store-mode result: nobody writes into it


def _camera_process_main(conn: Connection, settings: Settings, preview: Any, log_level: str,
                         results: ResultsMode = "full") -> None:
    """Entry point of a spawned camera process."""
    import cv2

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s [camera-proc]: %(message)s")
    cv2.setNumThreads(1)  # the gate's resize is small; the cores are the decoders'
    with contextlib.suppress(EOFError, BrokenPipeError, KeyboardInterrupt):  # the vision process went away
        _CameraProcess(conn, settings, preview, results).run()


# ---------------------------------------------------------------------------------------------------------
# the vision process side
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Request:
    child: int
    camera_id: int
    seq: int
    image: np.ndarray  # view into the camera's shared buffer


class _Child:
    """The vision process's handle on one camera process."""

    def __init__(self, index: int, context: Any, settings: Settings, preview: Any, results: ResultsMode) -> None:
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
            target=_camera_process_main, name=f"vigil-camera-proc-{self.index}", daemon=True,
            args=(child_conn, self._settings, self._preview, logging.getLevelName(log.getEffectiveLevel()),
                  self._results))
        self.process.start()
        child_conn.close()
        for spec in self.cameras.values():
            self.send(("add", spec))

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
    """Camera processes around one detector; the same face as ``vision.live.LiveVision``'s in-process path.

    ``on_result(FrameResult)`` (frame without picture), ``on_event(Event)`` and ``on_health(CameraHealth)``
    are called from the dispatcher thread and must be quick. ``results="store"``: results without boxes,
    tracks, zones and crossings (see the module's notes).
    """

    def __init__(self, settings: Settings, detector: Any, processes: int,
                 on_result: Callable[[Any], None] | None = None, on_event: Callable[[Event], None] | None = None,
                 on_health: Callable[[CameraHealth], None] | None = None, preview: Any = None,
                 results: ResultsMode = "full") -> None:
        if results not in ("full", "store"):
            raise ValueError(f"results must be 'full' or 'store', not {results!r}")
        if processes < 1:
            raise ValueError("a camera process pool needs at least one process")
        self.settings, self.detector, self.processes = settings, detector, processes
        self.on_result, self.on_event, self.on_health = on_result, on_event, on_health
        self.preview, self.results = preview, results
        self.max_batch, self.max_wait_s = settings.vision.max_batch, settings.vision.max_wait_ms / 1000.0
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
    def start(self) -> CameraProcessPool:
        self._children = [_Child(i, self._context, self.settings, self.preview, self.results)
                          for i in range(self.processes)]
        for child in self._children:
            self._selector.register(child.conn, selectors.EVENT_READ, child)
        self._thread = threading.Thread(target=self._dispatch, name="vision-dispatch", daemon=True)
        self._thread.start()
        log.info("vision: %d camera processes around detector %s", self.processes,
                 getattr(self.detector, "name", "?"))
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        for child in self._children:
            child.send(("stop",))
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

    def __enter__(self) -> CameraProcessPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- cameras -------------------------------------------------------------------------------------
    def add_camera(self, spec: CameraSpec) -> None:
        """Start a camera (replacing one of the same id) in the least loaded camera process."""
        self.remove_camera(spec.camera_id)
        child = min(self._children, key=lambda c: (len(c.cameras), c.index))
        child.cameras[spec.camera_id] = spec
        self._where[spec.camera_id] = child.index
        self.served.setdefault(spec.camera_id, 0)
        child.send(("add", spec))
        self._set_depth()

    def _set_depth(self) -> None:
        depth = max(MIN_DEPTH, -(-self.max_batch // max(1, len(self._where))))
        if depth != self.depth:
            self.depth = depth
            for child in self._children:
                child.send(("depth", depth))

    def remove_camera(self, camera_id: int) -> None:
        index = self._where.pop(camera_id, None)
        self._healths.pop(camera_id, None)
        if index is None:
            return
        child = self._children[index]
        child.cameras.pop(camera_id, None)
        child.send(("remove", camera_id))
        child.detach(camera_id)  # its requests still queued are dropped by the dispatcher
        self._set_depth()

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
        if kind == "req":
            _, camera_id, seq, name, shape = message
            if self._where.get(camera_id) != child.index:
                return  # removed meanwhile
            try:
                image = child.view(camera_id, name, shape)
            except FileNotFoundError:  # the camera was removed and its buffer unlinked meanwhile
                return
            self._pending.append(_Request(child.index, camera_id, seq, image))
        elif kind == "res":
            if self.on_result is not None:
                full = self.results == "full"
                for result in message[1]:
                    self._call(self.on_result, result if full else _from_summary(result))
        elif kind == "event":
            if self.on_event is not None:
                self._call(self.on_event, message[1])
        elif kind == "health":
            self._healths[message[1].camera_id] = message[1]
            if self.on_health is not None:
                self._call(self.on_health, message[1])
        elif kind == "healths":
            for health in message[1]:
                self._healths[health.camera_id] = health
        elif kind == "ready":
            log.debug("camera process %d: pid %s ready", child.index, message[1])

    def _call(self, sink: Callable[[Any], None], item: Any) -> None:
        try:
            sink(item)
        except Exception:
            log.exception("vision: result sink failed")

    def _detect(self, batch: list[_Request]) -> None:
        try:
            found = self.detector.detect([r.image for r in batch])
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
            self._children[index].send_bytes(_pack_boxes(items))

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
        child.send(("depth", self.depth))
