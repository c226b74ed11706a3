"""One vision worker process (``vigil worker``): leases cameras from the database and analyses them.

Every heartbeat (a third of the lease TTL) the worker renews its leases and takes free cameras up to its
capacity; for each camera it gains it loads the camera's stream, zones, counters and site calendar from the
registry and starts reading and analysing it; a camera it loses (lease lapsed, camera disabled) is stopped.
The same worker records the main stream of each camera it holds whose ``record`` is not off (``vigil/recording.py``).
Results go to the store writer (events, observations, counter sessions, camera health); the newest
annotated frame of each camera is written to its live picture (``core.media.live_picture``: the camera's
``snapshot_path``, which the API's snapshot and MJPEG preview serve while it is fresh) for the console's tiles.
On SIGTERM the worker stops its readers, flushes the writer and releases its leases. A database outage stops
nothing: the cameras keep running, the writer spools their results, and the heartbeat reconnects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from cameras.crypto import SecretBox
from core import media
from core.calendar import CalendarError
from core.settings import Settings
from store import leases, registry, registry_rows, workers
from store.db import connect
from store.plans import load_camera_plan
from store.writer import StoreWriter
from vigil import allocator
from vigil.recording import WorkerRecording
from vigil.sinks import ResultObserver, StoreSinks
from vision.detectors import load_detectors
from vision.pipeline import Pipeline, open_pipeline
from vision.preview import PreviewSpec
from vision.rules import build_rules
from vision.tracking import CameraTracker

log = logging.getLogger("vigil.worker")
TRIM_EVERY_S = 60.0  # free memory handed back to the system this often (vigil/allocator.py)


@dataclass
class WorkerOptions:
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    capacity: int = 16
    lease_ttl_s: float = 15.0
    preview_interval_s: float = 0.5  # newest annotated frame per camera, for the console's tiles
    preview_width: int = 640


class Worker:
    """Leases cameras and runs them through ingest -> vision -> rules -> store until ``stop()``.

    ``observers`` are called with every frame's result after the store has taken it (from the pipeline's
    threads: they must be quick); ``pipeline`` is the vision pipeline of the current or last run (None before).
    """

    def __init__(self, settings: Settings, url: str, options: WorkerOptions | None = None,
                 observers: Sequence[ResultObserver] = ()) -> None:
        self.settings = settings
        self.url = url
        self.options = options or WorkerOptions()
        self.observers = tuple(observers)
        self.pipeline: Pipeline | None = None
        self._stop = threading.Event()
        self.held: frozenset[int] = frozenset()
        self._camera_state: dict[int, str] = {}
        self._conn: Any = None
        self._database_down = False
        self.recording: WorkerRecording | None = None

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        settings, options = self.settings, self.options
        allocator.limit_arenas(allocator.default_arenas())  # before the cameras' threads make arenas of their own
        detectors = load_detectors(settings.vision, settings.models_dir)  # one per core on a CPU
        # The tracker's first use imports ultralytics and torch: tens of seconds on a busy machine. Do it now,
        # not inside the first heartbeat, where it would let the leases just taken lapse (TTL) and churn.
        CameraTracker()
        box = SecretBox.from_key_file(settings.key_file)
        spool = media.spool_dir(settings.data_dir, options.worker_id)
        preview = PreviewSpec(settings.data_dir, options.preview_interval_s, options.preview_width)
        log.info("worker %s: capacity %d cameras, lease TTL %.0f s, model %s", options.worker_id,
                 options.capacity, options.lease_ttl_s, settings.vision.model)
        self._conn = connect(self.url)  # unreachable at start: the worker fails (its supervisor retries)
        with StoreWriter(self.url, settings.store, spool) as writer, self._conn:
            log.info("worker %s: store writer ready", options.worker_id)
            sinks = StoreSinks(writer, self.observers)
            live = self.pipeline = open_pipeline(settings, detectors, sinks.on_result, sinks.on_event,
                                                 sinks.on_health, preview, options.capacity, results="store")
            with live:
                try:
                    # Recorders stop (their last segments indexed) before the leases go back.
                    with WorkerRecording(settings, self.url, options.worker_id, box, sinks.on_event) as recording:
                        self.recording = recording
                        self._loop(live, box, writer)
                finally:
                    for camera_id in sorted(self.held):
                        live.remove_camera(camera_id)
                    self._release()
        log.info("worker %s stopped; writer flushed", options.worker_id)

    def _loop(self, live: Pipeline, box: SecretBox, writer: StoreWriter) -> None:
        beat_s = max(0.5, self.options.lease_ttl_s / 3)
        trim_at = time.monotonic() + TRIM_EVERY_S
        while not self._stop.is_set():
            try:
                self._beat(self._connection(), live, box)
                self._publish_writer_stats(self._connection(), writer)
            except psycopg.OperationalError as exc:
                self._database_lost(exc)
            if time.monotonic() >= trim_at:  # free memory back to the system (vigil/allocator.py)
                allocator.trim()
                trim_at = time.monotonic() + TRIM_EVERY_S
            self._stop.wait(beat_s)

    def _connection(self) -> Any:
        """The worker's own connection, opened again after the database came back."""
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url)
        return self._conn

    def _database_lost(self, exc: Exception) -> None:
        """An outage must not stop the cameras: they keep running and the writer spools their results."""
        if not self._database_down:
            log.warning("worker %s: database unreachable (%s); cameras keep running, results are spooled; "
                        "reconnecting every heartbeat", self.options.worker_id, str(exc).strip())
        self._database_down = True
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def _release(self) -> None:
        """Give every lease back and close the connection (on an outage the leases lapse after the TTL)."""
        try:
            leases.release(self._connection(), self.options.worker_id)
            log.info("worker %s: released %d cameras", self.options.worker_id, len(self.held))
        except psycopg.OperationalError as exc:
            log.warning("worker %s: leases not released (%s); they lapse after the TTL", self.options.worker_id,
                        str(exc).strip())
        finally:
            if self._conn is not None:
                self._conn.close()

    def _beat(self, conn: Any, live: Pipeline, box: SecretBox) -> None:
        """Renew and take leases, stop the cameras lost and start those gained, mirror camera states."""
        options = self.options
        change = leases.heartbeat(conn, options.worker_id, options.capacity, options.lease_ttl_s, self.held)
        if self._database_down:
            log.info("worker %s: database reachable again", options.worker_id)
            self._database_down = False
        for camera_id in sorted(change.lost):
            log.warning("camera %d: lease lost; stopping it here", camera_id)
            live.remove_camera(camera_id)
            live.forget_preview(camera_id)
        started = set()
        for camera_id in sorted(change.gained):
            if self._start_camera(conn, live, box, camera_id):
                started.add(camera_id)
            else:
                leases.release(conn, options.worker_id, [camera_id])
        self.held = frozenset((change.held - change.gained) | started)
        if self.recording is not None:
            self.recording.sync(conn, self.held)
        self._record_states(conn, live)

    def _publish_writer_stats(self, conn: Any, writer: StoreWriter) -> None:
        """Upsert this worker's writer figures into ``writer_stats`` (read by the API's /metrics)."""
        workers.publish_writer_stats(conn, self.options.worker_id, writer.stats())

    def _start_camera(self, conn: Any, live: Pipeline, box: SecretBox, camera_id: int) -> bool:
        """Load one camera's setup from the registry and start it; False (and a log line) when it can't run."""
        try:
            plan = load_camera_plan(conn, camera_id, box)
            rules = build_rules(plan)
        except (registry.RegistryError, CalendarError, ValueError) as exc:
            log.error("camera %d cannot be started: %s", camera_id, exc)
            return False
        assert plan.source is not None  # a plan from the registry always has its stream
        source = dataclasses.replace(plan.source, analytics_fps=plan.analytics_fps(self.settings.ingest))
        zones = list(plan.zones)
        live.add_camera(source, zones, rules)
        # The API serves cameras.snapshot_path while it is fresh: point it at this camera's live picture.
        registry_rows.set_snapshot_path(conn, camera_id, media.live_picture(camera_id))
        log.info("camera %d (%s): started, %s camera at %g fps, %d zones, %d rules, %s", camera_id, plan.name,
                 plan.role, source.analytics_fps, len(zones), len(rules), source.display_uri)
        return True

    def _record_states(self, conn: Any, live: Pipeline) -> None:
        """Mirror each held camera's state into ``cameras.state`` when it changed (the console's tiles)."""
        for health in live.health():
            state = str(health.state)
            if self._camera_state.get(health.camera_id) == state:
                continue
            self._camera_state[health.camera_id] = state
            registry.set_camera_state(conn, health.camera_id, state)
