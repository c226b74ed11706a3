"""Small clocks of the readers: reconnect backoff and sampling to the analytics rate."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Capped exponential backoff with jitter: ``initial * 2**n``, at most ``maximum``, times 0.5..1.0.

    The jitter spreads the reconnects of many cameras behind one failed switch over time.
    """

    def __init__(self, initial_s: float, maximum_s: float, rng: Callable[[], float] = random.random) -> None:
        self.initial_s = initial_s
        self.maximum_s = max(maximum_s, initial_s)
        self._rng = rng
        self.attempt = 0

    def next(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        base = min(self.maximum_s, self.initial_s * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return base * (0.5 + 0.5 * self._rng())

    def reset(self) -> None:
        self.attempt = 0


class Sampler:
    """Chooses the frames handed to analytics so they arrive at ``fps`` on average, evenly spaced.

    Works on the frame's stream time; a jump backwards (a looped file, a reconnect) restarts it, and a
    long gap never causes a burst of catch-up frames.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError("analytics fps must be positive")
        self.period = 1.0 / fps
        self.tolerance = 0.1 * self.period
        self._next: float | None = None

    def reset(self) -> None:
        self._next = None

    def due(self, t: float) -> bool:
        """Whether the frame at stream time ``t`` (seconds) goes to analytics."""
        if self._next is None or t < self._next - 2 * self.period:
            self._next = t + self.period
            return True
        if t >= self._next - self.tolerance:
            self._next += self.period
            if self._next <= t:
                self._next = t + self.period
            return True
        return False
