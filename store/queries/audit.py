"""The daily audit of a site's counters, the raw material of the managers' reports: minutes open and staffed,
absences during working hours (with the ``officer_absent`` event and its evidence), citizens served, service
and wait times (mean, p90), peak queue, and the ticket machines' and satisfaction terminals' figures.

Presence is the ``officer_present`` samples read as a step function: each value holds until the next sample
but at most ``max_gap_s`` (a camera that stopped reporting is not a staffed desk), clipped to the site's
working hours. An absence is a run of "not present" samples lasting ``absence_min_s`` of working time or
more. One set-based query answers every counter of a site for a day; one counter is the same query narrowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg

from store.errors import StoreInputError
from store.queries._common import local_day_bounds, one, rows
from store.queries.timeline import MAX_GAP_S
from vigil.calendar import CalendarError, WorkingCalendar

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
    peak_queue: float | None = None
    peak_queue_at: datetime | None = None
    # Ticket machines and satisfaction terminals: None when no device reported that day (not zero).
    tickets_issued: int | None = None
    tickets_called: int | None = None
    tickets_served: int | None = None
    ratings: int | None = None
    rating_mean: float | None = None
    ratings_while_absent: int | None = None  # ratings given while the officer was not seen at the desk


def site_calendar(site: dict) -> WorkingCalendar:
    """The site's working hours, validated; a bad calendar is a StoreInputError naming the field."""
    try:
        return WorkingCalendar.from_dict(site["working_hours"], field="sites.working_hours",
                                         default_timezone=site["timezone"])
    except CalendarError as exc:
        where, _, why = str(exc).partition(": ")
        raise StoreInputError(where or "sites.working_hours", why or str(exc)) from None


# Per counter, one pass in time order: each presence sample holds until the next one, at most %(gap)s seconds;
# ``seen`` is the part of that within working hours (one term per working interval). A sample is of kind
# "c" (absent, seen, the next sample follows without a gap), "g" (absent, seen, a gap follows) or "b" (present,
# or absent outside working hours). A run of absent samples starts at a c or g whose previous sample is not a c,
# and ends at a g (its end), at a b after a c (its start), or at the last sample (its end). The previous
# sample's kind is worked out again from lag(): its "next sample" is the current one.
_PRESENCE = """
SELECT sum(seen) AS observed, coalesce(sum(seen) FILTER (WHERE NOT absent), 0) AS staffed,
       array_agg(t ORDER BY t) FILTER (WHERE kind <> 'b' AND NOT prev_c) AS run_starts,
       array_agg(CASE WHEN kind = 'b' THEN t ELSE until END ORDER BY t)
           FILTER (WHERE kind = 'g' OR (kind = 'b' AND prev_c) OR (kind = 'c' AND nxt IS NULL)) AS run_ends
FROM (
    SELECT t, absent, nxt, until, seen,
           CASE WHEN NOT absent OR seen = 0 THEN 'b' WHEN nxt > t + %(gap)s THEN 'g' ELSE 'c' END AS kind,
           coalesce(prev_absent AND t <= prev_t + %(gap)s AND {prev_seen} > 0, false) AS prev_c
    FROM (
        SELECT *, {seen} AS seen
        FROM (
            SELECT *, least(coalesce(nxt, t + %(gap)s), t + %(gap)s) AS until
            FROM (
                SELECT t, absent, lead(t) OVER w AS nxt, lag(t) OVER w AS prev_t, lag(absent) OVER w AS prev_absent
                FROM (SELECT o.time, date_part('epoch', o.time) AS t, o.value < 0.5 AS absent FROM observations o
                      WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present'
                        AND o.zone_id = k.staff_zone_id AND o.time >= %(start)s AND o.time < %(end)s) s
                WINDOW w AS (ORDER BY time)) s1) s2) s3) s4
"""

# The absences among the runs (enough working time), each with the officer_absent event the rule raised for it
# (the earliest one overlapping it) and that event's pictures.
_ABSENCES = """
SELECT array_agg(x.a ORDER BY x.a) AS starts, array_agg(x.b ORDER BY x.a) AS ends,
       array_agg(e.id ORDER BY x.a) AS event_ids, array_agg(e.evidence ORDER BY x.a) AS evidence
FROM unnest(p.run_starts, p.run_ends) AS x(a, b)
LEFT JOIN LATERAL (
    SELECT e.id, CASE WHEN jsonb_typeof(e.attributes -> 'evidence') = 'object'
                      THEN e.attributes -> 'evidence' ELSE '{{}}'::jsonb END
                 || CASE WHEN e.evidence_path IS NULL THEN '{{}}'::jsonb
                         ELSE jsonb_build_object('path', e.evidence_path) END AS evidence
    FROM events e WHERE e.counter_id = k.id AND e.type = 'officer_absent'
      AND e.time < to_timestamp(x.b) AND e.time >= %(start)s - interval '1 day'
      AND (e.end_time IS NULL OR e.end_time > to_timestamp(x.a))
    ORDER BY e.time LIMIT 1) e ON true
WHERE {working} >= %(absence_min)s
"""

_AUDIT = """
SELECT k.id AS counter_id, coalesce(p.observed, 0) AS observed, p.staffed, ab.starts, ab.ends, ab.event_ids,
       ab.evidence, ses.sessions, ses.service_mean, ses.service_p90, ses.wait_mean, ses.wait_p90,
       pk.time AS peak_at, pk.value AS peak, tk.issued, tk.called, tk.served, rt.ratings, rt.rating_mean,
       rt.while_absent
FROM counters k
CROSS JOIN LATERAL ({presence}) p
CROSS JOIN LATERAL ({absences}) ab
CROSS JOIN LATERAL (
    SELECT count(*) AS sessions, avg(extract(epoch FROM service_end - time)) AS service_mean,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM service_end - time)) AS service_p90,
           avg(extract(epoch FROM time - queue_enter)) AS wait_mean,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM time - queue_enter)) AS wait_p90
    FROM counter_sessions WHERE counter_id = k.id AND time >= %(start)s AND time < %(end)s) ses
LEFT JOIN LATERAL (
    SELECT time, sum(value) AS value FROM observations
    WHERE camera_id = k.camera_id AND metric = 'queue_length' AND time >= %(start)s AND time < %(end)s
      AND zone_id = ANY(ARRAY(SELECT z.id FROM zones z WHERE z.camera_id = k.camera_id))
    GROUP BY time ORDER BY sum(value) DESC, time LIMIT 1) pk ON true
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE kind = 'issued') AS issued, count(*) FILTER (WHERE kind = 'called') AS called,
           count(*) FILTER (WHERE kind = 'served') AS served
    FROM ticket_events WHERE counter_id = k.id AND time >= %(start)s AND time < %(end)s) tk
CROSS JOIN LATERAL (
    SELECT count(*) AS ratings, avg(score)::float8 AS rating_mean,
           count(*) FILTER (WHERE NOT coalesce((
               SELECT o.value >= 0.5 AND r.time < o.time + make_interval(secs => %(gap)s) FROM observations o
               WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present' AND o.zone_id = k.staff_zone_id
                 AND o.time >= %(start)s AND o.time <= r.time ORDER BY o.time DESC LIMIT 1), false)) AS while_absent
    FROM ratings r WHERE r.counter_id = k.id AND r.time >= %(start)s AND r.time < %(end)s) rt
WHERE k.site_id = %(site)s::bigint AND (%(ids)s::bigint[] IS NULL OR k.id = ANY(%(ids)s::bigint[]))
ORDER BY k.number
"""


def _overlap(start: str, end: str, intervals: int) -> str:
    """SQL for the seconds of [start, end) within the day's working intervals %(a0)s..%(b0)s, ... ."""
    return " + ".join(f"greatest(0, least({end}, %(b{i})s) - greatest({start}, %(a{i})s))"
                      for i in range(intervals)) or "0::float8"


def audit_query(intervals: int) -> str:
    """The audit query for a calendar day with that many working intervals."""
    presence = _PRESENCE.format(seen=_overlap("t", "until", intervals),
                                prev_seen=_overlap("prev_t", "least(t, prev_t + %(gap)s)", intervals))
    return _AUDIT.format(presence=presence, absences=_ABSENCES.format(working=_overlap("x.a", "x.b", intervals)))


def _site(conn: psycopg.Connection, site_id: int) -> dict[str, Any]:
    found = one(conn, "SELECT id, timezone, working_hours, EXISTS (SELECT 1 FROM counters k WHERE k.site_id = s.id)"
                      " AS has_counters FROM sites s WHERE id = %s::bigint", (site_id,))
    if found is None:
        raise StoreInputError("site_id", f"unknown site {site_id}")
    return found


def _audits(conn: psycopg.Connection, site: dict[str, Any], day: date, counter_ids: list[int] | None,
            absence_min_s: float, max_gap_s: float) -> list[CounterAudit]:
    calendar = site_calendar(site)
    start, end = local_day_bounds(day, calendar.timezone)
    intervals = [(a.timestamp(), b.timestamp()) for a, b in calendar.open_intervals(day)]
    minutes_open = sum(b - a for a, b in intervals) / 60
    params: dict[str, Any] = {"site": site["id"], "ids": counter_ids, "start": start, "end": end, "gap": max_gap_s,
                              "absence_min": absence_min_s}
    for i, (a, b) in enumerate(intervals):
        params[f"a{i}"], params[f"b{i}"] = a, b
    found = rows(conn, audit_query(len(intervals)), params)
    return [_audit(row, day, minutes_open) for row in found]


def _audit(row: dict[str, Any], day: date, minutes_open: float) -> CounterAudit:
    absences = [Absence(_at(a), _at(b), event_id, dict(evidence or {}))
                for a, b, event_id, evidence in zip(row["starts"] or (), row["ends"] or (), row["event_ids"] or (),
                                                    row["evidence"] or (), strict=True)]
    reported = bool(row["issued"] or row["called"] or row["served"])
    rated = bool(row["ratings"])
    return CounterAudit(
        row["counter_id"], day, minutes_open, row["staffed"] / 60, minutes_open - row["observed"] / 60, absences,
        sessions=int(row["sessions"] or 0), service_mean_s=_float(row["service_mean"]),
        service_p90_s=_float(row["service_p90"]), wait_mean_s=_float(row["wait_mean"]),
        wait_p90_s=_float(row["wait_p90"]), peak_queue=row["peak"], peak_queue_at=row["peak_at"],
        tickets_issued=row["issued"] if reported else None, tickets_called=row["called"] if reported else None,
        tickets_served=row["served"] if reported else None, ratings=row["ratings"] if rated else None,
        rating_mean=row["rating_mean"], ratings_while_absent=row["while_absent"] if rated else None)


def site_daily_audit(conn: psycopg.Connection, site_id: int, day: date, *, absence_min_s: float = ABSENCE_MIN_S,
                     max_gap_s: float = MAX_GAP_S) -> list[CounterAudit]:
    """The daily audit of every counter of a site (its time zone and working-hours calendar), by counter
    number, in one query; a site without counters gives []."""
    site = _site(conn, site_id)
    if not site["has_counters"]:
        return []
    return _audits(conn, site, day, None, absence_min_s, max_gap_s)


def counter_daily_audit(conn: psycopg.Connection, counter_id: int, day: date, *,
                        absence_min_s: float = ABSENCE_MIN_S, max_gap_s: float = MAX_GAP_S) -> CounterAudit:
    """One counter's local day (its site's time zone and working-hours calendar)."""
    found = one(conn, "SELECT site_id FROM counters WHERE id = %s::bigint", (counter_id,))
    if found is None:
        raise StoreInputError("counter_id", f"unknown counter {counter_id}")
    [audit] = _audits(conn, _site(conn, found["site_id"]), day, [counter_id], absence_min_s, max_gap_s)
    return audit


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
