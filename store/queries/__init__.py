"""Read side of the store: what the console, the API and the reports ask for. Every function takes a connection
(any row factory) and returns typed values or dict rows; the same answers on TimescaleDB and plain PostgreSQL.
"""

from store.queries._common import local_day_bounds
from store.queries.audit import Absence, CounterAudit, counter_daily_audit, site_daily_audit
from store.queries.events import (
    EventFilter,
    EventPage,
    EventRow,
    event_notes,
    events_after,
    events_by_ids,
    get_event,
    iter_events,
    last_seq,
    list_events,
    search_events,
)
from store.queries.live import CameraHealthNow, camera_health_latest
from store.queries.reports import hall_stats, live_counters, street_stats
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
    "Absence", "CameraHealthNow", "CameraUptimeRow", "CounterAudit", "CounterRollupRow",
    "CounterTimeline", "EventFilter", "EventPage", "EventRow", "PresenceSegment", "RollupRow",
    "camera_health_latest", "camera_uptime", "counter_daily_audit", "counter_rollup", "counter_timeline",
    "event_notes", "events_after", "events_by_ids", "get_event", "hall_stats", "iter_events", "last_seq",
    "list_events", "live_counters", "local_day_bounds", "observation_rollup",
    "search_events", "site_daily_audit", "street_stats",
]
