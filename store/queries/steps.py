"""Many counters' samples of one day as arrays, walked at once (numpy): presence as a step function within
working hours (staffed and observed seconds, absences) and the peak queue.

The audit query packs each counter's samples into one bytea of (timestamptz_send, float8send) pairs; reading
them here costs the database a fraction of walking them in SQL with window functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

PAIR = np.dtype([("time", ">i8"), ("value", ">f8")])  # timestamptz_send: microseconds since 2000-01-01 UTC
EPOCH_2000_US = 946_684_800_000_000
Intervals = Sequence[tuple[float, float]]  # working hours, unix seconds


@dataclass(frozen=True)
class Samples:
    """Samples of several counters, by counter then time; counter ``i``'s are ``[bounds[i], bounds[i + 1])``."""

    counter: np.ndarray
    seconds: np.ndarray  # unix seconds, as PostgreSQL's date_part('epoch', time) gives them
    values: np.ndarray
    bounds: np.ndarray


@dataclass
class Staffing:
    staffed_s: float = 0.0  # working seconds with the officer seen at the desk
    observed_s: float = 0.0  # working seconds with a presence sample holding
    absences: list[tuple[float, float]] = field(default_factory=list)  # (start, end), unix seconds


def unpack(packed: Sequence[bytes | None]) -> Samples:
    """The query's packed samples, one bytea (or None: no sample) per counter."""
    chunks = [np.frombuffer(p or b"", dtype=PAIR) for p in packed]
    sizes = [len(c) for c in chunks]
    pairs = np.concatenate(chunks) if chunks else np.empty(0, PAIR)
    counter = np.repeat(np.arange(len(chunks)), sizes)
    seconds = (pairs["time"].astype(np.int64) + EPOCH_2000_US) / 1e6
    values = pairs["value"].astype(np.float64)
    if not np.all((seconds[1:] > seconds[:-1]) | (counter[1:] != counter[:-1])):  # string_agg promises no order
        order = np.lexsort((seconds, counter))
        seconds, values = seconds[order], values[order]
    return Samples(counter, seconds, values, np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))))


def working(start: np.ndarray, end: np.ndarray, intervals: Intervals) -> np.ndarray:
    """Seconds of each [start, end) within the working intervals."""
    seen = np.zeros(len(start))
    for a, b in intervals:
        seen = seen + np.maximum(0.0, np.minimum(end, b) - np.maximum(start, a))
    return seen


def staffing(samples: Samples, intervals: Intervals, max_gap_s: float, absence_min_s: float) -> list[Staffing]:
    """Per counter: seconds staffed and observed within working hours, and the absences (runs of "not present"
    samples lasting ``absence_min_s`` of working time or more).

    Each sample holds until the next one of its counter, at most ``max_gap_s``. A run of absent samples that
    count (some of their time is working time) ends at the next sample that does not (at its start), or with
    the last absent sample before a gap in the data or at the end of the day (where that one stops holding)."""
    out = [Staffing() for _ in range(len(samples.bounds) - 1)]
    t = samples.seconds
    if not len(t):
        return out
    last = np.append(samples.counter[1:] != samples.counter[:-1], True)  # the last sample of its counter
    following = np.where(last, t + max_gap_s, np.append(t[1:], 0.0))
    until = np.minimum(following, t + max_gap_s)
    seen = working(t, until, intervals)
    absent = samples.values < 0.5
    counts = absent & (seen > 0)
    gap_after = counts & (following > until)
    continues = counts & ~gap_after
    before = np.append(False, (continues & ~last)[:-1])  # the previous sample carries a run into this one
    starts = counts & ~before
    ends = np.where(counts, until, t)[gap_after | (~counts & before) | (continues & last)]
    for who, a, b in zip(samples.counter[starts].tolist(), t[starts].tolist(), ends.tolist(), strict=True):
        if sum(max(0.0, min(y, b) - max(x, a)) for x, y in intervals) >= absence_min_s:
            out[who].absences.append((a, b))
    # Added one by one in time order (not numpy's pairwise sums), so the figures do not depend on the batching.
    seen_list, staffed_list = seen.tolist(), np.where(absent, 0.0, seen).tolist()
    for who, result in enumerate(out):
        lo, hi = int(samples.bounds[who]), int(samples.bounds[who + 1])
        result.staffed_s, result.observed_s = sum(staffed_list[lo:hi]), sum(seen_list[lo:hi])
    return out


def peaks(samples: Samples) -> list[tuple[float, float] | None]:
    """Per counter: the longest queue (its zones' values at one moment summed) and the first moment it was
    seen (unix seconds), or None without queue samples."""
    count = len(samples.bounds) - 1
    if not len(samples.seconds):
        return [None] * count
    c, t = samples.counter, samples.seconds
    new = np.append(True, (c[1:] != c[:-1]) | (t[1:] != t[:-1]))  # a new (counter, moment)
    totals = np.bincount(np.cumsum(new) - 1, weights=samples.values)
    owner, moment = c[new], t[new]
    edges = np.searchsorted(owner, np.arange(count + 1))
    out: list[tuple[float, float] | None] = []
    for who in range(count):
        lo, hi = int(edges[who]), int(edges[who + 1])
        best = lo + int(np.argmax(totals[lo:hi])) if hi > lo else None  # argmax: the earliest of equal maxima
        out.append(None if best is None else (float(totals[best]), float(moment[best])))
    return out
