"""The bounded hand-over between a camera's reader and vision: the newest frame only.

A reader ``put``s every sampled frame; a frame nobody took before the next one arrives is dropped
(counted in ``dropped``), so a slow consumer sees fresh frames and memory never grows. Consumers call
``take(newer_than_index)`` with the index of the last frame they handled and get the newest frame after
it, waiting up to ``timeout`` seconds. Several slots may share one ``threading.Condition`` so a batched
detector can wait for "any camera has a new frame" (see ``ReaderPool.wait_frames``).
"""

from __future__ import annotations

import threading
import time

from core.types import Frame


class FrameSlot:
    """Holds the latest frame of one camera. Thread-safe; never holds more than one frame."""

    def __init__(self, camera_id: int, condition: threading.Condition | None = None) -> None:
        self.camera_id = camera_id
        self._cond = condition or threading.Condition()
        self._frame: Frame | None = None
        self._taken = True
        self.delivered = 0  # frames put
        self.dropped = 0  # frames replaced before anyone took them

    def put(self, frame: Frame) -> None:
        """Offer the newest frame; an untaken older frame is dropped."""
        with self._cond:
            if not self._taken:
                self.dropped += 1
            self._frame = frame
            self._taken = False
            self.delivered += 1
            self._cond.notify_all()

    def latest(self) -> Frame | None:
        """The newest frame (taken or not), without waiting."""
        with self._cond:
            return self._frame

    def take(self, newer_than_index: int = -1, timeout: float | None = 0.0) -> Frame | None:
        """The newest frame whose index is above ``newer_than_index``; wait up to ``timeout`` s (None: forever).

        Returns None when no such frame came in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._frame is None or self._frame.index <= newer_than_index:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            self._taken = True
            return self._frame

    def clear(self) -> None:
        with self._cond:
            self._frame = None
            self._taken = True
