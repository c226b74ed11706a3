"""The real TimescaleDB engine for tests (the WASM build in tools/timescaledb, served over the wire
protocol by pglite-socket), and the deterministic city-day both engines are loaded with.

The engine keeps one session for all connections and hangs past two concurrent ones: tests keep at most
one connection of their own plus one writer thread, connect with ``sslmode=disable`` and
``prepare_threshold=None``, and never COPY into it.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from core.calendar import WEEKDAYS
from core.types import CameraHealth, CameraState, CounterSession, Event, EventType, Observation, Severity
from tests.support.net import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = ROOT / "tools" / "timescaledb"
SERVER_JS = ENGINE_DIR / "node_modules" / "@electric-sql" / "pglite-socket" / "dist" / "scripts" / "server.js"
START_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def timescale_url() -> Iterator[str]:
    """URL of a fresh in-memory TimescaleDB (PostgreSQL 17 + TimescaleDB 2.23, WASM) on a free loopback port, one
    per test module: each module migrates its own engine from nothing (a shared one made the first module's
    migrations everyone's, and "migrate applies every step" true only for whichever module ran first)."""
    node = shutil.which("node")
    if node is None or not SERVER_JS.exists():
        pytest.skip("the WASM TimescaleDB engine is not installed (run scripts/setup.sh: node + tools/timescaledb)")
    port = free_port()
    log = (ROOT / "var" / "timescaledb-test.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [node, str(SERVER_JS), "--port", str(port), "--host", "127.0.0.1", "--max-connections", "2",
             "--extensions", "@electric-sql/pglite/timescaledb:timescaledb"],
            cwd=ENGINE_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port, timeout_s=START_TIMEOUT_S)
        except TimeoutError:
            pytest.fail(f"the TimescaleDB engine did not listen within {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def connect_timescale(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row)  # type: ignore[return-value]


# -- the deterministic city-day ---------------------------------------------------------------------
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Three local days ago: its 1-day chunk (UTC days) is always past a 1-day compression policy, whatever
# the hour (Vietnam's date runs 7 h ahead of UTC); the daily rollup policy's 7-day window covers it.
DAY = datetime.now(TZ).date() - timedelta(days=3)
WORKING_HOURS = {"weekly": {d: [["07:30", "11:30"], ["13:30", "17:00"]] for d in WEEKDAYS},
                 "holidays": ["2020-09-02"], "timezone": "Asia/Ho_Chi_Minh"}


@dataclass
class City:
    """Ids of what ``seed_city`` created."""

    center: int = 0
    street: int = 0
    desk_camera: int = 0
    street_camera: int = 0
    staff_zone: int = 0
    customer_zone: int = 0
    queue_zone: int = 0  # the desk camera's queue zone, where the hall rule writes queue_length
    crowd_zone: int = 0
    counter: int = 0
    extra: dict = field(default_factory=dict)


def seed_city(conn: psycopg.Connection) -> City:
    """A service center with one counter watched by one camera (staff, customer and queue zones), and a street
    with one camera."""
    import json

    city = City()
    one = lambda q, p=(): conn.execute(q, p).fetchone()["id"]  # noqa: E731
    city.center = one("INSERT INTO sites (code, name, kind, level, working_hours) VALUES"
                      " ('hcc-q1', 'Trung tâm HCC Quận 1', 'service_center', 'district', %s) RETURNING id",
                      (json.dumps(WORKING_HOURS),))
    city.street = one("INSERT INTO sites (code, name, kind) VALUES ('le-loi', 'Đường Lê Lợi', 'street') RETURNING id")
    city.desk_camera = one("INSERT INTO cameras (site_id, name, source_kind) VALUES (%s, 'Quầy 1', 'rtsp')"
                           " RETURNING id", (city.center,))
    city.street_camera = one("INSERT INTO cameras (site_id, name, source_kind) VALUES (%s, 'Ngã tư', 'rtsp')"
                             " RETURNING id", (city.street,))
    zone = "INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, %s, %s, '[[0,0],[1,0],[1,1]]') RETURNING id"
    city.staff_zone = one(zone, (city.desk_camera, "officer", "counter_staff"))
    city.customer_zone = one(zone, (city.desk_camera, "citizens", "counter_customer"))
    city.queue_zone = one(zone, (city.desk_camera, "waiting", "queue"))
    city.crowd_zone = one(zone, (city.street_camera, "sidewalk", "crowd"))
    city.counter = one("INSERT INTO counters (site_id, number, department, officer, camera_id, staff_zone_id,"
                       " customer_zone_id) VALUES (%s, 1, 'Tư pháp', 'Nguyễn Văn A', %s, %s, %s) RETURNING id",
                       (city.center, city.desk_camera, city.staff_zone, city.customer_zone))
    return city


def local(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


def day_observations(city: City, step_s: int = 10) -> list[Observation]:
    """07:00-17:30: officer present except 09:00-09:20 (an absence) and 15:00-15:02 (a short step away);
    queue length = minute of the hour mod 7, on the desk camera's queue zone as the hall rule writes it (never on
    the counter's customer zone); 60 people on the sidewalk at 08:00, else minute mod 11."""
    out: list[Observation] = []
    moment, end = local(7), local(17, 30)
    while moment < end:
        away = local(9) <= moment < local(9, 20) or local(15) <= moment < local(15, 2)
        out.append(Observation(moment, city.desk_camera, "officer_present", 0.0 if away else 1.0, city.staff_zone))
        out.append(Observation(moment, city.desk_camera, "queue_length", float(moment.minute % 7), city.queue_zone))
        if moment.second == 0:
            crowd = 60.0 if moment.hour == 8 and moment.minute == 0 else float(moment.minute % 11)
            out.append(Observation(moment, city.street_camera, "zone_count", crowd, city.crowd_zone))
        moment += timedelta(seconds=step_s)
    return out


def day_sessions(city: City) -> list[CounterSession]:
    """A citizen every 6 minutes while open: 4 minutes of service, waits of 0..4 minutes."""
    out: list[CounterSession] = []
    for index in range(200):
        start = local(7, 40) + timedelta(minutes=6 * index)
        if start >= local(16, 40):
            break
        if local(11, 30) <= start < local(13, 30):
            continue
        wait = timedelta(minutes=index % 5)
        out.append(CounterSession(city.counter, start, start + timedelta(minutes=4), track_id=index,
                                  queue_enter=start - wait if index % 3 else None,
                                  id=uuid.UUID(int=1000 + index)))
    return out


def day_events(city: City) -> list[Event]:
    absent = Event(EventType.OFFICER_ABSENT, city.desk_camera, local(9, 1), Severity.HIGH, end=local(9, 20),
                   zone_id=city.staff_zone, counter_id=city.counter, attributes={"minutes": 19},
                   id=uuid.UUID(int=1))
    crowds = [Event(EventType.CROWD, city.street_camera, local(8, 0, index), Severity.MEDIUM,
                    end=local(8, 1, index), zone_id=city.crowd_zone, attributes={"people": 60 + index},
                    id=uuid.UUID(int=100 + index)) for index in range(12)]
    waiting = Event(EventType.LONG_WAIT, city.desk_camera, local(10), Severity.LOW, zone_id=city.customer_zone,
                    counter_id=city.counter, site_id=city.center, id=uuid.UUID(int=2))
    return [absent, *crowds, waiting]


def day_health(city: City) -> list[CameraHealth]:
    out: list[CameraHealth] = []
    for minute in range(0, 11 * 60, 5):
        moment = local(7) + timedelta(minutes=minute)
        for camera in (city.desk_camera, city.street_camera):
            offline = camera == city.street_camera and 600 <= minute < 630
            out.append(CameraHealth(moment, camera, CameraState.OFFLINE if offline else CameraState.ONLINE,
                                    input_fps=0.0 if offline else 25.0, analytics_fps=0.0 if offline else 2.0,
                                    reconnects=1 if minute >= 630 and camera == city.street_camera else 0))
    return out


def as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
