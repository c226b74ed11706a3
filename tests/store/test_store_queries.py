"""The console's and reports' questions, answered from one deterministic day at a service center and a street."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from store.db import connect
from store.errors import StoreInputError
from store.policies import refresh_rollups
from store.queries import (
    EventFilter,
    camera_health_latest,
    camera_uptime,
    counter_daily_audit,
    counter_rollup,
    counter_timeline,
    hall_stats,
    live_counters,
    observation_rollup,
    search_events,
    site_daily_audit,
)
from store.queries.events import MAX_PAGE
from store.writer import StoreWriter
from tests.support.timescale import (
    DAY,
    TZ,
    City,
    day_events,
    day_health,
    day_observations,
    day_sessions,
    local,
    seed_city,
)

FULL_DAY = 10.5 * 360  # 07:00-17:30, one sample every 10 s
ABSENT = 120 + 12  # 09:00-09:20 and 15:00-15:02


@dataclass
class Loaded:
    conn: psycopg.Connection
    city: City


def load_day(url: str, conn: psycopg.Connection, spool: Path, **writer_options: object) -> City:
    """Seed the city and write its day through the writer (what the vision workers do)."""
    city = seed_city(conn)
    with StoreWriter(url, StoreSettings(), spool, registry=CollectorRegistry(), **writer_options) as writer:
        writer.write_observations(day_observations(city))
        writer.write_counter_sessions(day_sessions(city))
        writer.write_events(day_events(city))
        for health in day_health(city):
            writer.write_health(health)
        assert writer.flush(60)
    return city


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> Iterator[Loaded]:
    with connect(db_url) as conn:
        city = load_day(db_url, conn, tmp_path / "spool")
        refresh_rollups(conn)
        yield Loaded(conn, city)


def p90(values: list[float]) -> float:
    """percentile_cont(0.9): linear interpolation between the closest ranks."""
    ordered = sorted(values)
    rank = 0.9 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def queue_zones(conn: psycopg.Connection, camera_id: int, *names: str) -> list[int]:
    """Queue zones on the camera (where the hall rule writes queue_length), by name; their ids."""
    return [conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, %s, 'queue',"
                         " '[[0,0],[1,0],[1,1]]') RETURNING id", (camera_id, name)).fetchone()["id"] for name in names]


def test_live_counters_show_latest_presence_queue_todays_count_and_open_events(db: psycopg.Connection) -> None:
    """Each counter now: its latest presence sample, the queue its camera sees (each queue zone's latest length of
    the last 10 minutes, summed), citizens served since local midnight, and the events the rules still hold open."""
    city = seed_city(db)
    left, right, side = queue_zones(db, city.desk_camera, "left", "right", "side")
    now = datetime.now(TZ)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    observations = [
        (now - timedelta(minutes=3), city.staff_zone, "officer_present", 0.0),
        (now - timedelta(seconds=40), city.staff_zone, "officer_present", 1.0),
        (now - timedelta(minutes=5), left, "queue_length", 5.0),
        (now - timedelta(seconds=30), left, "queue_length", 2.0),
        (now - timedelta(seconds=30), right, "queue_length", 1.0),
        (now - timedelta(minutes=15), side, "queue_length", 9.0),  # not seen for 10 minutes: not in the queue now
    ]
    with db.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s,%s,%s,%s,%s)",
                        [(at, city.desk_camera, zone_id, metric, value) for at, zone_id, metric, value in observations])
        today = now - midnight
        for started in (midnight - timedelta(hours=1), midnight + today / 3, midnight + today / 2):
            cur.execute("INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id) VALUES"
                        " (gen_random_uuid(), %s, %s, %s, %s)", (started, started, city.counter, city.desk_camera))
        for kind, started, ended in (("officer_absent", now - timedelta(hours=1), now - timedelta(minutes=40)),
                                     ("long_wait", now - timedelta(minutes=10), None)):
            cur.execute("INSERT INTO events (id, time, end_time, site_id, camera_id, counter_id, type, severity)"
                        " VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, 'low')",
                        (started, ended, city.center, city.desk_camera, city.counter, kind))
    [state] = live_counters(db, None, city.center)
    assert state["number"] == 1 and state["officer"] == "Nguyễn Văn A"
    assert state["officer_present"] == 1.0 and state["presence_time"] == now - timedelta(seconds=40)
    assert state["queue_length"] == 3.0
    assert state["served_today"] == 2  # the session before midnight was yesterday's
    assert state["open_events"] == 1  # the long wait the rule still holds open
    assert live_counters(db, None, city.street) == [] and live_counters(db, [city.street], None) == []


def test_counter_timeline_draws_presence_segments_queue_and_citizens(loaded: Loaded) -> None:
    timeline = counter_timeline(loaded.conn, loaded.city.counter, DAY)
    assert [(s.start, s.end, s.present) for s in timeline.presence] == [
        (local(7), local(9), True), (local(9), local(9, 20), False), (local(9, 20), local(15), True),
        (local(15), local(15, 2), False), (local(15, 2), local(17, 30), True)]
    assert len(timeline.queue) == 126 and timeline.queue[0].time == local(7)
    # 07:05-07:10: minutes 5..9 give queue lengths 5, 6, 0, 1, 2
    assert timeline.queue[1].high == 6.0 and timeline.queue[1].mean == pytest.approx(2.8)
    assert len(timeline.served) == 70 and timeline.served[0].service_start == local(7, 40)
    assert [e["type"] for e in timeline.events] == ["officer_absent", "long_wait"]


def test_counter_timeline_queue_is_what_the_cameras_queue_zones_saw(db: psycopg.Connection) -> None:
    """The hall rule writes queue_length per queue zone, not on the counter's customer zone: per 5 minutes the
    timeline shows the mean and the high of the camera's queue (its zones summed at each moment), as live does."""
    city = seed_city(db)
    left, right = queue_zones(db, city.desk_camera, "left", "right")
    rows = []
    for step in range(60):  # 08:00-08:10, every 10 s, both zones at the same moment as the rule writes them
        moment = local(8) + timedelta(seconds=10 * step)
        rows.append((moment, city.desk_camera, left, "queue_length", 2.0))
        rows.append((moment, city.desk_camera, right, "queue_length", 7.0 if moment == local(8, 7) else
                     1.0 if step < 30 else 4.0))
    with db.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s,%s,%s,%s,%s)",
                        rows)
    queue = counter_timeline(db, city.counter, DAY).queue
    assert [(q.time, q.high) for q in queue] == [(local(8), 3.0), (local(8, 5), 9.0)]
    assert queue[0].mean == pytest.approx(3.0) and queue[1].mean == pytest.approx((29 * 6 + 9) / 30)


def test_hourly_and_daily_rollups_per_zone_camera_and_counter(loaded: Loaded) -> None:
    conn, city = loaded.conn, loaded.city
    hours = observation_rollup(conn, "hour", local(9), local(10), zone_ids=[city.staff_zone])
    assert [(r.samples, r.total) for r in hours] == [(360, 240.0)]
    [daily] = observation_rollup(conn, "day", local(0), local(0) + timedelta(days=1), zone_ids=[city.staff_zone])
    assert daily.bucket == local(0) and daily.samples == FULL_DAY and daily.total == FULL_DAY - ABSENT
    street = observation_rollup(conn, "hour", local(8), local(9), per="camera", camera_ids=[city.street_camera])
    assert [(r.zone_id, r.metric, r.samples, r.high) for r in street] == [(None, "zone_count", 60, 60.0)]
    # A site in another zone with the same offset sums the hourly rollup by its own days: same answer.
    assert observation_rollup(conn, "day", local(0), local(0) + timedelta(days=1), zone_ids=[city.staff_zone],
                              tz="Asia/Bangkok")[0].total == daily.total
    [counter_day] = counter_rollup(conn, [city.counter], "day", local(0), local(0) + timedelta(days=1))
    sessions = day_sessions(city)
    assert counter_day.presence_samples == FULL_DAY
    assert counter_day.present_share == pytest.approx((FULL_DAY - ABSENT) / FULL_DAY)
    assert counter_day.sessions == 70 and counter_day.service_mean_s == pytest.approx(240.0)
    waits = [s.wait_s for s in sessions if s.wait_s is not None]
    assert counter_day.waits == len(waits) and counter_day.wait_mean_s == pytest.approx(sum(waits) / len(waits))
    nine = [r for r in counter_rollup(conn, [city.counter], "hour", local(0), local(23)) if r.bucket == local(9)]
    assert nine[0].present_share == pytest.approx(240 / 360) and nine[0].queue_max == 6.0


def test_counter_and_hall_rollups_sum_the_queue_zones(db: psycopg.Connection) -> None:
    """The rules write queue_length per queue zone: a counter's rollup shows its camera's zones summed, the hall's
    every queue zone of the site; the mean is the sum of the zones' means (the mean of their sum: a camera samples
    its zones together), the max the sum of the zones' highs (exact when they peak together, else an upper bound)."""
    city = seed_city(db)
    left, right = queue_zones(db, city.desk_camera, "left", "right")
    lobby_camera = db.execute("INSERT INTO cameras (site_id, name, source_kind) VALUES (%s, 'Sảnh', 'rtsp')"
                              " RETURNING id", (city.center,)).fetchone()["id"]
    [lobby] = queue_zones(db, lobby_camera, "lobby")
    rows = []
    for step in range(720):  # 08:00-10:00, every 10 s, a camera's zones at the same moment as the rule writes them
        moment = local(8) + timedelta(seconds=10 * step)
        if step < 360:  # 08:00: left 2, right 1 then 4 (both highs at once: 6 people at most)
            rows += [(moment, city.desk_camera, left, 2.0), (moment, lobby_camera, lobby, 10.0),
                     (moment, city.desk_camera, right, 1.0 if step < 180 else 4.0)]
        else:  # 09:00: 1 and 1, left 3 at 09:10, right 5 at 09:40 (6 people at most, the highs sum to 8)
            rows += [(moment, city.desk_camera, left, 3.0 if moment == local(9, 10) else 1.0),
                     (moment, city.desk_camera, right, 5.0 if moment == local(9, 40) else 1.0)]
    with db.cursor() as cur:
        cur.executemany("INSERT INTO observations (time, camera_id, zone_id, metric, value)"
                        " VALUES (%s, %s, %s, 'queue_length', %s)", rows)
    nine = (359 + 3) / 360 + (359 + 5) / 360

    def counter_queue() -> tuple[list, list]:
        hourly = counter_rollup(db, [city.counter], "hour", local(0), local(23))
        daily = [counter_rollup(db, [city.counter], "day", local(0), local(0) + timedelta(days=1), tz=tz)
                 for tz in ("Asia/Ho_Chi_Minh", "Asia/Bangkok")]
        return ([(r.bucket, r.queue_mean, r.queue_max) for r in hourly],
                [(r.bucket, r.queue_mean, r.queue_max) for [r] in daily])

    hourly, daily = counter_queue()
    assert hourly == [(local(8), pytest.approx(4.5), 6.0), (local(9), pytest.approx(nine), 8.0)]
    day_mean = (2 * 360 + 362) / 720 + (180 + 4 * 180 + 364) / 720
    assert daily == [(local(0), pytest.approx(day_mean), 8.0)] * 2
    refresh_rollups(db)
    assert counter_queue() == (hourly, daily)
    start, end = local(0), local(0) + timedelta(days=1)
    hall = hall_stats(db, city.center, start, end, "Asia/Ho_Chi_Minh")["hourly_queue"]
    assert [(r["hour"], r["queue_mean"], r["queue_max"]) for r in hall] == [
        (local(8), pytest.approx(14.5), 16.0), (local(9), pytest.approx(nine), 8.0)]


def test_rollups_answer_the_same_before_and_after_a_refresh(db_url: str, tmp_path: Path) -> None:
    with connect(db_url) as conn:
        city = load_day(db_url, conn, tmp_path / "spool", maintenance=False)
        before = observation_rollup(conn, "day", local(0), local(0) + timedelta(days=1), per="camera")
        hourly_before = counter_rollup(conn, [city.counter], "hour", local(0), local(23, 59))
        refresh_rollups(conn)
        assert conn.execute("SELECT count(*) AS n FROM rollup_observation_hourly").fetchone()["n"] > 0
        assert observation_rollup(conn, "day", local(0), local(0) + timedelta(days=1), per="camera") == before
        assert counter_rollup(conn, [city.counter], "hour", local(0), local(23, 59)) == hourly_before


def test_daily_audit_counts_staffed_minutes_absences_and_times(loaded: Loaded) -> None:
    audit = counter_daily_audit(loaded.conn, loaded.city.counter, DAY)
    assert audit.minutes_open == 450  # 07:30-11:30 and 13:30-17:00
    assert audit.minutes_staffed == pytest.approx(450 - 22)
    assert audit.minutes_unobserved == pytest.approx(0)
    assert [(a.start, a.end) for a in audit.absences] == [(local(9), local(9, 20))]  # 15:00-15:02 is too short
    sessions = day_sessions(loaded.city)
    waits = [s.wait_s for s in sessions if s.wait_s is not None]
    assert audit.sessions == 70 and audit.service_p90_s == pytest.approx(240.0)
    assert audit.wait_mean_s == pytest.approx(sum(waits) / len(waits))
    assert audit.wait_p90_s == pytest.approx(p90(waits))
    assert audit.peak_queue == 6.0 and audit.peak_queue_at == local(7, 6)
    assert [a.counter_id for a in site_daily_audit(loaded.conn, loaded.city.center, DAY)] == [loaded.city.counter]


def test_event_search_filters_and_pages_without_gaps_or_repeats(loaded: Loaded) -> None:
    conn, city = loaded.conn, loaded.city
    seen, cursor = [], None
    while True:
        page = search_events(conn, EventFilter(since=local(0)), cursor=cursor, limit=5)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 14 == len({e.id for e in seen})
    assert [e.time for e in seen] == sorted((e.time for e in seen), reverse=True)
    street = search_events(conn, EventFilter(site_ids=[city.street]), limit=100).items
    assert len(street) == 12 and all(e.type == "crowd" for e in street)  # site taken from the camera
    assert [e.type for e in search_events(conn, EventFilter(types=["officer_absent"])).items] == ["officer_absent"]
    assert len(search_events(conn, EventFilter(open_only=True)).items) == 1
    window = EventFilter(since=local(8), until=local(8, 0, 5), camera_ids=[city.street_camera], statuses=["new"])
    assert len(search_events(conn, window).items) == 5
    assert search_events(conn, EventFilter(site_ids=[])).items == []
    assert [e.severity for e in search_events(conn, EventFilter(severities=["high", "low"])).items] == ["low", "high"]
    # A user's scope is kept apart from the sites asked for: both narrow.
    assert search_events(conn, EventFilter(types=["crowd"]), scope=[city.center]).items == []
    assert len(search_events(conn, EventFilter(site_ids=[city.street]), scope=[city.street, city.center]).items) == 12


def test_camera_health_latest_per_camera_within_scope(loaded: Loaded) -> None:
    health = {h.camera_id: h for h in camera_health_latest(loaded.conn)}
    street = health[loaded.city.street_camera]
    assert street.time == local(7) + timedelta(minutes=655) and street.state == "online" and street.reconnects == 1
    assert [h.camera_id for h in camera_health_latest(loaded.conn, [loaded.city.center])] == [loaded.city.desk_camera]


def test_camera_uptime_per_hour_and_day(loaded: Loaded) -> None:
    street = loaded.city.street_camera
    hours = {r.bucket: r for r in camera_uptime(loaded.conn, "hour", local(0), local(23), camera_ids=[street])}
    assert hours[local(17)].samples == 12 and hours[local(17)].online_share == pytest.approx(0.5)  # 30 min offline
    assert hours[local(17)].reconnects_max == 1 and hours[local(9)].online_share == 1.0
    [day] = camera_uptime(loaded.conn, "day", local(0), local(0) + timedelta(days=1), site_ids=[loaded.city.street])
    assert day.samples == 132 and day.online_share == pytest.approx(126 / 132)
    assert day.input_fps_mean == pytest.approx(25.0 * 126 / 132)


def test_bad_query_input_is_named(loaded: Loaded) -> None:
    with pytest.raises(StoreInputError, match="cursor"):
        search_events(loaded.conn, cursor="not-a-cursor")
    with pytest.raises(StoreInputError, match=r"filters\.statuses"):
        search_events(loaded.conn, EventFilter(statuses=["closed"]))
    with pytest.raises(StoreInputError, match=r"filters\.since: must carry a time zone"):
        search_events(loaded.conn, EventFilter(since=datetime(2026, 1, 1, 8)))
    with pytest.raises(StoreInputError, match="limit"):
        search_events(loaded.conn, limit=MAX_PAGE + 1)
    with pytest.raises(StoreInputError, match="level"):
        observation_rollup(loaded.conn, "week", local(0), local(1))  # type: ignore[arg-type]
    with pytest.raises(StoreInputError, match="tz: unknown time zone"):
        observation_rollup(loaded.conn, "day", local(0), local(1), tz="Mars/Olympus")
    with pytest.raises(StoreInputError, match="counter_id"):
        counter_timeline(loaded.conn, 999_999, DAY)


def test_an_invalid_working_hours_calendar_is_named(loaded: Loaded) -> None:
    bad = {"weekly": {"mon": [["13:30", "11:00"]]}}
    loaded.conn.execute("UPDATE sites SET working_hours = %s WHERE id = %s", (json.dumps(bad), loaded.city.center))
    with pytest.raises(StoreInputError) as caught:
        counter_daily_audit(loaded.conn, loaded.city.counter, DAY)
    assert caught.value.field.startswith("sites.working_hours.weekly.mon")
