"""The generated histories (the store bench's, the test city's, the console's demo city) write queue_length where
the hall rule does: on a queue zone of the camera, never on a counter's customer zone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg

from bench.store import generate_history
from store.queries import counter_rollup
from tests.support import console_seed
from tests.support.timescale import day_observations, seed_city

QUEUE_ZONES = ("SELECT DISTINCT z.kind, z.camera_id = o.camera_id AS same_camera FROM observations o"
               " LEFT JOIN zones z ON z.id = o.zone_id WHERE o.metric = 'queue_length'")


def test_the_bench_history_writes_the_queue_on_each_counter_cameras_queue_zone(db: psycopg.Connection) -> None:
    history = generate_history(db, cameras=20, days=1, say=lambda _: None)
    assert db.execute(QUEUE_ZONES).fetchall() == [{"kind": "queue", "same_camera": True}]
    counters = [r["id"] for r in db.execute("SELECT id FROM counters ORDER BY id").fetchall()]
    rollup = counter_rollup(db, counters, "day", history["today"] - timedelta(days=1), history["today"])
    assert len(rollup) == len(counters) == 10
    assert all(r.queue_mean is not None and r.queue_max == 7.0 for r in rollup)


def test_the_test_city_writes_the_queue_on_the_desk_cameras_queue_zone(db: psycopg.Connection) -> None:
    city = seed_city(db)
    queue = {o.zone_id for o in day_observations(city, step_s=600) if o.metric == "queue_length"}
    assert queue == {city.queue_zone}
    zone = db.execute("SELECT kind, camera_id FROM zones WHERE id = %s", (city.queue_zone,)).fetchone()
    assert zone == {"kind": "queue", "camera_id": city.desk_camera}


def test_the_console_city_writes_the_queue_on_the_hall_cameras_queue_zone(db: psycopg.Connection,
                                                                         tmp_path: Path) -> None:
    console_seed.seed_city(db, tmp_path)
    assert db.execute(QUEUE_ZONES).fetchall() == [{"kind": "queue", "same_camera": True}]

