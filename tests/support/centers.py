"""Service centers for tests: provinces, centers with counters watched by a camera, officers, and the rows the
vision worker and the ticket machines would have written (presence samples, sessions, ratings, tickets)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

WEEKDAYS_HOURS = {"weekly": {d: [["07:30", "11:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                  "timezone": "Asia/Ho_Chi_Minh"}


@dataclass
class CenterCounter:
    id: int
    number: int
    staff_zone: int
    customer_zone: int


@dataclass
class Center:
    site_id: int
    camera_id: int
    queue_zone: int
    counters: list[CenterCounter] = field(default_factory=list)


def make_province(conn: psycopg.Connection, code: str, name: str) -> int:
    return conn.execute("INSERT INTO provinces (code, name) VALUES (%s, %s) RETURNING id",
                        (code, name)).fetchone()["id"]


def make_center(conn: psycopg.Connection, code: str, name: str, *, province_id: int | None = None,
                level: str = "commune", counters: int = 1, departments: tuple[str, ...] = ("Tư pháp - Hộ tịch",),
                hours: dict[str, Any] | None = None) -> Center:
    """A service center with one camera watching ``counters`` counters (staff and customer zones each) and a
    queue zone; counter n is of department ``departments[(n - 1) % len]``."""
    calendar = Jsonb(WEEKDAYS_HOURS if hours is None else hours)
    site = conn.execute("INSERT INTO sites (code, name, kind, level, province_id, working_hours) VALUES"
                        " (%s, %s, 'service_center', %s, %s, %s) RETURNING id",
                        (code, name, level, province_id, calendar)).fetchone()["id"]
    camera = conn.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri, state) VALUES"
                          " (%s, 'hall', 'file', 'var/footage/vtest.mp4', 'online') RETURNING id",
                          (site,)).fetchone()["id"]

    def zone(name: str, kind: str, x: float) -> int:
        return conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, %s, %s, %s) RETURNING id",
                            (camera, name, kind, Jsonb([[x, 0.1], [x + 0.05, 0.1], [x + 0.05, 0.3]]))).fetchone()["id"]

    center = Center(site, camera, zone("queue", "queue", 0.8))
    for n in range(1, counters + 1):
        staff, customer = zone(f"staff-{n}", "counter_staff", 0.1 * n), zone(f"customer-{n}", "counter_customer",
                                                                              0.1 * n + 0.02)
        counter = conn.execute(
            "INSERT INTO counters (site_id, number, department, camera_id, staff_zone_id, customer_zone_id)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (site, n, departments[(n - 1) % len(departments)], camera, staff, customer)).fetchone()["id"]
        center.counters.append(CenterCounter(counter, n, staff, customer))
    return center


def add_officer(conn: psycopg.Connection, site_id: int, full_name: str, staff_code: str,
                department: str | None = None) -> int:
    return conn.execute("INSERT INTO officers (site_id, full_name, staff_code, department) VALUES (%s, %s, %s, %s)"
                        " RETURNING id", (site_id, full_name, staff_code, department)).fetchone()["id"]


def presence(conn: psycopg.Connection, center: Center, counter: CenterCounter, start: datetime, end: datetime, *,
             absent: list[tuple[datetime, datetime]] = (), step_s: float = 30.0) -> None:  # type: ignore[assignment]
    """``officer_present`` samples every ``step_s`` over [start, end): 0 within the ``absent`` ranges, else 1."""
    times, values = [], []
    moment = start
    while moment < end:
        times.append(moment)
        values.append(0.0 if any(a <= moment < b for a, b in absent) else 1.0)
        moment += timedelta(seconds=step_s)
    conn.execute("INSERT INTO observations (time, camera_id, zone_id, metric, value) SELECT t, %s, %s,"
                 " 'officer_present', v FROM unnest(%s::timestamptz[], %s::float8[]) AS x(t, v)",
                 (center.camera_id, counter.staff_zone, times, values))


def observe(conn: psycopg.Connection, camera_id: int, zone_id: int | None, metric: str, when: datetime,
            value: float) -> None:
    conn.execute("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s, %s, %s, %s, %s)",
                 (when, camera_id, zone_id, metric, value))


def session(conn: psycopg.Connection, center: Center, counter: CenterCounter, start: datetime, service_s: float,
            wait_s: float | None = None) -> None:
    """A citizen served at the counter from ``start`` for ``service_s``, after queueing ``wait_s``."""
    conn.execute("INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id, track_id, queue_enter)"
                 " VALUES (%s, %s, %s, %s, %s, 1, %s)",
                 (uuid.uuid4(), start, start + timedelta(seconds=service_s), counter.id, center.camera_id,
                  None if wait_s is None else start - timedelta(seconds=wait_s)))


def rating(conn: psycopg.Connection, center: Center, counter: CenterCounter, when: datetime, score: int) -> None:
    conn.execute("INSERT INTO ratings (time, site_id, counter_id, device_id, device_event_id, score) VALUES"
                 " (%s, %s, %s, 'terminal-1', %s, %s)", (when, center.site_id, counter.id, uuid.uuid4().hex, score))


def ticket(conn: psycopg.Connection, center: Center, when: datetime, kind: str, number: str,
           counter: CenterCounter | None = None, service: str | None = None) -> None:
    conn.execute("INSERT INTO ticket_events (time, site_id, counter_id, device_id, device_event_id, kind,"
                 " ticket_number, service) VALUES (%s, %s, %s, 'kiosk-1', %s, %s, %s, %s)",
                 (when, center.site_id, counter.id if counter else None, uuid.uuid4().hex, kind, number, service))
