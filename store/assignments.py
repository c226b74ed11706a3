"""Who was assigned to which counter when: the weekly roster, overridden by a day's exceptions, overridden by the
log-ins a ticket system reported, resolved into time ranges.

Everything an officer is credited with (presence, absences, citizens served, service and wait times, tickets,
ratings) is attributed by these ranges: by the time a thing happened, never by a column on the counter, so a
reassignment (a new roster entry, an exception from noon on, a log-in) changes no day gone by.

Precedence within a day, for each counter: a ticket system's log-in session (from the log-in until the
officer logs out, someone else logs in at that counter, the officer logs in at another counter, or the day
ends) > an exception for that day (its hours; ``officer_id`` None: nobody) > the weekly roster entries in force
that day (their weekdays and hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from store.officers import Checkin, list_checkins, list_exceptions, list_rosters
from store.queries._common import local_day_bounds


@dataclass(frozen=True)
class Assignment:
    counter_id: int
    officer_id: int
    start: datetime
    end: datetime
    source: str  # roster | exception | checkin

    def clipped(self, start: datetime, end: datetime) -> Assignment | None:
        lo, hi = max(self.start, start), min(self.end, end)
        return Assignment(self.counter_id, self.officer_id, lo, hi, self.source) if lo < hi else None


Segment = tuple[datetime, datetime, int | None, str]


def _paint(segments: list[Segment], start: datetime, end: datetime, officer: int | None, source: str) -> list[Segment]:
    """The segments with [start, end) painted over by ``officer`` (what was there is cut around it)."""
    out: list[Segment] = []
    for a, b, who, why in segments:
        if b <= start or a >= end:
            out.append((a, b, who, why))
            continue
        if a < start:
            out.append((a, start, who, why))
        if b > end:
            out.append((end, b, who, why))
    out.append((start, end, officer, source))
    return sorted(out, key=lambda s: s[0])


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz)


def _sessions(checkins: Sequence[Checkin], day_end: datetime) -> list[tuple[int, int, datetime, datetime]]:
    """(counter, officer, start, end) of the log-in sessions in time order of the events."""
    open_at: dict[int, tuple[int, datetime]] = {}  # counter -> (officer, since)
    out: list[tuple[int, int, datetime, datetime]] = []

    def close(counter: int, when: datetime) -> None:
        if counter in open_at:
            officer, since = open_at.pop(counter)
            if since < when:
                out.append((counter, officer, since, when))

    for event in checkins:
        close(event.counter_id, event.time)
        if event.kind == "login":
            for counter, (officer, _) in list(open_at.items()):
                if officer == event.officer_id:  # one officer, one counter: a log-in elsewhere ends the first
                    close(counter, event.time)
            open_at[event.counter_id] = (event.officer_id, event.time)
    for counter in list(open_at):
        close(counter, day_end)
    return out


def resolve_day(day: date, tz: ZoneInfo, rosters: Iterable[dict[str, Any]], exceptions: Iterable[dict[str, Any]],
                checkins: Sequence[Checkin]) -> list[Assignment]:
    """The day's assignments of every counter named in the inputs, by counter and time (nobody: no range)."""
    day_start, day_end = datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)
    painted: dict[int, list[Segment]] = {}
    for entry in rosters:
        if entry["valid_from"] <= day and (entry["valid_until"] is None or day <= entry["valid_until"]) \
                and day.isoweekday() in entry["weekdays"]:
            segments = painted.setdefault(entry["counter_id"], [])
            painted[entry["counter_id"]] = _paint(segments, _at(day, entry["start_minute"], tz),
                                                  _at(day, entry["end_minute"], tz), entry["officer_id"], "roster")
    for entry in exceptions:
        if entry["day"] == day:
            segments = painted.setdefault(entry["counter_id"], [])
            painted[entry["counter_id"]] = _paint(segments, _at(day, entry["start_minute"], tz),
                                                  _at(day, entry["end_minute"], tz), entry["officer_id"], "exception")
    today = [c for c in checkins if day_start <= c.time < day_end]
    for counter, officer, start, end in _sessions(today, day_end):
        painted[counter] = _paint(painted.get(counter, []), start, end, officer, "checkin")
    out = []
    for counter in sorted(painted):
        for a, b, officer, source in painted[counter]:
            if officer is None:
                continue
            if out and out[-1].counter_id == counter and out[-1].officer_id == officer and out[-1].end == a \
                    and out[-1].source == source:
                out[-1] = Assignment(counter, officer, out[-1].start, b, source)
            else:
                out.append(Assignment(counter, officer, a, b, source))
    return out


def site_assignments(conn: psycopg.Connection, site_id: int, timezone: str, first_day: date,
                     last_day: date) -> dict[date, list[Assignment]]:
    """Each day's assignments at a site (its local days from ``first_day`` to ``last_day``)."""
    tz = ZoneInfo(timezone)
    start, _ = local_day_bounds(first_day, timezone)
    _, end = local_day_bounds(last_day, timezone)
    rosters = list_rosters(conn, site_id, first_day, last_day)
    exceptions = list_exceptions(conn, site_id, first_day, last_day)
    checkins = list_checkins(conn, site_id, start, end)
    out: dict[date, list[Assignment]] = {}
    day = first_day
    while day <= last_day:
        out[day] = resolve_day(day, tz, rosters, exceptions, checkins)
        day += timedelta(days=1)
    return out


def assigned_at(assignments: Iterable[Assignment], counter_id: int, moment: datetime) -> Assignment | None:
    """The assignment of a counter holding at ``moment``, if any."""
    return next((a for a in assignments if a.counter_id == counter_id and a.start <= moment < a.end), None)
