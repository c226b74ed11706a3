"""The daily audit of a counter, the raw material of the managers' reports: minutes open and staffed,
absences during working hours, citizens served, service and wait times (mean, p90), peak queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg

from store.errors import StoreInputError
from store.queries._common import local_day_bounds, one, rows
from store.queries.timeline import MAX_GAP_S, counter_of, presence_samples
from vigil.calendar import CalendarError, WorkingCalendar

ABSENCE_MIN_S = 300.0  # shorter gaps are a step away from the desk, not an absence


@dataclass(frozen=True)
class Absence:
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass
class CounterAudit:
    counter_id: int
    day: date
    minutes_open: float  # working hours of the site's calendar that day
    minutes_staffed: float  # of those, with the officer seen at the counter
    minutes_unobserved: float  # of those, without any presence sample (camera down)
    absences: list[Absence] = field(default_factory=list)
    sessions: int = 0
    service_mean_s: float | None = None
    service_p90_s: float | None = None
    wait_mean_s: float | None = None
    wait_p90_s: float | None = None
    peak_queue: float | None = None
    peak_queue_at: datetime | None = None


def site_calendar(counter: dict) -> WorkingCalendar:
    """The site's working hours, validated; a bad calendar is a StoreInputError naming the field."""
    try:
        return WorkingCalendar.from_dict(counter["working_hours"], field="sites.working_hours",
                                         default_timezone=counter["timezone"])
    except CalendarError as exc:
        where, _, why = str(exc).partition(": ")
        raise StoreInputError(where or "sites.working_hours", why or str(exc)) from None


def _overlap(a: float, b: float, intervals: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for start, end in intervals)


def _staffing(samples: list[tuple[float, float]], intervals: list[tuple[float, float]],
              max_gap_s: float, absence_min_s: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Seconds staffed and observed within the open intervals (unix seconds), and the absences: runs of
    "not present" samples lasting ``absence_min_s`` of working time or more."""
    staffed = observed = 0.0
    absences: list[tuple[float, float]] = []
    away_from: float | None = None
    until = 0.0
    for index, (moment, value) in enumerate(samples):
        following = samples[index + 1][0] if index + 1 < len(samples) else moment + max_gap_s
        until = min(following, moment + max_gap_s)
        seen = _overlap(moment, until, intervals)
        observed += seen
        absent = value < 0.5
        if not absent:
            staffed += seen
        elif seen > 0 and away_from is None:
            away_from = moment
        if away_from is not None and (not absent or seen == 0 or following > until):
            end = until if absent and seen > 0 else moment
            if _overlap(away_from, end, intervals) >= absence_min_s:
                absences.append((away_from, end))
            away_from = None
    if away_from is not None and _overlap(away_from, until, intervals) >= absence_min_s:
        absences.append((away_from, until))
    return staffed, observed, absences


_SESSIONS = """
SELECT count(*) AS sessions, avg(extract(epoch FROM service_end - time)) AS service_mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM service_end - time)) AS service_p90,
       avg(extract(epoch FROM time - queue_enter)) AS wait_mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM time - queue_enter)) AS wait_p90
FROM counter_sessions WHERE counter_id = %s::bigint AND time >= %s AND time < %s
"""


def counter_daily_audit(conn: psycopg.Connection, counter_id: int, day: date, *,
                        absence_min_s: float = ABSENCE_MIN_S, max_gap_s: float = MAX_GAP_S) -> CounterAudit:
    """One counter's local day (the site's time zone and working-hours calendar)."""
    counter = counter_of(conn, counter_id)
    calendar = site_calendar(counter)
    start, end = local_day_bounds(day, calendar.timezone)
    intervals = [(a.timestamp(), b.timestamp()) for a, b in calendar.open_intervals(day)]
    samples = presence_samples(conn, counter, start, end)
    staffed, observed, away = _staffing(samples, intervals, max_gap_s, absence_min_s)
    minutes_open = sum(b - a for a, b in intervals) / 60
    absences = [Absence(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)) for a, b in away]
    audit = CounterAudit(counter_id, day, minutes_open, staffed / 60, minutes_open - observed / 60, absences)
    served = one(conn, _SESSIONS, (counter_id, start, end)) or {}
    audit.sessions = int(served.get("sessions") or 0)
    audit.service_mean_s = _float(served.get("service_mean"))
    audit.service_p90_s = _float(served.get("service_p90"))
    audit.wait_mean_s = _float(served.get("wait_mean"))
    audit.wait_p90_s = _float(served.get("wait_p90"))
    peak = rows(conn, "SELECT time, value FROM observations WHERE camera_id = %s::bigint AND metric = 'queue_length'"
                      " AND zone_id = %s::bigint AND time >= %s AND time < %s ORDER BY value DESC, time LIMIT 1",
                (counter["camera_id"], counter["customer_zone_id"], start, end))
    if peak:
        audit.peak_queue, audit.peak_queue_at = peak[0]["value"], peak[0]["time"]
    return audit


def site_daily_audit(conn: psycopg.Connection, site_id: int, day: date) -> list[CounterAudit]:
    """The daily audit of every counter of a site, by counter number."""
    found = rows(conn, "SELECT id FROM counters WHERE site_id = %s::bigint ORDER BY number", (site_id,))
    ids = [r["id"] for r in found]
    if not ids and one(conn, "SELECT 1 AS x FROM sites WHERE id = %s::bigint", (site_id,)) is None:
        raise StoreInputError("site_id", f"unknown site {site_id}")
    return [counter_daily_audit(conn, counter_id, day) for counter_id in ids]


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
