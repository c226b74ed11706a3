"""What the console shows live: each counter's state at a site, and every camera's latest health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from store.errors import StoreInputError
from store.queries._common import rows, site_timezone


@dataclass(frozen=True)
class CounterState:
    counter_id: int
    number: int
    department: str
    officer: str | None
    camera_id: int | None
    officer_present: float | None  # latest officer_present sample (1 present, 0 absent), None when never seen
    presence_at: datetime | None
    queue_length: float | None
    queue_at: datetime | None
    served_today: int  # sessions started since local midnight
    open_events: int  # events on the counter the rules still hold open (started within a day)


_COUNTERS = """
SELECT k.id AS counter_id, k.number, k.department, k.officer, k.camera_id,
       p.value AS officer_present, p.time AS presence_at, q.value AS queue_length, q.time AS queue_at,
       (SELECT count(*) FROM counter_sessions s WHERE s.counter_id = k.id AND s.time >= %(day_start)s)
           AS served_today,
       (SELECT count(*) FROM events e WHERE e.counter_id = k.id AND e.end_time IS NULL AND e.time >= %(since)s)
           AS open_events
FROM counters k
LEFT JOIN LATERAL (SELECT o.time, o.value FROM observations o
                   WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present' AND o.zone_id = k.staff_zone_id
                   ORDER BY o.time DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (SELECT o.time, o.value FROM observations o
                   WHERE o.camera_id = k.camera_id AND o.metric = 'queue_length' AND o.zone_id = k.customer_zone_id
                   ORDER BY o.time DESC LIMIT 1) q ON true
WHERE k.site_id = %(site_id)s::bigint
ORDER BY k.number
"""


def live_counter_state(conn: psycopg.Connection, site_id: int, now: datetime | None = None) -> list[CounterState]:
    """Every counter of the site with its latest presence and queue samples, today's count and open events."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(site_timezone(conn, site_id))
    current = (now or datetime.now(tz)).astimezone(tz)
    day_start = current.replace(hour=0, minute=0, second=0, microsecond=0)
    found = rows(conn, _COUNTERS, {"site_id": site_id, "day_start": day_start, "since": current - timedelta(days=1)})
    return [CounterState(**row) for row in found]


@dataclass(frozen=True)
class CameraHealthNow:
    camera_id: int
    site_id: int
    name: str
    enabled: bool
    time: datetime | None  # of the latest health sample; None when the camera never reported
    state: str | None
    input_fps: float | None
    analytics_fps: float | None
    decode_errors: int | None
    reconnects: int | None
    last_frame_age_s: float | None
    lag_s: float | None


_HEALTH = """
SELECT c.id AS camera_id, c.site_id, c.name, c.enabled, h.time, h.state, h.input_fps, h.analytics_fps,
       h.decode_errors, h.reconnects, h.last_frame_age_s, h.lag_s
FROM cameras c
LEFT JOIN LATERAL (SELECT * FROM camera_health h WHERE h.camera_id = c.id ORDER BY h.time DESC LIMIT 1) h ON true
WHERE %(sites)s::bigint[] IS NULL OR c.site_id = ANY(%(sites)s::bigint[])
ORDER BY c.site_id, c.name
"""


def camera_health_latest(conn: psycopg.Connection, site_ids: Sequence[int] | None = None) -> list[CameraHealthNow]:
    """The latest health sample of every camera (of ``site_ids`` when given: a user's scope)."""
    if site_ids is not None and not all(isinstance(s, int) for s in site_ids):
        raise StoreInputError("site_ids", "must be whole numbers")
    found = rows(conn, _HEALTH, {"sites": list(site_ids) if site_ids is not None else None})
    return [CameraHealthNow(**row) for row in found]
