"""Plain PostgreSQL keeps its rollups fresh and its history bounded through the writer's maintenance."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import psycopg
from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from core.types import Observation, utcnow
from store.policies import apply_retention
from store.writer import StoreWriter
from tests.support.timescale import local, seed_city


def test_the_writer_refreshes_the_rollups_it_made_stale(db_url: str, db: psycopg.Connection, tmp_path: Path) -> None:
    city = seed_city(db)
    settings = StoreSettings(rollup_refresh_interval_s=0.2, writer_flush_interval_s=0.05)
    deadline = time.monotonic() + 15
    materialized = 0
    with StoreWriter(db_url, settings, tmp_path, registry=CollectorRegistry()) as writer:
        second = 0
        while materialized == 0 and time.monotonic() < deadline:
            writer.write_observation(Observation(local(8, 0, second), city.desk_camera, "zone_count", 2.0,
                                                 city.crowd_zone))
            assert writer.flush(10)
            second += 1
            time.sleep(0.1)
            materialized = db.execute("SELECT coalesce(sum(samples), 0) AS n FROM rollup_observation_hourly"
                                      ).fetchone()["n"]
    assert materialized > 0  # the 08:00 bucket was recomputed from the raw rows, not only read live
    watermark = db.execute("SELECT watermark FROM rollup_watermarks WHERE name = 'hourly'").fetchone()["watermark"]
    assert watermark > local(8)


def test_retention_deletes_only_rows_past_their_age(db: psycopg.Connection) -> None:
    city = seed_city(db)
    old, recent = utcnow() - timedelta(days=100), utcnow() - timedelta(days=1)
    for moment in (old, recent):
        db.execute("INSERT INTO observations VALUES (%s, %s, NULL, 'zone_count', 1)", (moment, city.desk_camera))
        db.execute("INSERT INTO events (id, time, type, severity) VALUES (gen_random_uuid(), %s, 'crowd', 'low')",
                   (moment,))
    removed = apply_retention(db, StoreSettings(retention_days=90, event_retention_days=365))
    assert removed == 1
    assert db.execute("SELECT count(*) AS n FROM observations").fetchone()["n"] == 1
    assert db.execute("SELECT count(*) AS n FROM events").fetchone()["n"] == 2  # events are kept a year
