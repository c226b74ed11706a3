"""Which events raise an alarm, as the store decides when an event is stored: the rules of a site overridden per
camera and zone, schedules (an intrusion alarm only at night) in the site's time zone, the defaults, grouping a
flood of one type on one camera into one alarm with a count, and the checklist each new alarm gets."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from core.calendar import WorkingCalendar
from store import alarm_rules
from store.alarms import AlarmFilter, alarm_events, alarm_steps, list_alarms

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NIGHT = {"weekly": {d: [["00:00", "06:00"], ["18:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                                         "sun")}}


def site_with_camera(conn: psycopg.Connection, code: str = "street-1") -> tuple[int, int, int]:
    site = conn.execute("INSERT INTO sites (code, name, kind) VALUES (%s, 'Ngã tư Lê Lợi', 'street') RETURNING id",
                        (code,)).fetchone()["id"]
    camera = conn.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri) VALUES (%s, 'cam', 'rtsp',"
                          " 'rtsp://192.0.2.1/s') RETURNING id", (site,)).fetchone()["id"]
    zone = conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, 'bai-xe', 'restricted',"
                        " %s) RETURNING id", (camera, Jsonb([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]))).fetchone()["id"]
    return site, camera, zone


def event(conn: psycopg.Connection, site: int, camera: int | None, type_: str = "intrusion", *,
          when: datetime | None = None, zone: int | None = None, severity: str = "high",
          status: str = "new") -> uuid.UUID:
    event_id = uuid.uuid4()
    conn.execute("INSERT INTO events (id, time, site_id, camera_id, zone_id, type, severity, status) VALUES"
                 " (%s, %s, %s, %s, %s, %s, %s, %s)",
                 (event_id, when or datetime.now(UTC), site, camera, zone, type_, severity, status))
    return event_id


def alarm_of(conn: psycopg.Connection, event_id: uuid.UUID) -> dict | None:
    return conn.execute("SELECT a.* FROM alarms a JOIN alarm_events ae ON ae.alarm_id = a.id WHERE ae.event_id = %s",
                        (event_id,)).fetchone()


def test_the_defaults_raise_alarms_with_their_priority_and_camera_online_raises_none(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    intrusion = alarm_of(db, event(db, site, camera, "intrusion"))
    assert intrusion is not None and intrusion["priority"] == 1 and intrusion["status"] == "new"
    assert alarm_of(db, event(db, site, camera, "long_wait", severity="low"))["priority"] == 4
    assert alarm_of(db, event(db, site, camera, "camera_online", severity="info")) is None
    # a type no rule names: its severity decides (info raises none)
    assert alarm_of(db, event(db, site, camera, "smoke", severity="critical"))["priority"] == 1
    assert alarm_of(db, event(db, site, camera, "fog", severity="info")) is None
    # every event is still stored and searchable
    assert db.execute("SELECT count(*) AS n FROM events").fetchone()["n"] == 5


def test_a_site_rule_overrides_the_default_and_a_camera_and_zone_rule_override_the_site(db: psycopg.Connection) -> None:
    site, camera, zone = site_with_camera(db)
    other_site, other_camera, _ = site_with_camera(db, "street-2")
    alarm_rules.insert_rule(db, {"site_id": site, "event_type": "crowd", "priority": 4})
    alarm_rules.insert_rule(db, {"site_id": site, "camera_id": camera, "event_type": "crowd", "raises": False})
    alarm_rules.insert_rule(db, {"site_id": site, "camera_id": camera, "zone_id": zone, "event_type": "crowd",
                                 "priority": 1})
    assert alarm_of(db, event(db, site, camera, "crowd")) is None  # the camera's rule: no alarm
    assert alarm_of(db, event(db, site, camera, "crowd", zone=zone))["priority"] == 1  # its zone's rule
    other = site_with_camera(db, "street-3")
    assert alarm_of(db, event(db, other[0], other[1], "crowd"))["priority"] == 2  # the default elsewhere
    second_camera = db.execute("INSERT INTO cameras (site_id, name, source_kind) VALUES (%s, 'cam-2', 'rtsp')"
                               " RETURNING id", (site,)).fetchone()["id"]
    assert alarm_of(db, event(db, site, second_camera, "crowd"))["priority"] == 4  # the site's rule
    assert alarm_of(db, event(db, other_site, other_camera, "crowd"))["priority"] == 2


def test_a_night_schedule_raises_at_night_only_in_the_sites_time_zone(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    alarm_rules.insert_rule(db, {"site_id": site, "event_type": "intrusion", "priority": 1, "schedule": NIGHT,
                                 "group_s": 0})
    today = datetime.now(TZ).date()
    at = lambda hour, minute=0: datetime(today.year, today.month, today.day, hour, minute, tzinfo=TZ)  # noqa: E731
    now = datetime.now(TZ)
    moments = [m for m in (at(2), at(5, 59), at(6), at(12), at(17, 59), at(18), at(23, 30)) if m <= now]
    moments += [m - timedelta(days=1) for m in (at(6), at(12), at(18), at(23, 30)) if m > now]
    for moment in moments:
        raised = alarm_of(db, event(db, site, camera, "intrusion", when=moment)) is not None
        night = moment.hour < 6 or moment.hour >= 18
        assert raised == night, f"{moment.isoformat()}: alarm {raised}, night {night}"
    # a site in another time zone: the same local hours
    db.execute("UPDATE sites SET timezone = 'Europe/Paris' WHERE id = %s", (site,))
    paris_noon = datetime.now(ZoneInfo("Europe/Paris")).replace(hour=12, minute=0)
    paris_noon -= timedelta(days=1) if paris_noon > datetime.now(UTC) else timedelta(0)
    assert alarm_of(db, event(db, site, camera, "intrusion", when=paris_noon)) is None


def test_the_stores_schedule_answers_as_the_working_hours_calendar_does(db: psycopg.Connection) -> None:
    rng = random.Random(16)
    schedules = [NIGHT, {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": [["08:00", "24:00"]]},
                         "holidays": ["2026-09-02"], "extra_days": {"2026-04-25": [["07:30", "11:30"]]}},
                 {"holidays": ["2026-01-01"]}, {}, {"weekly": {}}, {**NIGHT, "timezone": "UTC"}]
    start = datetime(2025, 12, 28, tzinfo=UTC)
    for schedule in schedules:
        calendar = WorkingCalendar.from_dict(schedule, default_timezone="Asia/Ho_Chi_Minh")
        for _ in range(150):
            moment = start + timedelta(seconds=rng.randrange(0, 300 * 86400))
            if rng.random() < 0.3:  # on the edge of a session
                moment = moment.replace(minute=rng.choice([0, 30]), second=0, microsecond=rng.choice([0, 999999]))
            sql_says = db.execute("SELECT vigil_schedule_open(%s, 'Asia/Ho_Chi_Minh', %s) AS open",
                                  (Jsonb(schedule), moment)).fetchone()["open"]
            assert sql_says == calendar.is_open(moment), (schedule, moment.isoformat())


def test_a_flood_on_one_camera_is_one_alarm_with_a_count(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    other_site, other_camera, _ = site_with_camera(db, "street-2")
    now = datetime.now(UTC)
    flood = [event(db, site, camera, "wrong_way", when=now - timedelta(minutes=30) + timedelta(minutes=2 * i))
             for i in range(12)]
    alarm = alarm_of(db, flood[0])
    assert alarm_of(db, flood[-1])["id"] == alarm["id"]
    alarm = db.execute("SELECT * FROM alarms WHERE id = %s", (alarm["id"],)).fetchone()
    assert alarm["event_count"] == 12 and alarm["first_event_id"] == flood[0] and alarm["last_event_id"] == flood[-1]
    assert [e["id"] for e in alarm_events(db, alarm["id"], limit=3)] == flood[:-4:-1]
    # another type, another camera, and the same type after the group window: alarms of their own
    assert alarm_of(db, event(db, site, camera, "crowd"))["id"] != alarm["id"]
    assert alarm_of(db, event(db, other_site, other_camera, "wrong_way"))["id"] != alarm["id"]
    late = event(db, site, camera, "wrong_way", when=now + timedelta(minutes=11))
    assert alarm_of(db, late)["id"] != alarm["id"]
    # once resolved, the next one of the flood raises a new alarm
    db.execute("UPDATE alarms SET status = 'resolved' WHERE camera_id = %s", (camera,))
    again = event(db, site, camera, "wrong_way", when=now + timedelta(minutes=12))
    assert alarm_of(db, again)["event_count"] == 1
    assert db.execute("SELECT count(*) AS n FROM alarms").fetchone()["n"] == 5


def test_resolved_and_day_old_events_raise_no_alarm(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    assert alarm_of(db, event(db, site, camera, status="resolved")) is None
    assert alarm_of(db, event(db, site, camera, when=datetime.now(UTC) - timedelta(days=1, minutes=1))) is None


def test_each_new_alarm_gets_its_procedure_as_it_is_then(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    default = event(db, site, camera, "intrusion")
    steps = alarm_steps(db, alarm_of(db, default)["id"])
    assert [(s["text"], s["required"]) for s in steps] == [("Xem lại clip", True), ("Gọi đội trật tự khu vực", True),
                                                          ("Ghi biên bản", False)]
    alarm_rules.save_procedure(db, site, "intrusion", [{"text": "Báo công an phường", "required": True}])
    db.execute("UPDATE alarms SET status = 'resolved'")
    mine = alarm_steps(db, alarm_of(db, event(db, site, camera, "intrusion"))["id"])
    assert [s["text"] for s in mine] == ["Báo công an phường"]
    assert len(alarm_steps(db, alarm_of(db, default)["id"])) == 3  # the older alarm keeps its checklist


def test_the_list_puts_escalated_unacknowledged_first_then_priority_then_the_newest(db: psycopg.Connection) -> None:
    site, camera, _ = site_with_camera(db)
    now = datetime.now(UTC)
    low_new = alarm_of(db, event(db, site, camera, "long_wait", when=now, severity="low"))["id"]
    high_old = alarm_of(db, event(db, site, camera, "intrusion", when=now - timedelta(hours=2)))["id"]
    mid = alarm_of(db, event(db, site, camera, "stopped_vehicle", when=now - timedelta(hours=1)))["id"]
    mid_newer = alarm_of(db, event(db, site, camera, "congestion", when=now - timedelta(minutes=5)))["id"]
    db.execute("UPDATE alarms SET escalated_at = now() WHERE id = %s", (low_new,))
    page, cursor = list_alarms(db, AlarmFilter(), None, 2)
    assert [a["id"] for a in page] == [low_new, high_old] and cursor
    rest, end = list_alarms(db, AlarmFilter(), None, 2, cursor)
    assert [a["id"] for a in rest] == [mid_newer, mid] and end is None
    db.execute("UPDATE alarms SET status = 'acknowledged' WHERE id = %s", (low_new,))
    assert [a["id"] for a in list_alarms(db, AlarmFilter(), None, 10)[0]][-1] == low_new
    assert list_alarms(db, AlarmFilter(), [site + 1000], 10)[0] == []
