"""The recorders of the cameras one worker leases, driven by one thread, indexed through one connection.

``add(spec)`` / ``remove(camera_id)`` may be called from any thread (the worker's heartbeat); the pool's own
thread starts and stops the ffmpeg processes (each dies with that thread: ``record.ffmpeg.spawn``), ticks every
recorder every ``index_interval_s`` and inserts the segments that closed in one batch. While the database is
away the segments wait in memory (up to ``max_pending``; older ones beyond that are left to the start-up
reconciliation, which adopts files without rows) and go in when it answers again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.settings import RecordSettings
from core.types import RecordedSegment
from record.index import IndexFactory, SegmentIndex
from record.recorder import CameraRecorder, EventSink, RecorderStatus, RecordingSpec

log = logging.getLogger(__name__)
INDEX_RETRY_S = 2.0
LAG_SAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class PoolStats:
    cameras: int
    segments_indexed: int
    pending: int
    dropped: int
    index_errors: int
    thread_cpu_s: float  # the pool thread's own CPU time (ffmpeg's is its processes')
    lags_s: tuple[float, ...]  # segment closed -> row committed, newest samples


class RecorderPool:
    """Use as a context manager: ``with RecorderPool(...) as pool: pool.add(spec)``."""

    def __init__(self, settings: RecordSettings, data_dir: Path, node: str, index_factory: IndexFactory,
                 on_event: EventSink, *, max_pending: int = 100_000) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.node = node
        self._index_factory = index_factory
        self._on_event = on_event
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._commands: deque[tuple[str, RecordingSpec | int]] = deque()
        self._recorders: dict[int, CameraRecorder] = {}
        self._wanted: dict[int, RecordingSpec] = {}
        self._pending: list[RecordedSegment] = []
        self._index: SegmentIndex | None = None
        self._index_retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._indexed = self._dropped = self._errors = 0
        self._cpu_s = 0.0
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> RecorderPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="recorders", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop every recorder (their last segments are indexed when the database answers) and the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    # -- any thread ----------------------------------------------------------------------------------------
    def add(self, spec: RecordingSpec) -> None:
        """Record this camera (again, with this spec, when it was recorded already with another)."""
        with self._lock:
            if self._wanted.get(spec.source.id) == spec:
                return
            self._wanted[spec.source.id] = spec
            self._commands.append(("add", spec))
        self._wake.set()

    def remove(self, camera_id: int) -> None:
        with self._lock:
            if self._wanted.pop(camera_id, None) is None:
                return
            self._commands.append(("remove", camera_id))
        self._wake.set()

    def cameras(self) -> dict[int, RecordingSpec]:
        """The cameras this pool records (asked for; their recorders may still be starting)."""
        with self._lock:
            return dict(self._wanted)

    def status(self) -> list[RecorderStatus]:
        with self._lock:
            return [recorder.status() for recorder in self._recorders.values()]

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(len(self._recorders), self._indexed, len(self._pending), self._dropped, self._errors,
                             self._cpu_s, tuple(self._lags))

    # -- the pool's thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._apply_commands()
                except Exception:  # a camera that cannot start or stop must not stop the others
                    log.exception("recorders: a start or stop failed")
                for recorder in list(self._recorders.values()):
                    try:
                        self._queue(recorder.tick())
                    except Exception:  # one camera's trouble must not stop the others
                        log.exception("%s: recorder tick failed", recorder.label())
                self._flush()
                self._cpu_s = time.thread_time()
                self._wake.wait(self.settings.index_interval_s)
                self._wake.clear()
        finally:
            self._shutdown()

    def _apply_commands(self) -> None:
        while True:
            with self._lock:
                if not self._commands:
                    return
                action, item = self._commands.popleft()
            if action == "add":
                assert not isinstance(item, int)
                old = self._recorders.get(item.source.id)
                if old is not None and old.spec.source == item.source:
                    old.spec = item  # the mode changed: the recorder records the same way
                    continue
                if old is not None:
                    self._queue(old.stop())
                recorder = CameraRecorder(item, self.settings, self.data_dir, self.node, self._on_event)
                with self._lock:
                    self._recorders[item.source.id] = recorder
                self._queue(recorder.tick())
            else:
                assert isinstance(item, int)
                with self._lock:
                    recorder = self._recorders.get(item)
                if recorder is not None:
                    self._queue(recorder.stop())  # its last segments wait for the index before it leaves status()
                    with self._lock:
                        self._recorders.pop(item, None)
                    log.info("%s: recording stopped here", recorder.label())

    def _shutdown(self) -> None:
        recorders = list(self._recorders.values())
        for recorder in recorders:
            recorder.terminate()  # all at once: each closes its last segment in parallel
        for recorder in recorders:
            self._queue(recorder.stop())
        with self._lock:
            self._recorders.clear()
        deadline = time.monotonic() + 5.0
        while self._pending and time.monotonic() < deadline:
            self._index_retry_at = 0.0
            self._flush()
            if self._pending:
                time.sleep(0.5)
        if self._pending:
            log.warning("recorders: %d segments not indexed at shutdown (the start-up pass adopts their files)",
                        len(self._pending))
        if self._index is not None:
            self._index.close()
            self._index = None

    def _queue(self, segments: list[RecordedSegment]) -> None:
        if not segments:
            return
        with self._lock:
            self._pending.extend(segments)
            excess = len(self._pending) - self._max_pending
            if excess > 0:
                del self._pending[:excess]
                self._dropped += excess

    def _flush(self) -> None:
        if not self._pending or time.monotonic() < self._index_retry_at:
            return
        with self._lock:
            batch = list(self._pending)
        try:
            if self._index is None:
                self._index = self._index_factory()
            self._index.add_segments(batch)
        except Exception as exc:  # the database is away: keep them, try again
            if self._errors == 0 or self._index is not None:
                log.warning("recorders: cannot index %d segments (%s); keeping them", len(batch), exc)
            self._errors += 1
            if self._index is not None:
                with contextlib.suppress(Exception):  # closing a broken connection may fail as well
                    self._index.close()
            self._index = None
            self._index_retry_at = time.monotonic() + INDEX_RETRY_S
            return
        committed = datetime.now(UTC)
        with self._lock:
            del self._pending[:len(batch)]
            self._indexed += len(batch)
            self._lags.extend((committed - s.end).total_seconds() for s in batch)
