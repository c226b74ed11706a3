"""Read side of the store: what the console and the reports ask for. Every function takes a connection
(any row factory) and returns typed values; the same answers on TimescaleDB and plain PostgreSQL.
"""

from store.queries.audit import Absence, CounterAudit, counter_daily_audit, site_daily_audit
from store.queries.events import EventFilters, EventPage, EventRow, search_events
from store.queries.live import CameraHealthNow, CounterState, camera_health_latest, live_counter_state
from store.queries.rollups import (
    CameraUptimeRow,
    CounterRollupRow,
    RollupRow,
    camera_uptime,
    counter_rollup,
    observation_rollup,
)
from store.queries.timeline import CounterTimeline, PresenceSegment, counter_timeline

__all__ = [
    "Absence", "CameraHealthNow", "CameraUptimeRow", "CounterAudit", "CounterRollupRow", "CounterState",
    "CounterTimeline", "EventFilters", "EventPage", "EventRow", "PresenceSegment", "RollupRow",
    "camera_health_latest", "camera_uptime", "counter_daily_audit", "counter_rollup", "counter_timeline",
    "live_counter_state", "observation_rollup", "search_events", "site_daily_audit",
]
