"""What the API's reports read besides the daily audit: every counter's state now (with the user's scope), the
hall's queue and waits for a day, and a street's line counts and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from store.queries._common import one, rows

# The queue a counter's camera sees: the latest queue_length of each of its zones (zone ids listed, so the
# index's time bound applies per zone instead of reading the camera's whole queue history).
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
                       AND o.zone_id = ANY(ARRAY(SELECT z.id FROM zones z WHERE z.camera_id = c.camera_id))
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
    return rows(conn, LIVE_COUNTERS_SQL, {"scope": scope, "site": site_id})


def hall_stats(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime,
               timezone: str) -> dict[str, Any]:
    """Queue now (per queue zone), people in the hall, the day's waits, and per local hour (in ``timezone``)
    the hall's queue and the waits of the citizens whose service started in it (mean and p90).

    The hall's queue of an hour is its queue zones summed (the rules write ``queue_length`` per queue zone):
    ``queue_mean`` is the sum of the zones' means (the mean of their sum, a camera sampling its zones together);
    ``queue_max`` is the sum of the zones' highs, the longest queue with one zone and an upper bound of it with
    several (zones may peak at different moments; the hourly rollups keep no per-moment sums)."""
    zones = rows(
        conn, "SELECT z.id, z.name, z.camera_id, o.value, o.time FROM zones z JOIN cameras c ON c.id = z.camera_id"
        " LEFT JOIN LATERAL (SELECT value, time FROM observations WHERE camera_id = z.camera_id AND zone_id = z.id"
        " AND metric = 'queue_length' AND time > now() - interval '10 minutes' ORDER BY time DESC LIMIT 1) o ON true"
        " WHERE c.site_id = %s AND z.kind = 'queue' ORDER BY z.name", (site_id,))
    hall = one(
        conn, "SELECT sum(v) AS people FROM cameras c CROSS JOIN LATERAL (SELECT value AS v FROM observations"
        " WHERE camera_id = c.id AND metric = 'hall_count' AND zone_id IS NULL AND time > now() - interval"
        " '10 minutes' ORDER BY time DESC LIMIT 1) o WHERE c.site_id = %s", (site_id,))
    waits = one(
        conn, "SELECT count(*) AS citizens, count(cs.queue_enter) AS waited,"
        " avg(extract(epoch FROM cs.time - cs.queue_enter)) AS wait_mean_s,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p50_s,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p90_s,"
        " max(extract(epoch FROM cs.time - cs.queue_enter)) AS wait_max_s,"
        " avg(extract(epoch FROM cs.service_end - cs.time)) AS service_mean_s"
        " FROM counter_sessions cs JOIN counters c ON c.id = cs.counter_id"
        " WHERE c.site_id = %s AND cs.time >= %s AND cs.time < %s", (site_id, start, end))
    hourly = rows(  # the hall's queue: each zone's hourly mean and high, summed over the site's zones
        conn, "SELECT hour, sum(mean) AS queue_mean, sum(high) AS queue_max FROM (SELECT bucket AS hour, zone_id,"
        " sum(total) / nullif(sum(samples), 0) AS mean, max(high) AS high"
        " FROM observation_hourly WHERE metric = 'queue_length' AND bucket >= %s AND bucket < %s"
        " AND zone_id IN (SELECT z.id FROM zones z JOIN cameras c ON c.id = z.camera_id WHERE c.site_id = %s)"
        " GROUP BY 1, 2) per_zone GROUP BY hour ORDER BY hour", (start, end, site_id))
    hourly_waits = rows(
        conn, "SELECT date_trunc('hour', cs.time AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s AS hour,"
        " count(*) AS citizens, avg(extract(epoch FROM cs.time - cs.queue_enter))::float8 AS wait_mean_s,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS wait_p90_s"
        " FROM counter_sessions cs JOIN counters c ON c.id = cs.counter_id WHERE c.site_id = %(site)s"
        " AND cs.time >= %(start)s AND cs.time < %(end)s AND cs.queue_enter IS NOT NULL GROUP BY 1 ORDER BY 1",
        {"tz": timezone, "site": site_id, "start": start, "end": end})
    return {"queue_now": [{"zone_id": z["id"], "zone": z["name"], "camera_id": z["camera_id"],
                           "queue_length": z["value"], "time": z["time"]} for z in zones],
            "people_in_hall": hall["people"] if hall else None, "waits": waits, "hourly_queue": hourly,
            "hourly_waits": hourly_waits}


def street_stats(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Line counts by line, class and direction, and incidents by type, for [start, end)."""
    lines = rows(
        conn, "SELECT z.id AS zone_id, z.name AS line, split_part(h.metric, ':', 2) AS class_name,"
        " split_part(h.metric, ':', 3) AS direction, sum(h.total)::bigint AS count"
        " FROM observation_hourly h JOIN zones z ON z.id = h.zone_id JOIN cameras c ON c.id = z.camera_id"
        " WHERE c.site_id = %s AND h.metric LIKE 'line_count:%%' AND h.bucket >= %s AND h.bucket < %s"
        " GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4", (site_id, start, end))
    incidents = rows(
        conn, "SELECT type, count(*) AS total, count(*) FILTER (WHERE status <> 'resolved') AS unresolved,"
        " count(*) FILTER (WHERE end_time IS NULL) AS ongoing FROM events"
        " WHERE site_id = %s AND time >= %s AND time < %s GROUP BY type ORDER BY type",
        (site_id, start, end))
    return {"line_counts": lines, "incidents": incidents}
