"""One counter's day as the console draws it: officer presence segments, the queue, citizens served, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg
from psycopg.rows import tuple_row

from store.errors import StoreInputError
from store.queries._common import local_day_bounds, one, rows

MAX_GAP_S = 60.0  # no sample for longer than this: the camera did not see the counter (unknown)


@dataclass(frozen=True)
class PresenceSegment:
    start: datetime
    end: datetime
    present: bool


@dataclass(frozen=True)
class QueuePoint:
    time: datetime  # start of a 5-minute slot
    mean: float
    high: float


@dataclass(frozen=True)
class ServedCitizen:
    service_start: datetime
    service_end: datetime
    wait_s: float | None


@dataclass
class CounterTimeline:
    counter_id: int
    day: date
    timezone: str
    presence: list[PresenceSegment] = field(default_factory=list)
    queue: list[QueuePoint] = field(default_factory=list)
    served: list[ServedCitizen] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def counter_of(conn: psycopg.Connection, counter_id: int) -> dict:
    found = one(conn, "SELECT k.id, k.site_id, k.camera_id, k.staff_zone_id, k.customer_zone_id, s.timezone,"
                      " s.working_hours FROM counters k JOIN sites s ON s.id = k.site_id WHERE k.id = %s::bigint",
                (counter_id,))
    if found is None:
        raise StoreInputError("counter_id", f"unknown counter {counter_id}")
    return found


def presence_samples(conn: psycopg.Connection, counter: dict, start: datetime, end: datetime
                     ) -> list[tuple[float, float]]:
    """(unix seconds, officer_present) of the counter's staff zone in [start, end), in time order."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT extract(epoch FROM time)::float8, value FROM observations WHERE camera_id = %s::bigint"
                    " AND metric = 'officer_present' AND zone_id = %s::bigint AND time >= %s AND time < %s"
                    " ORDER BY time", (counter["camera_id"], counter["staff_zone_id"], start, end))
        return cur.fetchall()  # type: ignore[return-value]


def presence_segments(samples: list[tuple[float, float]], max_gap_s: float = MAX_GAP_S) -> list[PresenceSegment]:
    """Runs of equal presence; a run ends at the next sample, or ``max_gap_s`` after its last one."""
    spans: list[tuple[float, float, bool]] = []
    run_start = last = 0.0
    run_present: bool | None = None
    for moment, value in samples:
        present = value >= 0.5
        if run_present is not None and (present != run_present or moment - last > max_gap_s):
            spans.append((run_start, min(moment, last + max_gap_s), run_present))
            run_present = None
        if run_present is None:
            run_start, run_present = moment, present
        last = moment
    if run_present is not None:
        spans.append((run_start, last + min(max_gap_s, 10.0), run_present))
    return [PresenceSegment(_at(a), _at(b), present) for a, b, present in spans]


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# The queue the counter's camera sees, as the live view and the audit's peak read it: the rules write
# queue_length per queue zone, so each moment's zones are summed before the 5-minute mean and high.
_QUEUE = """
SELECT date_bin('5 minutes', time, %(start)s) AS time, avg(total) AS mean, max(total) AS high
FROM (SELECT o.time, sum(o.value) AS total FROM observations o
      WHERE o.camera_id = %(camera)s::bigint AND o.metric = 'queue_length' AND o.time >= %(start)s AND o.time < %(end)s
        AND o.zone_id = ANY(ARRAY(SELECT z.id FROM zones z WHERE z.camera_id = %(camera)s::bigint))
      GROUP BY o.time) moments
GROUP BY 1 ORDER BY 1
"""


def counter_timeline(conn: psycopg.Connection, counter_id: int, day: date, tz: str | None = None
                     ) -> CounterTimeline:
    """The counter's local day (the site's time zone unless ``tz``): presence, the queue its camera sees per
    5 minutes (its zones summed at each moment), served, events."""
    counter = counter_of(conn, counter_id)
    timezone = tz or counter["timezone"]
    start, end = local_day_bounds(day, timezone)
    timeline = CounterTimeline(counter_id, day, timezone)
    timeline.presence = presence_segments(presence_samples(conn, counter, start, end))
    timeline.queue = [QueuePoint(**r) for r in rows(conn, _QUEUE, {"start": start, "end": end,
                                                                     "camera": counter["camera_id"]})]
    timeline.served = [ServedCitizen(**r) for r in rows(
        conn, "SELECT time AS service_start, service_end, extract(epoch FROM time - queue_enter)::float8 AS wait_s"
              " FROM counter_sessions WHERE counter_id = %s::bigint AND time >= %s AND time < %s ORDER BY time",
        (counter_id, start, end))]
    timeline.events = rows(
        conn, "SELECT id, seq, time, end_time, type, severity, status FROM events"
              " WHERE counter_id = %s::bigint AND time >= %s AND time < %s ORDER BY time", (counter_id, start, end))
    return timeline
