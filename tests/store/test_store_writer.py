"""The batched writer against a real PostgreSQL: every row lands once, people's work on events is kept,
bad input is refused with the field named, and back-pressure shows in the metrics."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from core.types import Event, EventType, Observation, Severity
from store.errors import StoreInputError
from store.tables import event_row
from store.writer import StoreWriter
from tests.support.net import free_port
from tests.support.timescale import City, day_events, day_observations, local, seed_city


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


@pytest.fixture
def city(db: psycopg.Connection) -> City:
    return seed_city(db)


def test_a_row_sent_twice_lands_once(db_url: str, db: psycopg.Connection, city: City, tmp_path: Path) -> None:
    observations = day_observations(city)
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
        writer.write_observations(observations)
        assert writer.flush(30)
        writer.write_observations(observations[:5000])  # a rule re-sends part of its history
        writer.write_observations(observations[-3:] * 2)  # and duplicates inside one batch
        assert writer.flush(30)
    assert count(db, "observations") == len(observations)


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "insert"])
def test_events_update_rule_fields_and_keep_peoples_workflow(db_url: str, db: psycopg.Connection, city: City,
                                                            tmp_path: Path, use_copy: bool) -> None:
    event = Event(EventType.OFFICER_ABSENT, city.desk_camera, local(9), Severity.MEDIUM, counter_id=city.counter)
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry(), use_copy=use_copy) as writer:
        writer.write_event(event)
        assert writer.flush(10)
        db.execute("UPDATE events SET status = 'assigned', assignee_id = 7 WHERE id = %s", (event.id,))
        stale = event_row(event, updated_at=local(9) - timedelta(days=1))  # an old version replayed late
        event.end, event.severity, event.attributes = local(9, 25), Severity.HIGH, {"minutes": 25}
        writer.write_event(event)
        assert writer.flush(10)
        writer.write_rows("events", [stale])
        assert writer.flush(10)
    row = db.execute("SELECT * FROM events WHERE id = %s", (event.id,)).fetchone()
    assert (row["status"], row["assignee_id"]) == ("assigned", 7)
    assert (row["end_time"], row["severity"], row["attributes"]) == (local(9, 25), "high", {"minutes": 25})
    assert row["site_id"] == city.center  # taken from the camera
    assert count(db, "events") == 1


def test_copy_and_insert_paths_store_the_same_rows(db_url: str, db: psycopg.Connection, city: City,
                                                   tmp_path: Path) -> None:
    observations = day_observations(city)[:3000]
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry(), use_copy=False) as writer:
        writer.write_observations(observations)
        writer.write_events(day_events(city))
        assert writer.flush(30)
    stored = db.execute("SELECT time, camera_id, metric, value, zone_id FROM observations ORDER BY time, metric"
                        ).fetchall()
    expected = sorted(observations, key=lambda o: (o.time, o.metric))
    assert [(r["time"], r["metric"], r["value"]) for r in stored] == [(o.time, o.metric, o.value) for o in expected]
    assert count(db, "events") == len(day_events(city))


def test_each_event_write_is_announced_for_the_live_stream(db_url: str, city: City, tmp_path: Path) -> None:
    event = Event(EventType.CROWD, city.street_camera, local(8), attributes={"people": 61})
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN vigil_events")
        with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
            writer.write_event(event)
            assert writer.flush(10)
        notices = list(listener.notifies(timeout=5, stop_after=1))
    payload = json.loads(notices[0].payload)
    assert payload["id"] == str(event.id) and payload["type"] == "crowd" and payload["site_id"] == city.street
    assert payload["op"] == "insert" and payload["seq"] >= 1


def test_bad_input_is_refused_with_the_field_named(db_url: str, city: City, tmp_path: Path) -> None:
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
        with pytest.raises(StoreInputError, match=r"event\.site_id: unknown site 424242") as caught:
            writer.write_event(Event(EventType.CROWD, None, local(8), site_id=424242))
        assert caught.value.field == "event.site_id"
        huge = {"track": ["x" * 100] * 1000}
        with pytest.raises(StoreInputError, match=r"event\.attributes: .* bytes of JSON, the limit is 65536"):
            writer.write_event(Event(EventType.CROWD, city.street_camera, local(8), attributes=huge))
        with pytest.raises(StoreInputError, match=r"observation\.time: must carry a time zone"):
            writer.write_observation(Observation(datetime(2026, 1, 1, 8), city.desk_camera, "zone_count", 1.0))
        with pytest.raises(StoreInputError, match=r"observation\.value"):
            writer.write_observation(Observation(local(8), city.desk_camera, "zone_count", float("nan")))
        with pytest.raises(StoreInputError, match=r"event\.end: is before event\.start"):
            writer.write_event(Event(EventType.CROWD, city.street_camera, local(8), end=local(7)))
        writer.write_event(Event(EventType.CROWD, None, local(8), site_id=city.street))  # a known site is fine
        assert writer.flush(10)
        assert writer.stats().rows_rejected == 0


def test_a_full_queue_spills_to_disk_and_shows_in_metrics(db_url: str, db: psycopg.Connection, city: City,
                                                          tmp_path: Path) -> None:
    registry = CollectorRegistry()
    settings = StoreSettings(writer_queue_max=1000)
    observations = day_observations(city)[:2500]
    with StoreWriter(db_url, settings, tmp_path, registry=registry) as writer:
        writer.write_observations(observations)  # more than the queue holds at once
        assert registry.get_sample_value("vigil_store_rows_spilled_total") == 2500
        assert writer.flush(30)
        assert registry.get_sample_value("vigil_store_rows_written_total", {"table": "observations"}) == 2500
        assert registry.get_sample_value("vigil_store_spool_pending_rows") == 0
        assert registry.get_sample_value("vigil_store_database_up") == 1
    assert count(db, "observations") == 2500


def test_a_spool_left_by_a_previous_run_is_replayed_exactly_once(db_url: str, db: psycopg.Connection, city: City,
                                                                 tmp_path: Path) -> None:
    observations = day_observations(city)[:4000]
    events = day_events(city)
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"  # nobody listens there
    offline = StoreWriter(dead, StoreSettings(), tmp_path, registry=CollectorRegistry(), connect_timeout_s=1)
    with offline:
        offline.write_observations(observations)
        offline.write_events(events)
        assert not offline.flush(1.0)
        assert offline.stats().database_up is False
    assert sorted(p.name for p in tmp_path.glob("*.jsonl"))  # the rows wait on disk
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
        writer.write_observations(observations[:10])  # new rows queue behind the spool
        assert writer.flush(30)
        assert writer.stats().rows_replayed == len(observations) + len(events)
    assert count(db, "observations") == len(observations)
    assert count(db, "events") == len(events)
    assert not list(tmp_path.glob("*.jsonl"))


def test_rows_the_database_refuses_are_kept_aside(db_url: str, db: psycopg.Connection, city: City,
                                                  tmp_path: Path) -> None:
    bad = event_row(Event(EventType.CROWD, city.street_camera, local(8)))
    bad = (*bad[:8], "not-a-severity", *bad[9:])  # violates the severity CHECK
    with StoreWriter(db_url, StoreSettings(), tmp_path, registry=CollectorRegistry()) as writer:
        writer.write_rows("events", [bad])
        assert writer.flush(10)
        stats = writer.stats()
    assert stats.rows_rejected == 1 and "severity" in (stats.last_error or "")
    assert (tmp_path / "rejected" / "events.jsonl").read_text().count(str(bad[0])) == 1
    assert uuid.UUID(str(bad[0])) and count(db, "events") == 0
