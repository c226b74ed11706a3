"""What the hall screen shows, and the wait forecast per department: each counter open or closed, the ticket it is
serving (when a ticket system reports calls), and for each department the people ahead, the counters open and
the expected wait of a citizen taking a ticket now (``core.forecast``).

Nothing personal leaves here: no officer, no absence, no picture. A counter is open within the site's working
hours when its camera saw its officer at the desk within the last minute; a counter without presence data is
open while someone is assigned to it (roster, exception or a ticket system's log-in).

The people ahead of a department: with a ticket system connected (it reported a ticket today), the tickets of
its service issued today and not yet called, skipped or served; otherwise the people in the queue zones of the
cameras that watch its counters (a queue shared by several departments counts whole for each).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from core.calendar import WorkingCalendar
from core.forecast import QueueState, expected_wait_s, recent_service_s
from store.assignments import assigned_at, site_assignments
from store.queries._common import local_day_bounds, rows
from store.queries.audit import site_calendar
from store.queries.timeline import MAX_GAP_S

_COUNTERS = """
SELECT k.id, k.number, k.department, k.camera_id,
       (SELECT o.value FROM observations o WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present'
          AND o.zone_id = k.staff_zone_id AND o.time > %(now)s - make_interval(secs => %(gap)s) AND o.time <= %(now)s
        ORDER BY o.time DESC LIMIT 1) AS present,
       (SELECT o.value FROM observations o WHERE o.camera_id = k.camera_id AND o.metric = 'citizen_served'
          AND o.zone_id = k.customer_zone_id AND o.time > %(now)s - interval '10 minutes' AND o.time <= %(now)s
        ORDER BY o.time DESC LIMIT 1) AS serving_citizen,
       EXISTS (SELECT 1 FROM observations o WHERE o.camera_id = k.camera_id AND o.metric = 'officer_present'
          AND o.zone_id = k.staff_zone_id AND o.time >= %(midnight)s AND o.time <= %(now)s AND o.value >= 0.5)
       AS staffed_today,
       t.ticket_number AS last_ticket, t.kind AS last_ticket_kind
FROM counters k
LEFT JOIN LATERAL (SELECT ticket_number, kind FROM ticket_events e WHERE e.counter_id = k.id
                   AND e.kind IN ('called', 'served', 'skipped') AND e.time >= %(midnight)s AND e.time <= %(now)s
                   ORDER BY e.time DESC LIMIT 1) t ON true
WHERE k.site_id = %(site)s::bigint ORDER BY k.number
"""
_QUEUES = """
SELECT z.camera_id, (SELECT o.value FROM observations o WHERE o.camera_id = z.camera_id AND o.zone_id = z.id
                       AND o.metric = 'queue_length' AND o.time > %(now)s - interval '10 minutes' AND o.time <= %(now)s
                     ORDER BY o.time DESC LIMIT 1) AS people
FROM zones z JOIN cameras c ON c.id = z.camera_id WHERE c.site_id = %(site)s::bigint AND z.kind = 'queue'
"""
_TICKETS_WAITING = """
SELECT lower(btrim(coalesce(i.service, ''))) AS service, count(*) AS waiting FROM ticket_events i
WHERE i.site_id = %(site)s::bigint AND i.kind = 'issued' AND i.time >= %(midnight)s AND i.time <= %(now)s
  AND NOT EXISTS (SELECT 1 FROM ticket_events c WHERE c.site_id = i.site_id AND c.ticket_number = i.ticket_number
                  AND c.kind IN ('called', 'served', 'skipped') AND c.time >= i.time AND c.time <= %(now)s)
GROUP BY 1
"""
_TICKET_SYSTEM = ("SELECT EXISTS (SELECT 1 FROM ticket_events WHERE site_id = %(site)s::bigint"
                  " AND time >= %(midnight)s AND time <= %(now)s) AS connected")
_RECENT_SERVICE = """
SELECT k.department, extract(epoch FROM cs.service_end - cs.time)::float8 AS service_s
FROM counter_sessions cs JOIN counters k ON k.id = cs.counter_id
WHERE k.site_id = %(site)s::bigint AND cs.service_end > %(since)s AND cs.service_end <= %(now)s
ORDER BY cs.service_end
"""


@dataclass(frozen=True)
class BoardCounter:
    number: int
    department: str
    open: bool
    serving: str | None  # the ticket number called to this counter and not yet done


@dataclass(frozen=True)
class BoardDepartment:
    department: str
    waiting: float | None  # people ahead of a newcomer (None: nothing measures it)
    counters_open: int
    forecast_wait_s: float | None
    source: str  # tickets | cameras


@dataclass
class Board:
    time: datetime
    open_now: bool  # within the site's working hours
    counters: list[BoardCounter] = field(default_factory=list)
    departments: list[BoardDepartment] = field(default_factory=list)


def _key(text: str | None) -> str:
    return (text or "").strip().lower()


def hall_board(conn: psycopg.Connection, site: dict[str, Any], *, now: datetime | None = None,
               default_service_s: float = 300.0, recent_sessions: int = 20, recent_window_s: float = 7200.0,
               max_gap_s: float = MAX_GAP_S) -> Board:
    """The site's hall now (site row with ``id``, ``timezone``, ``working_hours``)."""
    now = now or datetime.now(UTC)
    calendar: WorkingCalendar = site_calendar(site)
    today = now.astimezone(calendar.tz).date()
    midnight, _ = local_day_bounds(today, calendar.timezone)
    params = {"site": site["id"], "now": now, "midnight": midnight, "gap": max_gap_s,
              "since": now - timedelta(seconds=recent_window_s)}
    open_now = calendar.is_open(now)
    assignments = site_assignments(conn, site["id"], calendar.timezone, today, today)[today]
    counters = rows(conn, _COUNTERS, params)
    board = Board(now, open_now)
    by_department: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for k in counters:
        assigned = assigned_at(assignments, k["id"], now) is not None
        k["open"] = open_now and (k["present"] >= 0.5 if k["present"] is not None else assigned)
        k["staffed"] = k["open"] or k["staffed_today"] or assigned
        serving = k["last_ticket"] if k["last_ticket_kind"] == "called" and k["open"] else None
        board.counters.append(BoardCounter(k["number"], k["department"], k["open"], serving))
        by_department[k["department"]].append(k)
    tickets = bool(rows(conn, _TICKET_SYSTEM, params)[0]["connected"])
    waiting = _ticket_queues(conn, params, list(by_department)) if tickets else _camera_queues(conn, params,
                                                                                               by_department)
    services: dict[str, list[float]] = defaultdict(list)
    for r in rows(conn, _RECENT_SERVICE, params):
        services[r["department"]].append(r["service_s"])
    for department, members in by_department.items():
        opened = [k for k in members if k["open"]]
        busy = sum(1 for k in opened if (k["last_ticket_kind"] == "called" if tickets
                                         else (k["serving_citizen"] or 0) >= 0.5))
        state = QueueState(waiting.get(department) or 0.0, len(opened), busy,
                           recent_service_s(services[department], default_service_s, recent_sessions),
                           counters_staffed=sum(1 for k in members if k["staffed"]))
        board.departments.append(BoardDepartment(
            department, waiting.get(department), len(opened), expected_wait_s(state) if open_now else None,
            "tickets" if tickets else "cameras"))
    return board


def _ticket_queues(conn: psycopg.Connection, params: dict[str, Any], departments: list[str]) -> dict[str, float]:
    """Tickets waiting per department: by their service's name; unnamed ones go to a hall of one department."""
    names = {_key(d): d for d in departments}
    out = {d: 0.0 for d in departments}
    for r in rows(conn, _TICKETS_WAITING, params):
        department = names.get(r["service"]) or (departments[0] if len(departments) == 1 else None)
        if department is not None:
            out[department] += r["waiting"]
    return out


def _camera_queues(conn: psycopg.Connection, params: dict[str, Any],
                   by_department: dict[str, list[dict[str, Any]]]) -> dict[str, float | None]:
    """People in the queue zones of the cameras that watch each department's counters (None: no queue zone)."""
    per_camera: dict[int, float | None] = {}
    for r in rows(conn, _QUEUES, params):
        if r["people"] is not None:
            per_camera[r["camera_id"]] = (per_camera.get(r["camera_id"]) or 0.0) + r["people"]
        else:
            per_camera.setdefault(r["camera_id"], None)
    out: dict[str, float | None] = {}
    for department, members in by_department.items():
        cameras = {k["camera_id"] for k in members if k["camera_id"] in per_camera}
        seen = [per_camera[c] for c in cameras if per_camera[c] is not None]
        out[department] = sum(seen) if seen else None  # type: ignore[arg-type]
    return out
