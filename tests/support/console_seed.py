"""A small city for the console tests (and for looking at the console by hand): a service center with three
counters watched by one hall camera, a street junction with three cameras, a day and a half of observations,
counter sessions, tickets, ratings, camera health, and events (one absence with an evidence JPEG)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import psycopg
from psycopg.types.json import Jsonb

TZ = "Asia/Ho_Chi_Minh"
# Real footage as the cameras' sources, so previews and snapshots show real pictures.
HALL_FOOTAGE = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
STREET_FOOTAGE = Path(__file__).resolve().parents[2] / "var" / "footage" / "bikes.mp4"
EVERY_DAY = {day: [["07:30", "11:30"], ["13:30", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
COUNTERS = [(1, "Tư pháp - Hộ tịch", "Nguyễn Thị Lan"), (2, "Đất đai", "Trần Văn Bình"), (3, "Kinh doanh", "Lê Thu Hà")]


@dataclass
class SeededCity:
    center: int
    street: int
    hall_camera: int
    street_cameras: list[int]
    counters: list[int]
    zones: dict[str, int] = field(default_factory=dict)
    events: dict[str, uuid.UUID] = field(default_factory=dict)
    yesterday: str = ""
    province: int = 0  # the center's province, with a second (commune) center in it
    commune: int = 0
    officers: dict[str, int] = field(default_factory=dict)  # full name -> id


def _insert(conn: psycopg.Connection, sql: str, params: tuple) -> int:
    return conn.execute(sql + " RETURNING id", params).fetchone()["id"]


def _zone(conn: psycopg.Connection, camera: int, name: str, kind: str, points: list,
          direction: list | None = None) -> int:
    return _insert(conn, "INSERT INTO zones (camera_id, name, kind, geometry, direction) VALUES (%s, %s, %s, %s, %s)",
                   (camera, name, kind, Jsonb(points), Jsonb(direction) if direction else None))


def evidence_jpeg(data_dir: Path, name: str, text: str) -> str:
    """A synthetic evidence picture under data_dir/evidence; returns its path relative to data_dir."""
    image = np.full((360, 640, 3), (60, 52, 44), np.uint8)
    cv2.rectangle(image, (64, 36), (256, 144), (80, 200, 80), 2)
    cv2.rectangle(image, (300, 120), (360, 300), (60, 60, 230), 3)
    cv2.putText(image, text, (20, 340), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    path = data_dir / "evidence" / f"{name}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return str(path.relative_to(data_dir))


def event(conn: psycopg.Connection, when: datetime, type_: str, severity: str, *, site: int, camera: int | None,
          zone: int | None = None, counter: int | None = None, end: datetime | None = None,
          attributes: dict | None = None, evidence: str | None = None, status: str = "new") -> uuid.UUID:
    event_id = uuid.uuid4()
    conn.execute("INSERT INTO events (id, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity,"
                 " status, attributes, evidence_path) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (event_id, when, end, site, camera, zone, counter, type_, severity, status, Jsonb(attributes or {}),
                  evidence))
    return event_id


def _center(conn: psycopg.Connection, city: SeededCity) -> None:
    city.center = _insert(conn, "INSERT INTO sites (code, name, kind, level, timezone, working_hours, capacity)"
                          " VALUES ('q1-hcc', 'Trung tâm Hành chính công Quận 1', 'service_center', 'district', %s, %s,"
                          " 60)", (TZ, Jsonb({"weekly": EVERY_DAY})))
    city.hall_camera = _insert(conn, "INSERT INTO cameras (site_id, name, source_kind, main_uri, state, position)"
                               " VALUES (%s, 'Sảnh chính - quầy 1-3', 'file', %s, 'online', %s)",
                               (city.center, HALL_FOOTAGE, Jsonb({"x": 0.5, "y": 0.4})))
    for number, department, officer in COUNTERS:
        x = 0.05 + (number - 1) * 0.32
        staff = _zone(conn, city.hall_camera, f"ghe-can-bo-{number}", "counter_staff",
                      [[x, 0.1], [x + 0.25, 0.1], [x + 0.25, 0.35], [x, 0.35]])
        customer = _zone(conn, city.hall_camera, f"cho-cong-dan-{number}", "counter_customer",
                         [[x, 0.4], [x + 0.25, 0.4], [x + 0.25, 0.6], [x, 0.6]])
        city.zones[f"staff-{number}"] = staff
        city.zones[f"customer-{number}"] = customer
        city.counters.append(_insert(
            conn, "INSERT INTO counters (site_id, number, department, officer, camera_id, staff_zone_id,"
            " customer_zone_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (city.center, number, department, officer, city.hall_camera, staff, customer)))
    city.zones["queue"] = _zone(conn, city.hall_camera, "hang-cho-chung", "queue",
                                [[0.05, 0.65], [0.95, 0.65], [0.95, 0.95], [0.05, 0.95]])


def _counter_day(conn: psycopg.Connection, city: SeededCity, day: datetime, now: datetime, data_dir: Path,
                 rng: random.Random) -> None:
    """One local working day of observations, sessions, tickets and ratings (only what is before now)."""
    obs, sessions, tickets, ratings = [], [], [], []
    for index, counter in enumerate(city.counters):
        number = index + 1
        absent = (day.replace(hour=9, minute=5), day.replace(hour=9, minute=45)) if number == 2 else None
        t = day.replace(hour=7, minute=30)
        while t < day.replace(hour=17) and t < now:
            present = not (absent and absent[0] <= t < absent[1]) and not (11 * 60 + 30 <= t.hour * 60 + t.minute
                                                                       < 13 * 60 + 30)
            for minute in range(5):  # vision reports presence about every minute (older than 60 s = unknown)
                if t + timedelta(minutes=minute) < now:
                    obs.append((t + timedelta(minutes=minute), city.hall_camera, city.zones[f"staff-{number}"],
                                "officer_present", float(present)))
            queue = max(0, round(3 + 2.5 * np.sin((t.hour - 7) / 3) + rng.uniform(-1, 1)))
            if index == 0:  # the hall rule writes queue_length on the camera's queue zone, not on counters' zones
                obs.append((t, city.hall_camera, city.zones["queue"], "queue_length", float(queue * 3)))
                obs.append((t, city.hall_camera, None, "hall_count", float(queue * 3 + 6)))
            if present and rng.random() < 0.8:
                start = t + timedelta(minutes=rng.uniform(0, 2))
                end = start + timedelta(minutes=rng.uniform(3, 9))
                if end < now:
                    sessions.append((uuid.uuid4(), start, end, counter, city.hall_camera,
                                     start - timedelta(minutes=rng.uniform(2, 14 + 4 * number))))
                    ticket = f"{number}{len(sessions):03d}"
                    tickets.append((start - timedelta(minutes=15), "issued", ticket, counter))
                    tickets.append((start, "called", ticket, counter))
                    tickets.append((end, "served", ticket, counter))
                    if rng.random() < 0.4:
                        ratings.append((end, rng.choice([3, 4, 5, 5]), counter))
            t += timedelta(minutes=5)
        if absent and absent[0] < now:
            city.events[f"absence-{day.date()}"] = event(
                conn, absent[0], "officer_absent", "medium", site=city.center, camera=city.hall_camera,
                zone=city.zones["staff-2"], counter=counter, end=absent[1] if absent[1] < now else None,
                attributes={"absent_s": 2400}, evidence=evidence_jpeg(data_dir, f"absence-{day.date()}", "quay 2"))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s, %s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING", obs)
        cur.executemany("INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id, queue_enter)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", sessions)
        cur.executemany("INSERT INTO ticket_events (time, site_id, counter_id, device_id, device_event_id, kind,"
                        " ticket_number) VALUES (%s, %s, %s, 'kiosk-1', %s, %s, %s)",
                        [(tm, city.center, c, uuid.uuid4().hex, kind, num) for tm, kind, num, c in tickets])
        cur.executemany("INSERT INTO ratings (time, site_id, counter_id, device_id, device_event_id, score)"
                        " VALUES (%s, %s, %s, 'terminal-1', %s, %s)",
                        [(tm, city.center, c, uuid.uuid4().hex, score) for tm, score, c in ratings])


def _province(conn: psycopg.Connection, city: SeededCity, now: datetime, rng: random.Random) -> None:
    """The center's province (the center keeps its legacy district level), a commune center with one counter and a
    morning of data, and the center's officers rostered on their counters every day since a month ago."""
    city.province = _insert(conn, "INSERT INTO provinces (code, name) VALUES ('hcm', 'Thành phố Hồ Chí Minh')", ())
    conn.execute("UPDATE sites SET province_id = %s WHERE id = %s", (city.province, city.center))
    since = (now.astimezone(ZoneInfo(TZ)) - timedelta(days=30)).date()
    for (number, department, name), counter in zip(COUNTERS, city.counters, strict=True):
        officer = _insert(conn, "INSERT INTO officers (site_id, full_name, staff_code, department) VALUES"
                          " (%s, %s, %s, %s)", (city.center, name, f"Q1-{number:03d}", department))
        city.officers[name] = officer
        conn.execute("INSERT INTO officer_rosters (counter_id, officer_id, weekdays, valid_from) VALUES"
                     " (%s, %s, '{1,2,3,4,5,6,7}', %s)", (counter, officer, since))
    city.commune = _insert(conn, "INSERT INTO sites (code, name, kind, level, province_id, timezone, working_hours)"
                           " VALUES ('p-ben-thanh', 'Trung tâm Phục vụ hành chính công phường Bến Thành',"
                           " 'service_center', 'commune', %s, %s, %s)",
                           (city.province, TZ, Jsonb({"weekly": EVERY_DAY})))
    camera = _insert(conn, "INSERT INTO cameras (site_id, name, source_kind, main_uri, state) VALUES"
                     " (%s, 'Sảnh phường', 'file', %s, 'online')", (city.commune, HALL_FOOTAGE))
    staff = _zone(conn, camera, "ghe-can-bo", "counter_staff", [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]])
    counter = _insert(conn, "INSERT INTO counters (site_id, number, department, camera_id, staff_zone_id) VALUES"
                      " (%s, 1, 'Tư pháp - Hộ tịch', %s, %s)", (city.commune, camera, staff))
    morning = (now.astimezone(ZoneInfo(TZ)) - timedelta(days=1)).replace(hour=7, minute=30, second=0, microsecond=0)
    obs = [(morning + timedelta(minutes=m), camera, staff, "officer_present", float(not 60 <= m < 75))
           for m in range(0, 240)]
    conn.cursor().executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES"
                              " (%s, %s, %s, %s, %s)", obs)
    conn.cursor().executemany("INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id,"
                              " queue_enter) VALUES (%s, %s, %s, %s, %s, %s)",
                              [(uuid.uuid4(), morning + timedelta(minutes=10 * k), morning + timedelta(
                                  minutes=10 * k + rng.uniform(3, 8)), counter, camera,
                                morning + timedelta(minutes=10 * k - rng.uniform(1, 9))) for k in range(1, 20)])


def _street(conn: psycopg.Connection, city: SeededCity, now: datetime, data_dir: Path, rng: random.Random) -> None:
    city.street = _insert(conn, "INSERT INTO sites (code, name, kind, timezone) VALUES ('le-loi', 'Nút giao Lê Lợi -"
                          " Nguyễn Huệ', 'street', %s)", (TZ,))
    specs = [("Lê Lợi hướng Bến Thành", "online", {"x": 0.25, "y": 0.45}),
             ("Nguyễn Huệ phía bắc", "offline", {"x": 0.55, "y": 0.15}), ("Phố đi bộ", "tamper", None)]
    footage = str(STREET_FOOTAGE) if STREET_FOOTAGE.is_file() else HALL_FOOTAGE
    for name, state, position in specs:
        kind, uri = ("rtsp", "rtsp://127.0.0.1:9/gone") if state == "offline" else ("file", footage)
        city.street_cameras.append(_insert(
            conn, "INSERT INTO cameras (site_id, name, source_kind, main_uri, state, position) VALUES"
            " (%s, %s, %s, %s, %s, %s)", (city.street, name, kind, uri, state, Jsonb(position) if position else None)))
    camera = city.street_cameras[0]
    city.zones["line"] = _zone(conn, camera, "vach-dem-le-loi", "line", [[0.1, 0.6], [0.9, 0.6]], [0, 1])
    city.zones["no_stopping"] = _zone(conn, camera, "cam-dung-do", "no_stopping",
                                      [[0.6, 0.2], [0.95, 0.2], [0.95, 0.5], [0.6, 0.5]])
    obs = []
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    for hour in range(24):
        when = start + timedelta(hours=hour)
        rush = 1 + 2 * np.exp(-((when.astimezone(ZoneInfo(TZ)).hour - 8) ** 2) / 4)
        for cls, base in (("motorbike", 120), ("car", 30), ("bus", 4), ("person", 20)):
            for direction in ("in", "out"):
                value = round(base * rush * rng.uniform(0.7, 1.2))
                obs.append((when + timedelta(minutes=5), camera, city.zones["line"], f"line_count:{cls}:{direction}",
                            float(value)))
    conn.cursor().executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES"
                              " (%s, %s, %s, %s, %s)", obs)
    picture = evidence_jpeg(data_dir, "wrong-way", "wrong way")
    city.events["wrong_way"] = event(conn, now - timedelta(hours=2), "wrong_way", "high", site=city.street,
                                     camera=camera, zone=city.zones["line"], end=now - timedelta(hours=2, minutes=-1),
                                     attributes={"class_name": "motorbike"}, evidence=picture)
    city.events["stopped"] = event(conn, now - timedelta(minutes=40), "stopped_vehicle", "medium", site=city.street,
                                   camera=camera, zone=city.zones["no_stopping"], attributes={"stopped_s": 310})
    city.events["congestion"] = event(conn, now - timedelta(hours=5), "congestion", "low", site=city.street,
                                      camera=camera, end=now - timedelta(hours=4), status="resolved")
    city.events["offline"] = event(conn, now - timedelta(minutes=25), "camera_offline", "high", site=city.street,
                                   camera=city.street_cameras[1])
    city.events["tamper"] = event(conn, now - timedelta(minutes=12), "camera_tamper", "high", site=city.street,
                                  camera=city.street_cameras[2], attributes={"reason": "blackout"})


def _health(conn: psycopg.Connection, city: SeededCity, now: datetime) -> None:
    rows = []
    for camera, state, fps in [(city.hall_camera, "online", 10.0), (city.street_cameras[0], "online", 25.0),
                               (city.street_cameras[1], "offline", 0.0), (city.street_cameras[2], "tamper", 24.5)]:
        for minute in range(0, 30, 5):
            rows.append((now - timedelta(minutes=minute), camera, state, fps, min(fps, 5.0), 0, 1 if fps == 0 else 0,
                         0.2 if fps else None, 768 if fps else None, 576 if fps else None, 0.15))
    conn.cursor().executemany("INSERT INTO camera_health (time, camera_id, state, input_fps, analytics_fps,"
                              " decode_errors, reconnects, last_frame_age_s, width, height, lag_s) VALUES"
                              " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)


def seed_city(conn: psycopg.Connection, data_dir: Path, now: datetime | None = None) -> SeededCity:
    """Fill a fresh migrated database with the console's demo city; evidence JPEGs go under data_dir."""
    now = now or datetime.now(UTC)
    rng = random.Random(7)
    city = SeededCity(0, 0, 0, [], [])
    _center(conn, city)
    local_now = now.astimezone(ZoneInfo(TZ))
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = (today - timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=ZoneInfo(TZ))
    city.yesterday = yesterday.date().isoformat()
    for day in (yesterday, today):
        _counter_day(conn, city, day, now, data_dir, rng)
    event(conn, now - timedelta(minutes=30), "long_wait", "low", site=city.center, camera=city.hall_camera,
          zone=city.zones["queue"], counter=city.counters[0], attributes={"wait_s": 1260})
    event(conn, now - timedelta(minutes=8), "hall_overcrowded", "medium", site=city.center, camera=city.hall_camera,
          attributes={"people": 64})
    _province(conn, city, now, rng)
    _street(conn, city, now, data_dir, rng)
    _health(conn, city, now)
    return city


def main() -> None:
    """``python -m tests.support.console_seed``: the city in the configured (migrated) database, with a user
    per role (``<role>.demo``, password ``vigil-demo-pass``), to look at the console by hand with `vigil serve`."""
    from core.settings import Settings
    from ops_api.security import hash_password
    from store.db import connect, resolve_url

    settings = Settings()
    with connect(resolve_url(settings)) as conn:
        seed_city(conn, settings.data_dir)
        password = hash_password("vigil-demo-pass")
        for role in ("operator", "manager", "engineer", "admin"):
            conn.execute("INSERT INTO users (username, password_hash, role) VALUES (%s, %s, %s)"
                         " ON CONFLICT (username) DO NOTHING", (f"{role}.demo", password, role))
    print("seeded; sign in as operator.demo, manager.demo, engineer.demo or admin.demo (password vigil-demo-pass)")


if __name__ == "__main__":
    main()
