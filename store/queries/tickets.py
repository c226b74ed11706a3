"""Queue length and waits from a queue-ticket system, where one is connected; the camera is the fallback.

A ticket machine reports each ticket issued, called (by a counter), served and skipped (``ticket_events``,
posted by the machine or imported from its day log). Its figures are exact where the camera's are estimates
(people partly hidden in a long queue, a citizen who sits down): a ticket's wait is from its issue to its
first call, and the queue of a service at any moment is the tickets issued and neither called nor skipped yet.

``ticket_queue`` reads them for a site and a time range; ``counter_waits`` picks, per counter, the tickets'
waits when that counter called tickets in the range and the camera's sessions otherwise, and says which.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import psycopg

from store.queries._common import rows

Source = Literal["tickets", "camera"]

# One row per ticket of the range: its issue, first call and skip, the counter that called it, its service.
_TICKETS = """
SELECT device_id, ticket_number, coalesce(service, '') AS service,
       min(time) FILTER (WHERE kind = 'issued') AS issued,
       min(time) FILTER (WHERE kind = 'called') AS called,
       min(time) FILTER (WHERE kind = 'skipped') AS skipped,
       (array_agg(counter_id ORDER BY time) FILTER (WHERE kind = 'called' AND counter_id IS NOT NULL))[1] AS counter_id
FROM ticket_events
WHERE site_id = %(site)s::bigint AND time >= %(start)s AND time < %(end)s
GROUP BY device_id, ticket_number, coalesce(service, '')
"""

_CAMERA_WAITS = """
SELECT counter_id, extract(epoch FROM time - queue_enter)::float8 AS wait_s
FROM counter_sessions
WHERE counter_id = ANY(%(counters)s::bigint[]) AND time >= %(start)s AND time < %(end)s AND queue_enter IS NOT NULL
"""


@dataclass(frozen=True)
class Ticket:
    service: str
    issued: datetime
    called: datetime | None
    skipped: datetime | None
    counter_id: int | None

    @property
    def wait_s(self) -> float | None:
        return None if self.called is None else (self.called - self.issued).total_seconds()


@dataclass
class TicketQueue:
    """A site's tickets of a range: per service, the queue length as steps (time, tickets waiting)."""

    tickets: list[Ticket] = field(default_factory=list)
    steps: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)

    def length_at(self, service: str, moment: datetime) -> int | None:
        """Tickets of ``service`` waiting at ``moment`` (None: no ticket of that service in the range)."""
        steps = self.steps.get(service)
        if not steps:
            return None
        waiting = 0
        for at, count in steps:
            if at > moment:
                break
            waiting = count
        return waiting

    def peak(self, service: str) -> tuple[int, datetime] | None:
        steps = self.steps.get(service)
        if not steps:
            return None
        count, at = max((c, -t.timestamp()) for t, c in steps)
        return count, datetime.fromtimestamp(-at, steps[0][0].tzinfo)


def ticket_queue(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime) -> TicketQueue:
    """The site's tickets issued in [start, end) and the queue they made, per service."""
    tickets = [Ticket(r["service"], r["issued"], r["called"], r["skipped"], r["counter_id"])
               for r in rows(conn, _TICKETS, {"site": site_id, "start": start, "end": end}) if r["issued"]]
    queue = TicketQueue(tickets)
    changes: dict[str, list[tuple[datetime, int]]] = {}
    for ticket in tickets:
        changes.setdefault(ticket.service, []).append((ticket.issued, +1))
        left = min((t for t in (ticket.called, ticket.skipped) if t is not None), default=None)
        if left is not None:
            changes[ticket.service].append((left, -1))
    for service, deltas in changes.items():
        waiting, steps = 0, []
        for at, delta in sorted(deltas, key=lambda d: (d[0], d[1])):  # a call before an issue at the same instant
            waiting += delta
            steps.append((at, waiting))
        queue.steps[service] = steps
    return queue


@dataclass(frozen=True)
class CounterWaits:
    counter_id: int
    source: Source
    count: int
    mean_s: float | None
    p90_s: float | None


def counter_waits(conn: psycopg.Connection, site_id: int, counter_ids: list[int], start: datetime,
                  end: datetime, tickets: TicketQueue | None = None) -> dict[int, CounterWaits]:
    """Each counter's waits in [start, end): from the tickets it called when it called any, else from the
    camera's counter sessions (queue entry to service start). ``tickets``: the range's, when already read."""
    by_tickets: dict[int, list[float]] = {}
    for ticket in (tickets or ticket_queue(conn, site_id, start, end)).tickets:
        if ticket.counter_id in counter_ids and ticket.wait_s is not None:
            by_tickets.setdefault(int(ticket.counter_id), []).append(ticket.wait_s)  # type: ignore[arg-type]
    by_camera: dict[int, list[float]] = {}
    missing = [c for c in counter_ids if c not in by_tickets]
    if missing:
        for r in rows(conn, _CAMERA_WAITS, {"counters": missing, "start": start, "end": end}):
            by_camera.setdefault(int(r["counter_id"]), []).append(float(r["wait_s"]))
    out = {}
    for counter_id in counter_ids:
        source: Source = "tickets" if counter_id in by_tickets else "camera"
        waits = by_tickets.get(counter_id) or by_camera.get(counter_id) or []
        out[counter_id] = CounterWaits(counter_id, source, len(waits), statistics.fmean(waits) if waits else None,
                                       _p90(waits))
    return out


def _p90(values: list[float]) -> float | None:
    """The 90th percentile, interpolated as PostgreSQL's percentile_cont does."""
    if not values:
        return None
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
