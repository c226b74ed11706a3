"""An officer's month: the hours scheduled (assignments within working hours), the hours present (the counter's
presence samples within them, read as the daily audit reads them), the absences with their ``officer_absent``
event and pictures, the citizens served with their service and wait times, the tickets served and the ratings —
every figure attributed by the officer's assignment ranges (``store.assignments``), never by who is assigned
now. Days still to come are left out; today counts up to now.
"""

from __future__ import annotations

import calendar as months
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from store.assignments import Assignment, site_assignments
from store.queries._common import rows
from store.queries.audit import ABSENCE_MIN_S, site_calendar
from store.queries.steps import staffing, unpack
from store.queries.timeline import MAX_GAP_S

_PRESENCE = """
SELECT x.n, (SELECT string_agg(timestamptz_send(o.time) || float8send(o.value), ''::bytea)
             FROM observations o WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present'
               AND o.zone_id = k.staff_zone_id AND o.time >= x.a - make_interval(secs => %(gap)s) AND o.time < x.b)
       AS samples
FROM unnest(%(counters)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY
     AS x(counter_id, a, b, n)
JOIN counters k ON k.id = x.counter_id ORDER BY x.n
"""
_SPANS = ("unnest(%(counters)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[], %(days)s::date[])"
          " AS x(counter_id, a, b, day)")
_SESSIONS = f"""
SELECT x.day, count(*) AS sessions, avg(extract(epoch FROM cs.service_end - cs.time))::float8 AS service_mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.service_end - cs.time)) AS service_p90,
       avg(extract(epoch FROM cs.time - cs.queue_enter))::float8 AS wait_mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p90
FROM {_SPANS} JOIN counter_sessions cs ON cs.counter_id = x.counter_id AND cs.time >= x.a AND cs.time < x.b
GROUP BY GROUPING SETS ((x.day), ())
"""
_RATINGS = f"""
SELECT x.day, count(*) AS ratings, avg(r.score)::float8 AS rating_mean,
       count(*) FILTER (WHERE r.score >= 4) AS satisfied
FROM {_SPANS} JOIN ratings r ON r.counter_id = x.counter_id AND r.time >= x.a AND r.time < x.b
GROUP BY GROUPING SETS ((x.day), ())
"""
_TICKETS = f"""
SELECT x.day, count(*) AS served FROM {_SPANS}
JOIN ticket_events t ON t.counter_id = x.counter_id AND t.kind = 'served' AND t.time >= x.a AND t.time < x.b
GROUP BY GROUPING SETS ((x.day), ())
"""
# The officer_absent event of each absence (the earliest overlapping it) and its pictures, as the audit finds them.
_EVENTS = """
SELECT x.n, e.id, e.camera_id, CASE WHEN jsonb_typeof(e.attributes -> 'evidence') = 'object'
       THEN e.attributes -> 'evidence' ELSE '{}'::jsonb END
       || CASE WHEN e.evidence_path IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('path', e.evidence_path) END
       AS evidence
FROM unnest(%(counters)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY
     AS x(counter_id, a, b, n)
CROSS JOIN LATERAL (SELECT e.* FROM events e WHERE e.counter_id = x.counter_id AND e.type = 'officer_absent'
                    AND e.time < x.b AND e.time >= x.a - interval '1 day' AND (e.end_time IS NULL OR e.end_time > x.a)
                    ORDER BY e.time LIMIT 1) e
"""


@dataclass
class OfficerAbsence:
    counter_id: int
    start: datetime
    end: datetime
    event_id: UUID | None = None  # the officer_absent event (its pictures; its clip once recordings exist)
    camera_id: int | None = None  # the camera that saw it
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass
class OfficerFigures:
    """Figures of one day, or of the month (``day`` None)."""

    day: date | None
    scheduled_s: float = 0.0
    present_s: float = 0.0
    unobserved_s: float = 0.0  # scheduled, but without a presence sample (camera down, no camera)
    absences: int = 0
    sessions: int = 0
    service_mean_s: float | None = None
    service_p90_s: float | None = None
    wait_mean_s: float | None = None
    wait_p90_s: float | None = None
    tickets_served: int = 0
    ratings: int = 0
    rating_mean: float | None = None
    ratings_satisfied: int = 0


@dataclass
class OfficerMonth:
    officer_id: int
    month: date  # its first day
    assignments: list[Assignment]
    total: OfficerFigures
    days: list[OfficerFigures]
    absences: list[OfficerAbsence]


def month_days(month: date, today: date) -> list[date]:
    """The month's days up to ``today``."""
    last = month.replace(day=months.monthrange(month.year, month.month)[1])
    days, day = [], month.replace(day=1)
    while day <= min(last, today):
        days.append(day)
        day += timedelta(days=1)
    return days


def officer_month(conn: psycopg.Connection, officer: dict[str, Any], site: dict[str, Any], month: date, *,
                  now: datetime | None = None, absence_min_s: float = ABSENCE_MIN_S,
                  max_gap_s: float = MAX_GAP_S) -> OfficerMonth:
    """The officer's figures for ``month`` at its site (site row with ``timezone`` and ``working_hours``)."""
    now = now or datetime.now(UTC)
    calendar = site_calendar(site)
    today = now.astimezone(calendar.tz).date()
    days = month_days(month, today)
    by_day = site_assignments(conn, site["id"], calendar.timezone, days[0], days[-1]) if days else {}
    spans: list[tuple[date, Assignment]] = []
    for day, found in by_day.items():
        for a in found:
            clipped = a.clipped(a.start, min(a.end, now)) if a.officer_id == officer["id"] else None
            if clipped is not None:
                spans.append((day, clipped))
    figures = {day: OfficerFigures(day) for day in days}
    total = OfficerFigures(None)
    absences = _presence(conn, calendar, spans, figures, total, absence_min_s, max_gap_s)
    _link_events(conn, absences)
    params = {"counters": [a.counter_id for _, a in spans], "starts": [a.start for _, a in spans],
              "ends": [a.end for _, a in spans], "days": [d for d, _ in spans]}
    if spans:
        _aggregates(conn, params, figures, total)
    return OfficerMonth(officer["id"], month.replace(day=1), [a for _, a in spans], total, list(figures.values()),
                        absences)


def _presence(conn: psycopg.Connection, calendar: Any, spans: list[tuple[date, Assignment]],
              figures: dict[date, OfficerFigures], total: OfficerFigures, absence_min_s: float,
              max_gap_s: float) -> list[OfficerAbsence]:
    if not spans:
        return []
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        found = cur.execute(_PRESENCE, {"counters": [a.counter_id for _, a in spans],
                                        "starts": [a.start for _, a in spans], "ends": [a.end for _, a in spans],
                                        "gap": max_gap_s}).fetchall()
    absences = []
    for (day, span), row in zip(spans, found, strict=True):
        intervals = [(a.timestamp(), b.timestamp()) for a, b in calendar.open_intervals_between(span.start, span.end)]
        scheduled = sum(b - a for a, b in intervals)
        [seen] = staffing(unpack([row["samples"]]), intervals, max_gap_s, absence_min_s)
        for target in (figures[day], total):
            target.scheduled_s += scheduled
            target.present_s += seen.staffed_s
            target.unobserved_s += scheduled - seen.observed_s
            target.absences += len(seen.absences)
        absences += [OfficerAbsence(span.counter_id, datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC))
                     for a, b in seen.absences]
    return absences


def _link_events(conn: psycopg.Connection, absences: list[OfficerAbsence]) -> None:
    if not absences:
        return
    params = {"counters": [a.counter_id for a in absences], "starts": [a.start for a in absences],
              "ends": [a.end for a in absences]}
    for found in rows(conn, _EVENTS, params):
        absence = absences[found["n"] - 1]
        absence.event_id, absence.camera_id, absence.evidence = found["id"], found["camera_id"], dict(found["evidence"])


def _aggregates(conn: psycopg.Connection, params: dict[str, Any], figures: dict[date, OfficerFigures],
                total: OfficerFigures) -> None:
    def target(day: date | None) -> OfficerFigures:
        return total if day is None else figures[day]

    for r in rows(conn, _SESSIONS, params):
        found = target(r["day"])
        found.sessions = int(r["sessions"])
        found.service_mean_s, found.service_p90_s = _float(r["service_mean"]), _float(r["service_p90"])
        found.wait_mean_s, found.wait_p90_s = _float(r["wait_mean"]), _float(r["wait_p90"])
    for r in rows(conn, _RATINGS, params):
        found = target(r["day"])
        found.ratings, found.rating_mean, found.ratings_satisfied = int(r["ratings"]), _float(r["rating_mean"]), \
            int(r["satisfied"])
    for r in rows(conn, _TICKETS, params):
        target(r["day"]).tickets_served = int(r["served"])


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
