"""A worker's recording: the recorders of the cameras it leases and the retention upkeep, wired to the store.

The worker calls ``sync(conn, held)`` every heartbeat with the cameras it holds: a held camera whose
``record`` is not off (a network camera, enabled) gets a recorder of its main stream, one no longer held or
switched off loses it. The camera that a worker leases for analytics is recorded by that worker only (one
lease, one node: see docs/deploy.md). Every worker also runs the upkeep thread; one of them leads retention for
the whole recordings area. Events (recording_offline, recording_stalled, recording_storage_full) go to the
worker's event sink, hence through the store writer like the readers' camera events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cameras.crypto import SecretBox
from core.settings import Settings
from core.types import Event
from record.pool import RecorderPool
from record.recorder import RecordingSpec
from record.upkeep import Upkeep
from store import recordings, registry

log = logging.getLogger("vigil.worker")


class WorkerRecording:
    """Use as a context manager around the worker's loop (inside the writer's, so the last events are written)."""

    def __init__(self, settings: Settings, url: str, node: str, box: SecretBox | None,
                 on_event: Callable[[Event], None]) -> None:
        self.box = box
        self.pool = RecorderPool(settings.record, settings.data_dir, node,
                                 lambda: recordings.RecordingIndex.connect(url), on_event)
        self.upkeep = Upkeep(settings, settings.data_dir, node, lambda: recordings.RecordingIndex.connect(url),
                             on_event)
        self._failed: set[int] = set()  # cameras whose main stream cannot be loaded (logged once)

    def __enter__(self) -> WorkerRecording:
        self.pool.start()
        self.upkeep.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.close()
        self.upkeep.close()

    def sync(self, conn: Any, held: frozenset[int]) -> None:
        """Record exactly the held cameras that should be recorded (one query a heartbeat)."""
        wanted = recordings.recording_targets(conn, sorted(held)) if held else {}
        running = self.pool.cameras()
        for camera_id in sorted(set(running) - set(wanted)):
            self.pool.remove(camera_id)
        self._failed &= set(wanted)
        for camera_id, mode in sorted(wanted.items()):
            current = running.get(camera_id)
            if current is not None:
                if current.mode != mode:
                    self.pool.add(RecordingSpec(current.source, mode))
                continue
            if camera_id in self._failed:
                continue
            try:
                source = recordings.main_source(conn, camera_id, self.box)
            except registry.RegistryError as exc:
                log.error("camera %d cannot be recorded: %s", camera_id, exc)
                self._failed.add(camera_id)
                continue
            self.pool.add(RecordingSpec(source, mode))
