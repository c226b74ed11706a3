"""Where a worker's vision output goes: each frame's results, the readers' camera events and health to the store
writer; then each result to the observers (a benchmark's probe, diagnostics).

The pipeline calls these from its own threads (the vision thread, the dispatcher, the readers), so each is
quick: the writer only queues rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from core.types import CameraHealth, Event
from store.writer import StoreWriter
from vision.engine import FrameResult

log = logging.getLogger("vigil.worker")
ResultObserver = Callable[[FrameResult], None]


class StoreSinks:
    """The sinks a pipeline is opened with (``on_result``, ``on_event``, ``on_health``), writing to ``writer``."""

    def __init__(self, writer: StoreWriter, observers: Sequence[ResultObserver] = ()) -> None:
        self.writer = writer
        self.observers = tuple(observers)
        self.observer_failures = 0

    def on_result(self, result: FrameResult) -> None:
        """Store the frame's events, observations and counter sessions, then show it to each observer."""
        self.writer.write_events(result.events)
        self.writer.write_observations(result.observations)
        self.writer.write_counter_sessions(result.sessions)
        for observer in self.observers:
            try:
                observer(result)
            except Exception:  # an observer is a bystander: it must not stop the cameras
                self.observer_failures += 1
                if self.observer_failures % 1000 == 1:  # the first failure, then every thousandth: no log flood
                    log.exception("result observer %r failed (%d failures)", observer, self.observer_failures)

    def on_event(self, event: Event) -> None:
        self.writer.write_event(event)

    def on_health(self, health: CameraHealth) -> None:
        self.writer.write_health(health)
