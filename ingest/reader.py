"""One reader per camera: decode, sample to the analytics rate, reconnect forever, report health and tamper.

Usage (the worker process owns the reader and connects the sinks to the store writer)::

    reader = CameraReader(CameraSource.from_rtsp(3, "rtsp://..."), settings.ingest,
                          on_event=writer.add_event, on_health=writer.add_health,
                          data_dir=settings.data_dir)
    reader.start()
    frame = reader.slot.take(newer_than_index=last, timeout=1.0)   # core.types.Frame or None
    reader.stop()

The reader runs in a thread of its own (PyAV releases the GIL while it decodes) plus a small watchdog
thread. Lifecycle of a camera: ``starting`` -> ``online`` (frames flow; ``tamper`` while a tamper alarm
is open) -> ``reconnecting`` when the stream breaks, stalls or ends -> ``offline`` once it has been
lost for ``offline_grace_s`` (a ``camera_offline`` event opens) -> ``online`` again (the offline event
closes and a ``camera_online`` event is sent). Reopen attempts wait a capped exponential backoff with
jitter. A stream that stops sending without closing is cut by the read timeout (``min(read_timeout_s,
watchdog_s / 2)``); one that sends packets but yields no picture for ``watchdog_s`` is cut by the watchdog.
Sinks are called from the reader's threads and must be quick; their exceptions are logged, never raised.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import av

from cameras.models import CameraSource
from core import media
from core.settings import IngestSettings
from core.types import CameraHealth, CameraState, Event, EventType, Frame, Severity
from ingest.decode import Decoder, OpenedStream, choose_decoder, describe_error, open_stream, to_bgr
from ingest.health import RateWindow
from ingest.slot import FrameSlot
from ingest.tamper import TamperConfig, TamperDetector
from ingest.timing import Backoff, Sampler

log = logging.getLogger(__name__)
EventSink = Callable[[Event], None]
HealthSink = Callable[[CameraHealth], None]
MAX_CONSECUTIVE_DECODE_ERRORS = 50


class StreamStalled(RuntimeError):
    """Packets arrive but no picture has been decoded for the watchdog period."""


class CameraReader:
    """Reads one camera into ``self.slot`` until ``stop()``; never gives up on a stream."""

    def __init__(self, camera: CameraSource, settings: IngestSettings, on_event: EventSink | None = None,
                 on_health: HealthSink | None = None, *, slot: FrameSlot | None = None,
                 tamper: TamperConfig | None = None, data_dir: Path | None = None) -> None:
        self.camera = camera
        self.settings = settings
        self.slot = slot or FrameSlot(camera.id)
        self.decoder: Decoder = choose_decoder(settings.decode)
        self._on_event = on_event
        self._on_health = on_health
        self._data_dir = data_dir  # tamper pictures go under it (core.media); None: none are kept
        self._tamper = TamperDetector(tamper or TamperConfig(**settings.tamper.model_dump()))
        self._tamper_events: dict[str, Event] = {}
        self._fps = camera.analytics_fps or settings.analytics_fps
        self._sampler = Sampler(self._fps)
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self.state = CameraState.STARTING
        self.decode_errors = 0
        self.reconnects = 0
        self.decoded_frames = 0
        self.ended = False  # a file camera without loop reached its end
        self.last_error: str | None = None
        self._index = 0
        self._size: tuple[int, int] | None = None
        self._ever_online = False
        self._session_no = 0
        self._online_session = -1
        self._last_frame_mono: float | None = None
        self._lost_since: tuple[datetime, float] | None = (datetime.now(UTC), time.monotonic())
        self._offline_event: Event | None = None
        self._decoded_rate = RateWindow()
        self._analytics_rate = RateWindow()
        self._pace_origin: float | None = None
        self._pace_last: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        name = f"reader-{self.camera.id}"
        self._threads = [threading.Thread(target=self._run, name=name, daemon=True),
                         threading.Thread(target=self._watch, name=f"{name}-watchdog", daemon=True)]
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Ask the threads to end (``stop`` waits for them); lets a pool stop many readers at once."""
        self._stop.set()

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop reading and wait for the threads (at most the read timeout plus a margin)."""
        self._stop.set()
        limit = timeout_s if timeout_s is not None else self.settings.read_timeout_s + 5
        deadline = time.monotonic() + limit
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            log.warning("%s: reader did not stop within %.1f s", self.camera.label(), limit)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def __enter__(self) -> CameraReader:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- health ----------------------------------------------------------------------------------------
    def health(self) -> CameraHealth:
        """A snapshot of this camera's health now."""
        now = time.monotonic()
        with self._lock:
            age = None if self._last_frame_mono is None else now - self._last_frame_mono
            width, height = self._size or (None, None)
            return CameraHealth(time=datetime.now(UTC), camera_id=self.camera.id, state=self.state,
                                input_fps=round(self._decoded_rate.rate(now), 3),
                                analytics_fps=round(self._analytics_rate.rate(now), 3),
                                decode_errors=self.decode_errors, reconnects=self.reconnects,
                                last_frame_age_s=None if age is None else round(age, 3), width=width, height=height)

    # -- the reading thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(self.settings.backoff_initial_s, self.settings.backoff_max_s)
        while not self._stop.is_set():
            frames_before = self.decoded_frames
            try:
                self._session()
                reason = "end of stream"
            except Exception as exc:  # every failure means: reconnect
                reason = describe_error(exc, [self.camera.password])
            if self._stop.is_set() or self.ended:
                break
            if self.decoded_frames > frames_before:
                backoff.reset()
            self._mark_lost(reason)
            self._stop.wait(backoff.next())
        with self._lock:
            if self.ended:
                self._set_state(CameraState.OFFLINE)

    def _session(self) -> None:
        # Half the watchdog: on a timeout FFmpeg's RTSP demuxer first hands out the frame it held back,
        # and only the next read fails, so a stall is seen after two read timeouts.
        stream = open_stream(self.camera, self.settings.open_timeout_s,
                             min(self.settings.read_timeout_s, self.settings.watchdog_s / 2), self.decoder)
        if stream.decoder != self.decoder:
            self.decoder = stream.decoder
        self._session_no += 1
        try:
            self._sampler.reset()
            self._pace_origin = None
            self._tamper.reset_stream()
            session_start = time.monotonic()
            while not self._stop.is_set():
                self._read_until_end(stream, session_start)
                if not self.camera.is_file or self._stop.is_set():
                    return
                if not self.camera.loop:
                    self.ended = True
                    return
                stream.container.seek(0)
                self._sampler.reset()
        except Exception as exc:
            # Before closing: an RTSP TEARDOWN may wait a timeout.
            self._mark_lost(describe_error(exc, [self.camera.password]))
            raise
        finally:
            stream.close()

    def _read_until_end(self, stream: OpenedStream, session_start: float) -> None:
        consecutive_errors = 0
        watchdog = self.settings.watchdog_s
        for packet in stream.container.demux(stream.stream):
            if self._stop.is_set():
                return
            try:
                frames = packet.decode()
                consecutive_errors = 0
            except av.error.InvalidDataError:
                with self._lock:
                    self.decode_errors += 1
                consecutive_errors += 1
                if consecutive_errors > MAX_CONSECUTIVE_DECODE_ERRORS:
                    raise
                frames = []
            for frame in frames:
                self._on_frame(frame)
            last = self._last_frame_mono or session_start
            if time.monotonic() - max(last, session_start) > watchdog:
                raise StreamStalled(f"no picture decoded for {watchdog:g} s")

    def _on_frame(self, frame: av.VideoFrame) -> None:
        now = time.monotonic()
        if getattr(frame, "is_corrupt", False):
            with self._lock:
                self.decode_errors += 1
        stream_t = frame.time if frame.time is not None else now
        if self.camera.is_file and self.camera.realtime:
            self._pace(stream_t)
            now = time.monotonic()
        with self._lock:
            index = self._index
            self._index += 1
            self.decoded_frames += 1
            self._last_frame_mono = now
            self._size = (frame.width, frame.height)
        self._decoded_rate.tick(now)
        if self.state not in (CameraState.ONLINE, CameraState.TAMPER):
            self._mark_online()
        if not self._sampler.due(stream_t):
            return
        image = to_bgr(frame)
        delivered = Frame(self.camera.id, image, time.time(), index, frame.time)
        self._check_tamper(delivered, stream_t)
        self.slot.put(delivered)
        self._analytics_rate.tick(now)

    def _pace(self, stream_t: float) -> None:
        """File cameras: wait until the frame's time comes, as a live camera would deliver it."""
        now = time.monotonic()
        if self._pace_origin is None or self._pace_last is None or stream_t < self._pace_last:
            self._pace_origin = now - stream_t
        self._pace_last = stream_t
        delay = self._pace_origin + stream_t - now
        if delay > 0:
            self._stop.wait(delay)
        elif delay < -1.0:
            self._pace_origin = now - stream_t  # fell behind: do not rush to catch up

    # -- state and events ------------------------------------------------------------------------------
    def _set_state(self, state: CameraState) -> None:
        if state != self.state:
            self.state = state
            self._publish_health()

    def _mark_online(self) -> None:
        now = datetime.now(UTC)
        with self._lock:
            if self._ever_online and self._online_session != self._session_no:
                self.reconnects += 1
            self._ever_online = True
            self._online_session = self._session_no
            offline, self._offline_event = self._offline_event, None
            self._lost_since = None
            self.last_error = None
            self._set_state(CameraState.TAMPER if self._tamper_events else CameraState.ONLINE)
        if offline is not None:
            log.info("%s: back online", self.camera.label())
            self._emit(dataclasses.replace(offline, end=now))
            self._emit(Event(EventType.CAMERA_ONLINE, self.camera.id, start=now, end=now, severity=Severity.INFO,
                             attributes={"offline_s": round((now - offline.start).total_seconds(), 3)}))

    def _mark_lost(self, reason: str) -> None:
        with self._lock:
            if self._lost_since is None:
                self._lost_since = (datetime.now(UTC), time.monotonic())
                log.warning("%s: stream lost (%s); reconnecting", self.camera.label(), reason)
            self.last_error = reason
            if self.state not in (CameraState.OFFLINE,):
                self._set_state(CameraState.RECONNECTING)
        self._check_offline()

    def _check_offline(self) -> None:
        with self._lock:
            lost = self._lost_since
            if lost is None or self._offline_event is not None or self._stop.is_set():
                return
            if time.monotonic() - lost[1] < self.settings.offline_grace_s:
                return
            event = Event(EventType.CAMERA_OFFLINE, self.camera.id, start=lost[0], severity=Severity.HIGH,
                          attributes={"reason": self.last_error or "not connected yet",
                                      "uri": self.camera.display_uri})
            self._offline_event = event
            self._set_state(CameraState.OFFLINE)
        log.warning("%s: offline (%s)", self.camera.label(), event.attributes["reason"])
        self._emit(event)

    def _check_tamper(self, frame: Frame, stream_t: float) -> None:
        for change in self._tamper.update(frame.image, stream_t):
            now = datetime.now(UTC)
            if change.opened:
                event = Event(EventType.CAMERA_TAMPER, self.camera.id, start=now, severity=Severity.HIGH,
                              attributes={"kind": change.kind, **change.details})
                event.evidence_path = self._snapshot(frame, event)
                self._tamper_events[change.kind] = event
                log.warning("%s: tamper (%s)", self.camera.label(), change.kind)
            else:
                opened = self._tamper_events.pop(change.kind, None)
                if opened is None:
                    continue
                event = dataclasses.replace(opened, end=now)
            self._emit(event)
        with self._lock:
            if self.state in (CameraState.ONLINE, CameraState.TAMPER):
                self._set_state(CameraState.TAMPER if self._tamper_events else CameraState.ONLINE)

    def _snapshot(self, frame: Frame, event: Event) -> str | None:
        if self._data_dir is None:
            return None
        import cv2

        path = media.evidence_file(self._data_dir, self.camera.id, event.start, event.id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if cv2.imwrite(str(path), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 85]):
                return str(path)
        except OSError:
            log.exception("%s: cannot write the tamper snapshot %s", self.camera.label(), path)
        return None

    def _emit(self, event: Event) -> None:
        if self._on_event is None:
            return
        if event.site_id is None:
            event.site_id = self.camera.site_id
        try:
            self._on_event(event)
        except Exception:
            log.exception("%s: event sink failed", self.camera.label())

    def _publish_health(self) -> None:
        if self._on_health is None:
            return
        try:
            self._on_health(self.health())
        except Exception:
            log.exception("%s: health sink failed", self.camera.label())

    # -- the watchdog thread ---------------------------------------------------------------------------
    def _check_stall(self) -> None:
        """A stream that stops without closing: mark it lost now; the read timeout then cuts it."""
        with self._lock:
            last = self._last_frame_mono
            online = self.state in (CameraState.ONLINE, CameraState.TAMPER)
        if online and last is not None and time.monotonic() - last > self.settings.watchdog_s:
            self._mark_lost(f"stalled: no frame for {self.settings.watchdog_s:g} s")

    def _watch(self) -> None:
        next_health = time.monotonic() + self.settings.health_interval_s
        while not self._stop.wait(0.2):
            self._check_stall()
            self._check_offline()
            if time.monotonic() >= next_health:
                next_health += self.settings.health_interval_s
                self._publish_health()
