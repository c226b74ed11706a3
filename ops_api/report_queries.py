"""SQL behind the reports: live counter state, a counter's day (timeline and audit), the hall's queue and
waits, and a street's line counts and incidents. The audit itself is vision.rules.audit's pure function.

These belong in store/queries.py once it offers them; kept together here so the move is a rename.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from vigil.calendar import CalendarError, WorkingCalendar
from vigil.types import CounterSession, Event, EventType, Observation, Severity
from vision.rules.audit import CounterAudit, Rating, TicketEvent, daily_counter_audit

LIVE_COUNTERS_SQL = """
SELECT c.id AS counter_id, c.site_id, c.number, c.department, c.officer, c.camera_id,
       p.value AS officer_present, p.time AS presence_time,
       coalesce(s.served, 0) AS served_today, s.wait_mean_s, s.service_mean_s,
       q.value AS queue_length, coalesce(e.open_events, 0) AS open_events
FROM counters c
JOIN sites st ON st.id = c.site_id
CROSS JOIN LATERAL (SELECT date_trunc('day', now() AT TIME ZONE st.timezone) AT TIME ZONE st.timezone AS midnight) d
LEFT JOIN LATERAL (SELECT value, time FROM observations o WHERE o.camera_id = c.camera_id
                   AND o.metric = 'officer_present' AND o.zone_id = c.staff_zone_id
                   AND o.time > now() - interval '1 day' ORDER BY o.time DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (SELECT value FROM observations o WHERE o.camera_id = c.camera_id
                   AND o.metric = 'queue_length' AND o.zone_id = c.customer_zone_id
                   AND o.time > now() - interval '10 minutes' ORDER BY o.time DESC LIMIT 1) q ON true
LEFT JOIN LATERAL (SELECT count(*) AS served, avg(extract(epoch FROM cs.time - cs.queue_enter)) AS wait_mean_s,
                          avg(extract(epoch FROM cs.service_end - cs.time)) AS service_mean_s
                   FROM counter_sessions cs WHERE cs.counter_id = c.id AND cs.time >= d.midnight) s ON true
LEFT JOIN LATERAL (SELECT count(*) AS open_events FROM events ev WHERE ev.counter_id = c.id
                   AND ev.end_time IS NULL AND ev.status <> 'resolved'
                   AND ev.time > now() - interval '7 days') e ON true
WHERE (%(scope)s::bigint[] IS NULL OR c.site_id = ANY(%(scope)s)) AND (%(site)s::bigint IS NULL OR c.site_id = %(site)s)
ORDER BY c.site_id, c.number
"""


def live_counters(conn: psycopg.Connection, scope: list[int] | None, site_id: int | None) -> list[dict[str, Any]]:
    """Each counter now: officer present (and since when it was last seen), served today, waits, open events."""
    return conn.execute(LIVE_COUNTERS_SQL, {"scope": scope, "site": site_id}).fetchall()


def site_calendar(site: dict[str, Any]) -> WorkingCalendar:
    try:
        return WorkingCalendar.from_dict(site["working_hours"], default_timezone=site["timezone"])
    except (CalendarError, TypeError):
        return WorkingCalendar.always_open(site["timezone"])


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def counter_day_rows(conn: psycopg.Connection, counter: dict[str, Any], start: datetime,
                     end: datetime) -> dict[str, Any]:
    """Everything recorded for one counter in [start, end): presence, sessions, absences, queue, devices."""
    camera, staff = counter["camera_id"], counter["staff_zone_id"]
    presence = [Observation(r["time"], camera, "officer_present", r["value"], staff) for r in conn.execute(
        "SELECT time, value FROM observations WHERE camera_id = %s AND metric = 'officer_present' AND zone_id = %s"
        " AND time >= %s AND time < %s ORDER BY time", (camera, staff, start, end))] if camera and staff else []
    queue = [Observation(r["time"], camera, "queue_length", r["value"], counter["customer_zone_id"])
             for r in conn.execute("SELECT time, value FROM observations WHERE camera_id = %s AND metric ="
                                   " 'queue_length' AND zone_id = %s AND time >= %s AND time < %s",
                                   (camera, counter["customer_zone_id"], start, end))] \
        if camera and counter["customer_zone_id"] else []
    sessions = [CounterSession(counter["id"], r["time"], r["service_end"], r["track_id"], r["queue_enter"], r["id"])
                for r in conn.execute("SELECT id, time, service_end, track_id, queue_enter FROM counter_sessions"
                                      " WHERE counter_id = %s AND time >= %s AND time < %s ORDER BY time",
                                      (counter["id"], start, end))]
    events = conn.execute("SELECT id, time, end_time, type, severity, status, attributes, evidence_path FROM events"
                          " WHERE counter_id = %s AND time >= %s AND time < %s ORDER BY time",
                          (counter["id"], start, end)).fetchall()
    tickets = [TicketEvent(r["time"], r["kind"], r["ticket_number"]) for r in conn.execute(
        "SELECT time, kind, ticket_number FROM ticket_events WHERE counter_id = %s AND time >= %s AND time < %s",
        (counter["id"], start, end))]
    ratings = [Rating(r["time"], r["score"]) for r in conn.execute(
        "SELECT time, score FROM ratings WHERE counter_id = %s AND time >= %s AND time < %s",
        (counter["id"], start, end))]
    return {"presence": presence, "queue": queue, "sessions": sessions, "events": events, "tickets": tickets,
            "ratings": ratings}


def _absence_events(counter_id: int, rows: list[dict[str, Any]]) -> list[Event]:
    return [Event(EventType.OFFICER_ABSENT, None, r["time"], Severity(r["severity"]), r["end_time"],
                  counter_id=counter_id, attributes=r["attributes"] or {}, evidence_path=r["evidence_path"], id=r["id"])
            for r in rows if r["type"] == EventType.OFFICER_ABSENT.value]


def counter_audit(conn: psycopg.Connection, counter: dict[str, Any], site: dict[str, Any], day: date) -> CounterAudit:
    """The daily audit of one counter (vision.rules.audit) from its rows of that local day."""
    start, end = local_day_bounds(day, site["timezone"])
    rows = counter_day_rows(conn, counter, start, end)
    return daily_counter_audit(counter["id"], day, site_calendar(site), rows["presence"], rows["sessions"],
                               _absence_events(counter["id"], rows["events"]), rows["queue"],
                               rows["tickets"] or None, rows["ratings"] or None)


def hall_stats(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Queue now (per queue zone), people in the hall, and the day's waits and hourly queue lengths."""
    zones = conn.execute(
        "SELECT z.id, z.name, z.camera_id, o.value, o.time FROM zones z JOIN cameras c ON c.id = z.camera_id"
        " LEFT JOIN LATERAL (SELECT value, time FROM observations WHERE camera_id = z.camera_id AND zone_id = z.id"
        " AND metric = 'queue_length' AND time > now() - interval '10 minutes' ORDER BY time DESC LIMIT 1) o ON true"
        " WHERE c.site_id = %s AND z.kind = 'queue' ORDER BY z.name", (site_id,)).fetchall()
    hall = conn.execute(
        "SELECT sum(v) AS people FROM cameras c CROSS JOIN LATERAL (SELECT value AS v FROM observations"
        " WHERE camera_id = c.id AND metric = 'hall_count' AND zone_id IS NULL AND time > now() - interval"
        " '10 minutes' ORDER BY time DESC LIMIT 1) o WHERE c.site_id = %s", (site_id,)).fetchone()
    waits = conn.execute(
        "SELECT count(*) AS citizens, count(cs.queue_enter) AS waited,"
        " avg(extract(epoch FROM cs.time - cs.queue_enter)) AS wait_mean_s,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p50_s,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p90_s,"
        " max(extract(epoch FROM cs.time - cs.queue_enter)) AS wait_max_s,"
        " avg(extract(epoch FROM cs.service_end - cs.time)) AS service_mean_s"
        " FROM counter_sessions cs JOIN counters c ON c.id = cs.counter_id"
        " WHERE c.site_id = %s AND cs.time >= %s AND cs.time < %s", (site_id, start, end)).fetchone()
    hourly = conn.execute(
        "SELECT bucket AS hour, sum(total) / nullif(sum(samples), 0) AS queue_mean, max(high) AS queue_max"
        " FROM observation_hourly WHERE metric = 'queue_length' AND bucket >= %s AND bucket < %s"
        " AND zone_id IN (SELECT z.id FROM zones z JOIN cameras c ON c.id = z.camera_id WHERE c.site_id = %s)"
        " GROUP BY bucket ORDER BY bucket", (start, end, site_id)).fetchall()
    return {"queue_now": [{"zone_id": z["id"], "zone": z["name"], "camera_id": z["camera_id"],
                           "queue_length": z["value"], "time": z["time"]} for z in zones],
            "people_in_hall": hall["people"] if hall else None, "waits": waits, "hourly_queue": hourly}


def street_stats(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Line counts by line, class and direction, and incidents by type, for [start, end)."""
    lines = conn.execute(
        "SELECT z.id AS zone_id, z.name AS line, split_part(h.metric, ':', 2) AS class_name,"
        " split_part(h.metric, ':', 3) AS direction, sum(h.total)::bigint AS count"
        " FROM observation_hourly h JOIN zones z ON z.id = h.zone_id JOIN cameras c ON c.id = z.camera_id"
        " WHERE c.site_id = %s AND h.metric LIKE 'line_count:%%' AND h.bucket >= %s AND h.bucket < %s"
        " GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4", (site_id, start, end)).fetchall()
    incidents = conn.execute(
        "SELECT type, count(*) AS total, count(*) FILTER (WHERE status <> 'resolved') AS unresolved,"
        " count(*) FILTER (WHERE end_time IS NULL) AS ongoing FROM events"
        " WHERE site_id = %s AND time >= %s AND time < %s GROUP BY type ORDER BY type",
        (site_id, start, end)).fetchall()
    return {"line_counts": lines, "incidents": incidents}
