"""SQL behind the reports: live counter state, the counter audit with device figures joined (the audit itself
is store.queries.counter_daily_audit), the hall's queue and waits, and a street's line counts and incidents.

These belong in store/queries.py once it offers them; kept together here so the move is a rename.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from store.queries import counter_daily_audit

LIVE_COUNTERS_SQL = """
SELECT c.id AS counter_id, c.site_id, c.number, c.department, c.officer, c.camera_id,
       p.value AS officer_present, p.time AS presence_time,
       coalesce(s.served, 0) AS served_today, s.wait_mean_s, s.service_mean_s,
       q.value AS queue_length, cz.value = 1 AS citizen_served, coalesce(e.open_events, 0) AS open_events
FROM counters c
JOIN sites st ON st.id = c.site_id
CROSS JOIN LATERAL (SELECT date_trunc('day', now() AT TIME ZONE st.timezone) AT TIME ZONE st.timezone AS midnight) d
LEFT JOIN LATERAL (SELECT value, time FROM observations o WHERE o.camera_id = c.camera_id
                   AND o.metric = 'officer_present' AND o.zone_id = c.staff_zone_id
                   AND o.time > now() - interval '1 day' ORDER BY o.time DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (SELECT sum(latest.value) AS value FROM (
                       SELECT DISTINCT ON (o.zone_id) o.value FROM observations o WHERE o.camera_id = c.camera_id
                       AND o.metric = 'queue_length' AND o.time > now() - interval '10 minutes'
                       ORDER BY o.zone_id, o.time DESC) latest) q ON true
LEFT JOIN LATERAL (SELECT value FROM observations o WHERE o.camera_id = c.camera_id
                   AND o.metric = 'citizen_served' AND o.zone_id = c.customer_zone_id
                   AND o.time > now() - interval '10 minutes' ORDER BY o.time DESC LIMIT 1) cz ON true
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
    """Each counter now: officer present (and since when it was last seen), a citizen being served, the queue
    its camera sees (the latest length of each of its queue zones, summed), served today, waits, open events."""
    return conn.execute(LIVE_COUNTERS_SQL, {"scope": scope, "site": site_id}).fetchall()


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


_DEVICES = """
SELECT (SELECT count(*) FILTER (WHERE kind = 'issued') FROM ticket_events t WHERE t.counter_id = %(c)s
          AND t.time >= %(start)s AND t.time < %(end)s) AS tickets_issued,
       (SELECT count(*) FILTER (WHERE kind = 'called') FROM ticket_events t WHERE t.counter_id = %(c)s
          AND t.time >= %(start)s AND t.time < %(end)s) AS tickets_called,
       (SELECT count(*) FILTER (WHERE kind = 'served') FROM ticket_events t WHERE t.counter_id = %(c)s
          AND t.time >= %(start)s AND t.time < %(end)s) AS tickets_served,
       r.ratings, r.rating_mean
FROM (SELECT count(*) AS ratings, avg(score)::float8 AS rating_mean FROM ratings
      WHERE counter_id = %(c)s AND time >= %(start)s AND time < %(end)s) r
"""


def counter_audit(conn: psycopg.Connection, counter: dict[str, Any], site: dict[str, Any], day: date) -> dict[str, Any]:
    """The daily audit of one counter (store.queries.counter_daily_audit) with the day's ticket-machine and
    satisfaction-terminal figures joined; raises StoreInputError for a site calendar that cannot be read."""
    audit = counter_daily_audit(conn, counter["id"], day)
    start, end = local_day_bounds(day, site["timezone"])
    devices = conn.execute(_DEVICES, {"c": counter["id"], "start": start, "end": end}).fetchone()
    out = asdict(audit)
    out["absences"] = [{"start": a.start, "end": a.end, "minutes": round(a.minutes, 1)} for a in audit.absences]
    for key in ("minutes_open", "minutes_staffed", "minutes_unobserved"):
        out[key] = round(out[key], 1)
    reported = devices["tickets_issued"] or devices["tickets_called"] or devices["tickets_served"]
    out.update({k: (devices[k] if reported else None) for k in ("tickets_issued", "tickets_called", "tickets_served")})
    out.update(ratings=devices["ratings"] or None, rating_mean=devices["rating_mean"])
    return out


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
