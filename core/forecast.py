"""The expected wait of a citizen who takes a ticket now, for one department of a hall.

From what the hall knows at that moment: the people ahead (tickets issued and not yet called, or the people in
the queue zones when no ticket system is connected), the department's counters that are open (an officer at
the desk), how many of them are busy with a citizen, and their recent service time. With ``c`` open counters
all busy, the first one frees after about ``service / (c + 1)`` (the least of ``c`` remaining services, spread
evenly over one service), then the ``q`` people ahead leave ``c`` at a time, one service each:

    wait = service / (c + 1) + q * service / c

and no wait at all when nobody is ahead and a counter is free. The live hall screen and ``vigil eval``
(scenarios/forecast.py, which measures it against each citizen's true wait) both call ``expected_wait_s``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueState:
    """What one department's part of the hall looks like at one moment."""

    waiting: float  # people ahead of a newcomer
    counters_open: int  # counters with an officer at the desk now
    busy: int | None  # of those, serving a citizen now (None: not known)
    service_s: float  # mean service time of the department's recent citizens
    counters_staffed: int = 0  # counters that had an officer today (a paused department's expected return)


def expected_wait_s(state: QueueState) -> float | None:
    """Seconds a citizen taking a ticket now should expect to wait; None when the department has no counter
    staffed at all (nobody will call the ticket). A department whose officers all stepped away is forecast as
    if its staffed counters were back."""
    counters = state.counters_open or state.counters_staffed
    if counters <= 0:
        return None
    waiting = max(0.0, state.waiting)
    busy = state.busy if state.busy is not None else (counters if waiting > 0 else 0)
    if state.counters_open and waiting <= 0 and busy < state.counters_open:
        return 0.0
    service = max(0.0, state.service_s)
    return service / (counters + 1) + waiting * service / counters


def recent_service_s(durations: list[float], default_s: float, recent: int = 20) -> float:
    """The mean of the last ``recent`` service durations (oldest first in ``durations``), else ``default_s``."""
    latest = [d for d in durations[-recent:] if d > 0]
    return sum(latest) / len(latest) if latest else default_s
