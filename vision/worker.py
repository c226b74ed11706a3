"""The vision worker: one thread that turns scheduler batches into engine results for the live path.

Created and stopped by the process that owns it (``with VisionWorker(...) as worker:``); results go to
``on_result`` (the store writer's hand-off, a queue in tests and benchmarks) from the worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vision.engine import FrameResult, VisionEngine
from vision.scheduler import BatchScheduler

log = logging.getLogger("vigil.vision")


class VisionWorker:
    """Runs ``scheduler.collect() -> engine.process() -> on_result`` until stopped."""

    def __init__(self, engine: VisionEngine, scheduler: BatchScheduler,
                 on_result: Callable[[FrameResult], None]) -> None:
        self.engine, self.scheduler, self.on_result = engine, scheduler, on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.errors = 0

    def start(self) -> VisionWorker:
        self._thread = threading.Thread(target=self._run, name="vision-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self) -> VisionWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            frames = self.scheduler.collect(idle_timeout_s=0.2, stop=self._stop.is_set)
            if not frames:
                continue
            try:
                results = self.engine.process(frames)
            except Exception:  # one bad batch (a driver hiccup) must not stop every camera
                self.errors += 1
                log.exception("vision batch of %d frames failed", len(frames))
                continue
            self.batches += 1
            for result in results:
                self.on_result(result)
