"""The daily audit of a counter, computed from what the rules recorded (pure functions, no database).

The store's queries fetch one counter's day of rows; the API hands them here. Presence is the
``officer_present`` observations read as a step function (each value holds until the next one; before
the first one the officer counts absent), clipped to the site's working hours. Ticket events and ratings
(from queue-ticket machines and satisfaction terminals) are joined when they exist: tickets served next
to sessions seen, and each rating next to whether the officer was at the desk when it was given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from vigil.types import CounterSession, Event, EventType, Observation


class DayCalendar(Protocol):
    """The part of ``vigil.calendar.WorkingCalendar`` the audit needs."""

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]: ...


@dataclass(frozen=True)
class TicketEvent:
    time: datetime
    kind: str  # issued | called | served | skipped
    ticket_number: str


@dataclass(frozen=True)
class Rating:
    time: datetime
    score: int


@dataclass
class Absence:
    start: datetime
    end: datetime | None
    minutes: float
    event_id: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class CounterAudit:
    counter_id: int
    day: date
    minutes_open: float
    minutes_staffed: float
    absences: list[Absence]
    sessions: int
    service_mean_s: float | None
    service_p90_s: float | None
    wait_mean_s: float | None
    wait_p90_s: float | None
    peak_queue: float | None
    tickets_issued: int | None = None
    tickets_called: int | None = None
    tickets_served: int | None = None
    ratings: int | None = None
    rating_mean: float | None = None
    ratings_while_absent: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["day"] = self.day.isoformat()
        for absence in out["absences"]:
            absence["start"] = absence["start"].isoformat()
            absence["end"] = absence["end"].isoformat() if absence["end"] else None
        return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def presence_intervals(presence: Iterable[Observation], until: datetime,
                       stale_after_s: float = 60.0) -> list[tuple[datetime, datetime, bool]]:
    """``officer_present`` observations as intervals (start, end, present) up to ``until``.

    A value holds until the next one but at most ``stale_after_s``: when the camera or the worker stopped
    reporting, nobody knows whether the officer was there, and it does not count as staffed.
    """
    points = sorted((o.time, o.value >= 0.5) for o in presence)
    out = []
    for i, (start, present) in enumerate(points):
        following = points[i + 1][0] if i + 1 < len(points) else until
        end = min(following, until, start + timedelta(seconds=stale_after_s))
        if end > start:
            out.append((start, end, present))
    return out


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def present_at(intervals: Sequence[tuple[datetime, datetime, bool]], moment: datetime) -> bool:
    return any(start <= moment < end and present for start, end, present in intervals)


def daily_counter_audit(counter_id: int, day: date, calendar: DayCalendar, presence: Iterable[Observation],
                        sessions: Iterable[CounterSession], events: Iterable[Event],
                        queue: Iterable[Observation] = (), tickets: Iterable[TicketEvent] | None = None,
                        ratings: Iterable[Rating] | None = None, stale_after_s: float = 60.0) -> CounterAudit:
    """One counter's day: open and staffed minutes, absences with evidence, sessions, service and wait
    times (mean and p90), peak queue, and the ticket and rating joins (None when no device reported)."""
    opened = calendar.open_intervals(day)
    tz = opened[0][0].tzinfo if opened else ZoneInfo("Asia/Ho_Chi_Minh")
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    steps = presence_intervals([o for o in presence if day_start <= o.time < day_end], day_end, stale_after_s)
    minutes_open = sum((b - a).total_seconds() for a, b in opened) / 60
    staffed = sum(_overlap(s, e, a, b) for s, e, present in steps if present for a, b in opened) / 60

    def today(moment: datetime) -> bool:
        return day_start <= moment < day_end

    absences = [Absence(e.start, e.end, round(((e.end or day_end) - e.start).total_seconds() / 60, 1), str(e.id),
                        dict(e.attributes.get("evidence") or {}, **({"path": e.evidence_path} if e.evidence_path
                                                                    else {})))
                for e in events if e.type == EventType.OFFICER_ABSENT and e.counter_id == counter_id and today(e.start)]
    served = [s for s in sessions if s.counter_id == counter_id and today(s.service_start)]
    service = [s.service_s for s in served]
    waits = [w for w in (s.wait_s for s in served) if w is not None]
    queue_values = [o.value for o in queue if today(o.time)]
    audit = CounterAudit(counter_id, day, round(minutes_open, 1), round(staffed, 1), sorted(absences,
                         key=lambda a: a.start), len(served), mean(service), percentile(service, 90), mean(waits),
                         percentile(waits, 90), max(queue_values) if queue_values else None)
    if tickets is not None:
        todays = [t for t in tickets if today(t.time)]
        audit.tickets_issued = sum(1 for t in todays if t.kind == "issued")
        audit.tickets_called = sum(1 for t in todays if t.kind == "called")
        audit.tickets_served = sum(1 for t in todays if t.kind == "served")
    if ratings is not None:
        todays_ratings = [r for r in ratings if today(r.time)]
        audit.ratings = len(todays_ratings)
        audit.rating_mean = mean([r.score for r in todays_ratings])
        audit.ratings_while_absent = sum(1 for r in todays_ratings if not present_at(steps, r.time))
    return audit


def hourly_waits(sessions: Iterable[CounterSession], timezone: str = "Asia/Ho_Chi_Minh") -> list[dict[str, Any]]:
    """Wait time per local hour of service start: citizens, mean and p90 (seconds)."""
    tz = ZoneInfo(timezone)
    by_hour: dict[datetime, list[float]] = {}
    for session in sessions:
        if session.wait_s is None:
            continue
        hour = session.service_start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        by_hour.setdefault(hour, []).append(session.wait_s)
    return [{"hour": hour.isoformat(), "citizens": len(w), "wait_mean_s": mean(w), "wait_p90_s": percentile(w, 90)}
            for hour, w in sorted(by_hour.items())]
