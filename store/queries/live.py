"""What the console shows live: every camera's latest health, and one camera's health samples (each counter's
state now is ``store.queries.reports.live_counters``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from store.errors import StoreInputError
from store.queries._common import rows


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


# The API's form: the camera's own state beside its latest sample's (``h_state``), within a scope and a site.
_CAMERAS_HEALTH = """
SELECT c.id AS camera_id, c.site_id, c.name, c.enabled, c.state, c.state_since, h.*
FROM cameras c
LEFT JOIN LATERAL (SELECT time, state AS h_state, input_fps, analytics_fps, decode_errors, reconnects,
                          last_frame_age_s, width, height, lag_s
                   FROM camera_health WHERE camera_id = c.id ORDER BY time DESC LIMIT 1) h ON true
WHERE (%(scope)s::bigint[] IS NULL OR c.site_id = ANY(%(scope)s::bigint[]))
  AND (%(site)s::bigint IS NULL OR c.site_id = %(site)s::bigint)
ORDER BY c.site_id, c.name
"""


def cameras_health(conn: psycopg.Connection, scope: Sequence[int] | None,
                   site_id: int | None = None) -> list[dict[str, Any]]:
    """Every camera within the scope (of one site when given) with its state and its latest health sample
    (``time`` None when it never reported; the sample's state as ``h_state``)."""
    return rows(conn, _CAMERAS_HEALTH, {"scope": None if scope is None else sorted(scope), "site": site_id})


def health_samples(conn: psycopg.Connection, camera_id: int, since: datetime | None,
                   limit: int) -> list[dict[str, Any]]:
    """One camera's health samples since ``since`` (None: all), newest first, at most ``limit``."""
    return rows(conn, "SELECT * FROM camera_health WHERE camera_id = %s::bigint"
                      " AND (%s::timestamptz IS NULL OR time >= %s) ORDER BY time DESC LIMIT %s",
                (camera_id, since, since, limit))
