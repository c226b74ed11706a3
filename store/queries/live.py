"""What the console shows live: every camera's latest health (each counter's state now is
``store.queries.reports.live_counters``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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
