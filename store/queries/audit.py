"""The daily audit of a site's counters, the raw material of the managers' reports: minutes open and staffed,
absences during working hours (with the ``officer_absent`` event and its evidence), citizens served, service
and wait times (mean, p90), peak queue, and the ticket machines' and satisfaction terminals' figures.

Presence is the ``officer_present`` samples read as a step function: each value holds until the next sample
but at most ``max_gap_s`` (a camera that stopped reporting is not a staffed desk), clipped to the site's
working hours. An absence is a run of "not present" samples lasting ``absence_min_s`` of working time or
more. The peak queue is the longest queue the counter's camera saw (its zones' ``queue_length`` summed).

One query answers every counter of a site for one day or several (one counter is the same query narrowed; a
month is each of its days, exactly as their daily audits): it aggregates sessions, tickets and ratings, and packs
each counter's presence and queue samples of a day into one bytea each, which store.queries.steps walks as
arrays; a second query finds the event of each absence. Walking the samples in SQL (window functions,
gaps-and-islands) gave the same answers for two to three times the database CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from core.calendar import CalendarError, WorkingCalendar
from store.errors import StoreInputError
from store.queries._common import local_day_bounds, one, rows
from store.queries.steps import Staffing, peaks, staffing, unpack
from store.queries.tickets import counter_waits, ticket_queue
from store.queries.timeline import MAX_GAP_S

ABSENCE_MIN_S = 300.0  # shorter gaps are a step away from the desk, not an absence


@dataclass(frozen=True)
class Absence:
    start: datetime
    end: datetime
    event_id: UUID | None = None  # the officer_absent event the rule raised for it, when there is one
    evidence: dict[str, str] = field(default_factory=dict)  # that event's pictures: label -> path

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
    waits: int = 0  # sessions whose citizen was seen queueing (the wait figures are over these)
    peak_queue: float | None = None
    peak_queue_at: datetime | None = None
    # Where waits and the peak queue come from: "tickets" when the counter called tickets that day (exact),
    # "camera" otherwise (store.queries.tickets).
    queue_source: str = "camera"
    # Ticket machines and satisfaction terminals: None when no device reported that day (not zero).
    tickets_issued: int | None = None
    tickets_called: int | None = None
    tickets_served: int | None = None
    ratings: int | None = None
    rating_mean: float | None = None
    ratings_while_absent: int | None = None  # ratings given while the officer was not seen at the desk
    ratings_satisfied: int | None = None  # ratings of 4 or 5 (satisfied or very satisfied)


def site_calendar(site: dict) -> WorkingCalendar:
    """The site's working hours, validated; a bad calendar is a StoreInputError naming the field."""
    try:
        return WorkingCalendar.from_dict(site["working_hours"], field="sites.working_hours",
                                         default_timezone=site["timezone"])
    except CalendarError as exc:
        where, _, why = str(exc).partition(": ")
        raise StoreInputError(where or "sites.working_hours", why or str(exc)) from None


# Each counter's samples of the day, packed as binary (time, value) pairs (store.queries.steps reads them).
_SAMPLES = ("SELECT string_agg(timestamptz_send(o.time) || float8send(o.value), ''::bytea) AS samples"
            " FROM observations o WHERE o.camera_id = k.camera_id AND o.time >= d.start AND o.time < d.stop")

_AUDIT = f"""
SELECT d.n AS day_n, k.id AS counter_id, p.samples AS presence, q.samples AS queue, ses.sessions,
       ses.service_mean, ses.service_p90, ses.wait_mean, ses.wait_p90, ses.waits, tk.issued, tk.called, tk.served,
       rt.ratings, rt.rating_mean, rt.while_absent, rt.satisfied
FROM counters k
CROSS JOIN unnest(%(starts)s::timestamptz[], %(stops)s::timestamptz[]) WITH ORDINALITY AS d(start, stop, n)
CROSS JOIN LATERAL ({_SAMPLES} AND o.metric = 'officer_present' AND o.zone_id = k.staff_zone_id) p
CROSS JOIN LATERAL ({_SAMPLES} AND o.metric = 'queue_length'
                    AND o.zone_id = ANY(ARRAY(SELECT z.id FROM zones z WHERE z.camera_id = k.camera_id))) q
CROSS JOIN LATERAL (
    SELECT count(*) AS sessions, avg(extract(epoch FROM service_end - time))::float8 AS service_mean,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM service_end - time)) AS service_p90,
           avg(extract(epoch FROM time - queue_enter))::float8 AS wait_mean,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM time - queue_enter)) AS wait_p90,
           count(queue_enter) AS waits
    FROM counter_sessions WHERE counter_id = k.id AND time >= d.start AND time < d.stop) ses
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE kind = 'issued') AS issued, count(*) FILTER (WHERE kind = 'called') AS called,
           count(*) FILTER (WHERE kind = 'served') AS served
    FROM ticket_events WHERE counter_id = k.id AND time >= d.start AND time < d.stop) tk
CROSS JOIN LATERAL (  -- a rating is given while absent unless the latest presence sample says present and holds
    SELECT count(*) AS ratings, avg(score)::float8 AS rating_mean, count(*) FILTER (WHERE score >= 4) AS satisfied,
           count(*) FILTER (WHERE NOT coalesce((
               SELECT o.value >= 0.5 AND r.time < o.time + make_interval(secs => %(gap)s) FROM observations o
               WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present' AND o.zone_id = k.staff_zone_id
                 AND o.time >= d.start AND o.time <= r.time ORDER BY o.time DESC LIMIT 1), false)) AS while_absent
    FROM ratings r WHERE r.counter_id = k.id AND r.time >= d.start AND r.time < d.stop) rt
WHERE k.site_id = %(site)s::bigint AND (%(ids)s::bigint[] IS NULL OR k.id = ANY(%(ids)s::bigint[]))
ORDER BY d.n, k.number
"""

# The officer_absent event the rule raised for each absence (the earliest one overlapping it) and its pictures.
_EVENTS = """
SELECT x.n, e.id, e.evidence
FROM unnest(%(counters)s::bigint[], %(starts)s::float8[], %(ends)s::float8[], %(days)s::timestamptz[])
     WITH ORDINALITY AS x(counter_id, a, b, day_start, n)
CROSS JOIN LATERAL (
    SELECT e.id, CASE WHEN jsonb_typeof(e.attributes -> 'evidence') = 'object'
                      THEN e.attributes -> 'evidence' ELSE '{}'::jsonb END
                 || CASE WHEN e.evidence_path IS NULL THEN '{}'::jsonb
                         ELSE jsonb_build_object('path', e.evidence_path) END AS evidence
    FROM events e WHERE e.counter_id = x.counter_id AND e.type = 'officer_absent'
      AND e.time < to_timestamp(x.b) AND e.time >= x.day_start - interval '1 day'
      AND (e.end_time IS NULL OR e.end_time > to_timestamp(x.a))
    ORDER BY e.time LIMIT 1) e
"""

def _site(conn: psycopg.Connection, site_id: int) -> dict[str, Any]:
    found = one(conn, "SELECT id, timezone, working_hours, EXISTS (SELECT 1 FROM counters k WHERE k.site_id = s.id)"
                      " AS has_counters FROM sites s WHERE id = %s::bigint", (site_id,))
    if found is None:
        raise StoreInputError("site_id", f"unknown site {site_id}")
    return found


def _audits(conn: psycopg.Connection, site: dict[str, Any], days: Sequence[date], counter_ids: list[int] | None,
            absence_min_s: float, max_gap_s: float) -> dict[date, list[CounterAudit]]:
    """Each day's audit of the counters, every day walked on its own (its samples, its working hours)."""
    calendar = site_calendar(site)
    bounds = [local_day_bounds(day, calendar.timezone) for day in days]
    with conn.cursor(row_factory=dict_row, binary=True) as cur:  # binary: the packed samples travel as they are
        found = cur.execute(_AUDIT, {"site": site["id"], "ids": counter_ids, "starts": [b[0] for b in bounds],
                                     "stops": [b[1] for b in bounds], "gap": max_gap_s}).fetchall()
    out: dict[date, list[CounterAudit]] = {}
    for n, day in enumerate(days, start=1):
        day_rows = [r for r in found if r["day_n"] == n]
        intervals = [(a.timestamp(), b.timestamp()) for a, b in calendar.open_intervals(day)]
        minutes_open = sum(b - a for a, b in intervals) / 60
        presence = staffing(unpack([r["presence"] for r in day_rows]), intervals, max_gap_s, absence_min_s)
        queue = peaks(unpack([r["queue"] for r in day_rows]))
        out[day] = [_audit(*found_row, day, minutes_open) for found_row in zip(day_rows, presence, queue, strict=True)]
    _link_events(conn, [(a, start) for (start, _), day in zip(bounds, days, strict=True) for a in out[day]])
    for (start, end), day in zip(bounds, days, strict=True):
        if any(a.tickets_called for a in out[day]):  # a day no counter called a ticket costs no more queries
            _ticket_figures(conn, site["id"], out[day], start, end)
    return out


def _ticket_figures(conn: psycopg.Connection, site_id: int, audits: list[CounterAudit], start: datetime,
                    end: datetime) -> None:
    """Where a ticket system is connected, each counter's waits and peak queue from its tickets (the camera's
    figures stay where the counter called none)."""
    tickets = ticket_queue(conn, site_id, start, end)
    if not tickets.tickets:
        return
    waits = counter_waits(conn, site_id, [a.counter_id for a in audits], start, end, tickets)
    for audit in audits:
        found = waits[audit.counter_id]
        if found.source != "tickets":
            continue
        audit.queue_source, audit.wait_mean_s, audit.wait_p90_s = "tickets", found.mean_s, found.p90_s
        audit.waits = found.count
        services = {t.service for t in tickets.tickets if t.counter_id == audit.counter_id}
        peaks = [p for p in (tickets.peak(s) for s in services) if p is not None]
        if peaks:
            count, at = max(peaks, key=lambda p: p[0])
            audit.peak_queue, audit.peak_queue_at = float(count), at


def _audit(row: dict[str, Any], presence: Staffing, peak: tuple[float, float] | None, day: date,
           minutes_open: float) -> CounterAudit:
    reported = bool(row["issued"] or row["called"] or row["served"])
    rated = bool(row["ratings"])
    return CounterAudit(
        row["counter_id"], day, minutes_open, presence.staffed_s / 60, minutes_open - presence.observed_s / 60,
        [Absence(_at(a), _at(b)) for a, b in presence.absences], sessions=int(row["sessions"] or 0),
        service_mean_s=_float(row["service_mean"]), service_p90_s=_float(row["service_p90"]),
        wait_mean_s=_float(row["wait_mean"]), wait_p90_s=_float(row["wait_p90"]), waits=int(row["waits"] or 0),
        peak_queue=peak[0] if peak else None, peak_queue_at=_at(peak[1]) if peak else None,
        tickets_issued=row["issued"] if reported else None, tickets_called=row["called"] if reported else None,
        tickets_served=row["served"] if reported else None, ratings=row["ratings"] if rated else None,
        rating_mean=row["rating_mean"], ratings_while_absent=row["while_absent"] if rated else None,
        ratings_satisfied=row["satisfied"] if rated else None)


def _link_events(conn: psycopg.Connection, audits: list[tuple[CounterAudit, datetime]]) -> None:
    """Each absence gets the officer_absent event raised for it, when there is one (one query in all)."""
    listed = [(audit, day_start, index) for audit, day_start in audits for index in range(len(audit.absences))]
    if not listed:
        return
    params = {"counters": [audit.counter_id for audit, _, _ in listed],
              "days": [day_start for _, day_start, _ in listed],
              "starts": [audit.absences[i].start.timestamp() for audit, _, i in listed],
              "ends": [audit.absences[i].end.timestamp() for audit, _, i in listed]}
    for found in rows(conn, _EVENTS, params):
        audit, _, index = listed[found["n"] - 1]
        audit.absences[index] = replace(audit.absences[index], event_id=found["id"], evidence=dict(found["evidence"]))


def site_daily_audit(conn: psycopg.Connection, site_id: int, day: date, *, absence_min_s: float = ABSENCE_MIN_S,
                     max_gap_s: float = MAX_GAP_S) -> list[CounterAudit]:
    """The daily audit of every counter of a site (its time zone and working-hours calendar), by counter
    number; a site without counters gives []."""
    return site_audits_of_days(conn, site_id, [day], absence_min_s=absence_min_s, max_gap_s=max_gap_s)[day]


def site_audits_of_days(conn: psycopg.Connection, site_id: int, days: Sequence[date], *,
                        absence_min_s: float = ABSENCE_MIN_S, max_gap_s: float = MAX_GAP_S,
                        ) -> dict[date, list[CounterAudit]]:
    """``site_daily_audit`` of each of ``days`` (the same figures, one query for them all): a month's report is
    the sum of its days' audits."""
    site = _site(conn, site_id)
    if not site["has_counters"] or not days:
        return {day: [] for day in days}
    return _audits(conn, site, list(days), None, absence_min_s, max_gap_s)


def counter_daily_audit(conn: psycopg.Connection, counter_id: int, day: date, *,
                        absence_min_s: float = ABSENCE_MIN_S, max_gap_s: float = MAX_GAP_S) -> CounterAudit:
    """One counter's local day (its site's time zone and working-hours calendar)."""
    found = one(conn, "SELECT site_id FROM counters WHERE id = %s::bigint", (counter_id,))
    if found is None:
        raise StoreInputError("counter_id", f"unknown counter {counter_id}")
    [audit] = _audits(conn, _site(conn, found["site_id"]), [day], [counter_id], absence_min_s, max_gap_s)[day]
    return audit


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
