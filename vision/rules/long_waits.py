"""Long-wait alarms of a hall's queues: one per queue entry, following the entry, not the identity.

A waiting citizen's identity changes as the tracker loses and finds them, their entry passes to whoever the
queue rules (``waits.py``) take them to be now, and a turn taken at a desk may be given back. The alarm goes
with the entry through all of it, so a hidden citizen's alarm still comes on time, and one wait raises one
alarm: ``LongWaits`` keeps the latches by entry key (an identity, or a lost entry's negative key) and moves,
swaps and reopens them as ``Queues`` moves the entries.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import NamedTuple

from core.types import Event

from .base import IncidentLatch, RuleOutput, emit


class Taken(NamedTuple):
    """The queue entry a session took at its start (``Queues.settle_turn``), with whose it was and its alarm."""

    key: int
    entry: datetime
    alarm: IncidentLatch | None


class LongWaits:
    """The long-wait latches of one camera's queue entries, keyed as the entries are."""

    def __init__(self, new_latch: Callable[[], IncidentLatch]) -> None:
        self._new_latch = new_latch
        self.latches: dict[int, IncidentLatch] = {}

    def get(self, key: int) -> IncidentLatch | None:
        return self.latches.get(key)

    def move(self, key: int, to: int) -> None:
        """Entry ``key``'s alarm now belongs to ``to``."""
        if key in self.latches:
            self.latches[to] = self.latches.pop(key)

    def swap(self, a: int, b: int) -> None:
        """Entries ``a`` and ``b`` swapped holders (turns taken in the order citizens came): so do their alarms."""
        latch_a, latch_b = self.latches.pop(a, None), self.latches.pop(b, None)
        if latch_b is not None:
            self.latches[a] = latch_b
        if latch_a is not None:
            self.latches[b] = latch_a

    def reopen(self, key: int) -> None:
        """The wait whose end (an arrival at a desk) closed ``key``'s alarm goes on."""
        if key in self.latches:
            self.latches[key].reopen()

    def keep(self, alarm: IncidentLatch, key: int) -> None:
        """``alarm``, ended when its entry was taken at a desk, goes on under ``key`` only (a handed head's
        identity may still hold it on the books)."""
        alarm.reopen()
        self.latches = {k: v for k, v in self.latches.items() if v is not alarm} | {key: alarm}

    def step(self, waiting: Collection[int], enter: Mapping[int, datetime], handed: Collection[int], now: datetime,
             out: RuleOutput, make: Callable[[datetime, int | None], Event]) -> None:
        """Step every waiting entry's alarm (``make(start, track_id)`` builds one), then let go of ended ones, but
        not of one a citizen ``handed`` a wait at a desk holds (they may be walking off)."""
        waiting = set(waiting)
        for key in waiting - set(self.latches):
            self.latches[key] = self._new_latch()
        for key, latch in list(self.latches.items()):
            active = key in waiting
            since = enter.get(key, now)
            track_id = key if key > 0 else None
            event = latch.step(active, now, lambda start, t=track_id: make(start, t),
                               {"wait_s": round((now - since).total_seconds(), 1)}, since=since)
            emit(out, event, now, (key,) if key > 0 else ())
            if not active and not latch.is_open and key not in handed:
                del self.latches[key]

    def close(self, now: datetime, out: RuleOutput) -> None:
        """Stop: close every open alarm at ``now``."""
        for latch in self.latches.values():
            emit(out, latch.close(now), now)
