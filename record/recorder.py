"""One camera's recorder: ffmpeg copying the main stream into segments, each closed segment indexed, kept alive.

Driven by its pool's thread through ``tick()`` (about once a second):
- while ffmpeg runs, the live playlist is read and every segment of this run that closed since the last tick
  becomes a ``RecordedSegment`` (start = its program date time less how far ffmpeg's clock runs ahead of the
  segment files' close times, so times follow the wall clock even when ffmpeg buffered at start or the camera's
  clock drifts; end = start + its duration);
- ffmpeg that exited (the camera went away, a write failed) or stalled (alive, but no new segment for
  ``stall_s``: killed) is started again after a backoff (``backoff_initial_s`` doubling to ``backoff_max_s``,
  back to the start once segments flow). Every start is a new run with its own id, so the index shows the gap;
  nothing is ever invented to fill it.
Health is told as events: ``recording_stalled`` when the watchdog kills ffmpeg, ``recording_offline`` when
nothing has been recorded for ``offline_grace_s``; each opens at the end of the last recorded segment and
closes when the first new segment starts, so the event spans the gap exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from cameras.models import CameraSource
from core import media
from core.settings import RecordSettings
from core.types import Event, EventType, RecordedSegment, RecordMode, Severity
from record import ffmpeg
from record.playlist import PlaylistEntry, read_playlist

log = logging.getLogger(__name__)
EventSink = Callable[[Event], None]
REANCHOR_S = 1.0  # a camera clock running fast: times re-anchor once the file close times lead by this much
STOP_GRACE_S = 5.0  # ffmpeg closes its last segment on SIGTERM; SIGKILL after this


@dataclass(frozen=True, slots=True)
class RecordingSpec:
    """What to record: the camera's main stream (credentials inside ``source``) and how it is kept."""

    source: CameraSource
    mode: RecordMode = RecordMode.CONTINUOUS


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    camera_id: int
    state: str  # starting | recording | waiting (to restart) | stopped
    runs: int
    stalls: int
    segments: int
    pid: int | None
    last_reason: str | None


class CameraRecorder:
    """Records one camera until ``stop()``; never gives up on it."""

    def __init__(self, spec: RecordingSpec, settings: RecordSettings, data_dir: Path, node: str,
                 emit: EventSink, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.settings = settings
        self.node = node
        self.folder = media.recording_camera_dir(data_dir, spec.source.id)
        self.playlist = media.recording_live_playlist(data_dir, spec.source.id)
        self._emit = emit
        self._clock = clock
        self._secrets = (spec.source.password,)
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: threading.Thread | None = None
        self._tail: deque[str] = deque(maxlen=20)
        self.run_id: str | None = None
        self._run_started = 0.0
        self._run_segments = 0
        self._indexed: set[str] = set()
        self._offset: timedelta | None = None
        self._info: ffmpeg.StreamInfo | None = None
        self._last_progress = 0.0
        self._last_end: datetime | None = None
        self._lost: tuple[datetime, float] | None = (datetime.now(UTC), clock())
        self._loss_event: Event | None = None
        self._next_start = clock()
        self._delay = settings.backoff_initial_s
        self.last_reason: str | None = None
        self.runs = self.stalls = self.segments = 0

    @property
    def camera_id(self) -> int:
        return self.spec.source.id

    def label(self) -> str:
        return self.spec.source.label()

    # -- the pool's thread ---------------------------------------------------------------------------------
    def tick(self) -> list[RecordedSegment]:
        """Index what closed, restart what died or stalled, report health; return the new segments."""
        now = self._clock()
        found: list[RecordedSegment] = []
        if self._process is not None:
            found += self._scan(now)
            code = self._process.poll()
            if code is not None:
                found += self._end_run(now, f"ffmpeg {_describe_exit(code)}")
            elif now - self._last_progress > self._stall_limit():
                self.stalls += 1
                self._kill()
                found += self._end_run(now, f"no new segment for {now - self._last_progress:.0f} s", stalled=True)
        elif now >= self._next_start:
            self._start_run(now)
        self._check_offline(now)
        return found

    def terminate(self) -> None:
        """Ask ffmpeg to finish (it closes the segment it writes and ends the playlist)."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()

    def stop(self) -> list[RecordedSegment]:
        """Stop recording here (lease lost, recording switched off, shutdown); return the last segments."""
        self.terminate()
        found: list[RecordedSegment] = []
        if self._process is not None:
            try:
                self._process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._kill()
            now = self._clock()
            found = self._scan(now)
            self._reap()
        if self._loss_event is not None:  # not recorded here any more: this node's account of it ends
            self._emit(dataclasses.replace(self._loss_event, end=datetime.now(UTC),
                                           attributes={**self._loss_event.attributes, "stopped": True}))
            self._loss_event = None
        self._lost = None
        return found

    def status(self) -> RecorderStatus:
        running = self._process is not None
        state = ("recording" if self._run_segments else "starting") if running else "waiting"
        return RecorderStatus(self.camera_id, state, self.runs, self.stalls, self.segments,
                              self._process.pid if self._process is not None else None, self.last_reason)

    # -- runs ----------------------------------------------------------------------------------------------
    def _start_run(self, now: float) -> None:
        self.run_id = secrets.token_hex(4)
        self._run_started = self._last_progress = now
        self._run_segments = 0
        self._indexed = set()
        self._offset, self._info = None, None
        self._tail.clear()
        command = ffmpeg.record_command(self.settings, self.spec.source.open_uri, self.run_id)
        try:
            self._process = ffmpeg.spawn(command, self.folder)
        except OSError as exc:  # no ffmpeg, no folder: try again later, say why
            self._process = None
            self._failed(now, f"cannot start ffmpeg: {ffmpeg.scrub(str(exc), self._secrets)}")
            return
        self.runs += 1
        assert self._process.stderr is not None
        self._stderr = threading.Thread(target=_read_stderr, args=(self._process.stderr, self._tail, self._secrets,
                                                                    self.label()),
                                        name=f"recorder-{self.camera_id}-stderr", daemon=True)
        self._stderr.start()
        log.info("%s: recording %s (run %s)", self.label(), self.spec.source.display_uri, self.run_id)

    def _end_run(self, now: float, why: str, stalled: bool = False) -> list[RecordedSegment]:
        found = self._scan(now)  # what ffmpeg listed while it finished
        self._reap()
        detail = self._tail[-1] if self._tail else ""
        reason = f"{why}: {detail}" if detail and not stalled else why
        had_segments = self._run_segments > 0
        if had_segments:
            self._delay = self.settings.backoff_initial_s
        self._failed(now, reason)
        if stalled and self._loss_event is None:
            assert self._lost is not None
            self._open_loss(EventType.RECORDING_STALLED, {"reason": reason, "stall_s": self.settings.stall_s})
        return found

    def _failed(self, now: float, reason: str) -> None:
        self.last_reason = reason
        if self._lost is None:
            self._lost = (self._last_end or datetime.now(UTC), now)
        self._next_start = now + self._delay
        log.warning("%s: recording stopped (%s); restarting in %.1f s", self.label(), reason, self._delay)
        self._delay = min(self._delay * 2, self.settings.backoff_max_s)

    def _stall_limit(self) -> float:
        # The first segment also waits for the connection and a key frame or two.
        return self.settings.stall_s + (0 if self._run_segments else 2 * self.settings.io_timeout_s)

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(STOP_GRACE_S)

    def _reap(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(STOP_GRACE_S)
        if self._stderr is not None:
            self._stderr.join(2.0)
        self._process, self._stderr = None, None

    # -- indexing ------------------------------------------------------------------------------------------
    def _scan(self, now: float) -> list[RecordedSegment]:
        playlist = read_playlist(self.playlist)
        if playlist is None or self.run_id is None:
            return []
        marker = f"-{self.run_id}-"
        found = []
        # Only names still in ffmpeg's sliding live playlist can come back: forget the rest (a run of days would
        # otherwise keep every segment name it ever indexed; the soak found it growing).
        self._indexed &= {entry.uri for entry in playlist.entries}
        for entry in playlist.entries:
            if marker not in entry.uri or entry.uri in self._indexed:
                continue
            self._indexed.add(entry.uri)
            segment = self._segment(entry)
            if segment is not None:
                found.append(segment)
        if found:
            self._progress(now, found)
        return found

    def _segment(self, entry: PlaylistEntry) -> RecordedSegment | None:
        if entry.uri.startswith("/") or ".." in entry.uri:
            return None  # ffmpeg lists names inside the camera folder only
        path = self.folder / entry.uri
        try:
            stat = path.stat()
        except FileNotFoundError:
            log.warning("%s: segment %s listed but not on disk", self.label(), entry.uri)
            return None
        if self._info is None:
            self._info = ffmpeg.probe(self.settings.ffprobe, path) or ffmpeg.StreamInfo(None, None, None, None)
        duration = timedelta(seconds=entry.duration_s)
        closed = datetime.fromtimestamp(stat.st_mtime, UTC)
        if entry.program_time is None:
            start = closed - duration
        else:
            # A file is written when its last frame arrived or later, never earlier: the largest lead of the
            # program date time over the close time is the best estimate of how late ffmpeg's clock runs.
            drift = entry.program_time + duration - closed
            if self._offset is None or drift > self._offset or (self._offset - drift).total_seconds() > REANCHOR_S:
                self._offset = drift
            start = entry.program_time - self._offset
        assert self.run_id is not None
        return RecordedSegment(self.camera_id, start, start + duration, media.recording_path(self.camera_id, entry.uri),
                               stat.st_size, self.node, self.run_id, self._info.codec, self._info.width,
                               self._info.height)

    def _progress(self, now: float, found: list[RecordedSegment]) -> None:
        self._last_progress = now
        self._run_segments += len(found)
        self.segments += len(found)
        self._last_end = found[-1].end
        if self._lost is not None:
            if self._loss_event is not None:
                event = self._loss_event
                self._emit(dataclasses.replace(event, end=max(found[0].start, event.start)))
                log.info("%s: recording again after %.0f s", self.label(),
                         (found[0].start - event.start).total_seconds())
            self._lost, self._loss_event = None, None

    # -- health --------------------------------------------------------------------------------------------
    def _check_offline(self, now: float) -> None:
        if self._lost is None or self._loss_event is not None:
            return
        if now - self._lost[1] >= self.settings.offline_grace_s:
            self._open_loss(EventType.RECORDING_OFFLINE, {"reason": self.last_reason or "not recording yet"})

    def _open_loss(self, kind: EventType, attributes: dict[str, object]) -> None:
        assert self._lost is not None
        event = Event(kind, self.camera_id, start=self._lost[0], severity=Severity.HIGH,
                      site_id=self.spec.source.site_id,
                      attributes={**attributes, "uri": self.spec.source.display_uri, "node": self.node})
        self._loss_event = event
        log.warning("%s: %s (%s)", self.label(), kind, attributes.get("reason"))
        self._emit(event)


def _read_stderr(pipe: IO[bytes], tail: deque[str], secrets_: tuple[str | None, ...], label: str) -> None:
    """Drain ffmpeg's messages (a full pipe would block it), scrubbed of credentials before anyone sees them."""
    with contextlib.suppress(ValueError, OSError):
        for raw in iter(pipe.readline, b""):
            line = ffmpeg.scrub(raw.decode("utf-8", errors="replace"), secrets_)
            if line:
                tail.append(line)
                log.debug("%s: ffmpeg: %s", label, line)
    with contextlib.suppress(OSError):
        pipe.close()


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with code {code}"
