"""Proof: the database stops for 60 s during a run and nothing is lost or doubled.

A cluster of the test's own runs the real worker on a file camera while a deterministic camera (a generator
at a fixed rate) drives a store writer exactly as the worker's result hand-off does: observations, health,
counter sessions, and events opened, updated every tick and closed. The cluster is stopped for 60 s in the
middle. Afterwards every produced row is in the database exactly once (counted against the generator),
each event holds its last version, both spools are drained, and the worker never stopped.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import StoreSettings
from core.types import CameraHealth, CameraState, CounterSession, Event, EventType, Observation, Severity
from store.db import connect
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.writer import StoreWriter
from tests.support.net import free_port
from tests.support.proof import VTEST, count, file_camera, poll, street_site, worker_settings, worker_thread
from tests.support.timescale import seed_city

OUTAGE_S = 60
TICK_S = 0.05
ZONES = 4  # observations per tick
EVENT_TICKS = 10  # an event lives this many ticks: opened, updated each tick, closed


@dataclass
class Produced:
    ticks: int = 0
    observations: int = 0
    health: int = 0
    sessions: int = 0
    events: dict[uuid.UUID, dict] = field(default_factory=dict)  # id -> its last version's attributes and end


def _camera(writer: StoreWriter, camera: int, counter: int, stop: threading.Event, out: Produced) -> None:
    """A deterministic camera: every tick the same kinds of rows, keyed by the tick's own time."""
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    event = None
    while not stop.is_set():
        tick = out.ticks
        at = base + timedelta(seconds=tick * TICK_S)
        writer.write_observations(Observation(at, camera, "zone_count", float(tick % 7), zone_id=z)
                                  for z in range(1, ZONES + 1))
        writer.write_health(CameraHealth(at, camera, CameraState.ONLINE, input_fps=10, analytics_fps=2))
        if tick % EVENT_TICKS == 0:
            event = Event(EventType.CROWD, camera, at, severity=Severity.MEDIUM)
        assert event is not None
        event.attributes = {"tick": tick}
        event.end = at if tick % EVENT_TICKS == EVENT_TICKS - 1 else None
        writer.write_events([dataclasses.replace(event)])  # a new version, as a rule sends it
        out.events[event.id] = {"tick": tick, "end": event.end}
        out.observations += ZONES
        out.health += 1
        if tick % 20 == 19:
            writer.write_counter_sessions([CounterSession(counter, at - timedelta(seconds=30), at)])
            out.sessions += 1
        out.ticks += 1
        time.sleep(TICK_S)


@pytest.mark.slow
def test_a_sixty_second_database_outage_loses_and_doubles_nothing(cluster_dir: Path, tmp_path: Path) -> None:
    if not VTEST.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    cluster.start()
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
            city = seed_city(conn)
            conn.execute("UPDATE cameras SET enabled = false")  # the generator's cameras: not for the worker
            watched = file_camera(conn, street_site(conn), "junction", fps=1.0)
        settings = worker_settings(tmp_path / "worker", ingest={"health_interval_s": 1.0},
                                   store={"writer_flush_interval_s": 0.1})
        produced, stop = Produced(), threading.Event()
        store = StoreSettings(writer_flush_interval_s=0.1, writer_batch_rows=500, spool_segment_rows=1000)
        with connect(cluster.url) as db, worker_thread(settings, cluster.url, lease_ttl_s=3.0) as worker, \
                StoreWriter(cluster.url, store, tmp_path / "spool", connect_timeout_s=1) as writer:
            assert poll(lambda: count(db, "SELECT count(*) FROM camera_health WHERE camera_id = %s"
                                          " AND state = 'online'", (watched,)) > 0, 120), "the worker never ran"
            producer = threading.Thread(target=_camera, args=(writer, city.street_camera, city.counter, stop,
                                                             produced))
            producer.start()
            time.sleep(3)
            cluster.stop(mode="fast")
            down_at = datetime.now(UTC)
            time.sleep(OUTAGE_S)
            assert writer.stats().database_up is False and writer.stats().spool_pending_rows > 0
            assert worker.thread.is_alive(), worker.failure  # type: ignore[attr-defined]
            cluster.start()
            up_at = datetime.now(UTC)
            time.sleep(3)
            stop.set()
            producer.join(10)
            assert writer.flush(90), writer.stats()
            stats = writer.stats()
            spools = settings.data_dir / "spool"
            assert poll(lambda: not list(spools.rglob("*.jsonl")), 60, 0.5), "the worker's spool was not drained"
            with connect(cluster.url) as after:
                # The worker's camera was analysed through the outage: its health samples of that minute landed.
                outage_health = count(after, "SELECT count(*) FROM camera_health WHERE camera_id = %s AND time"
                                             " BETWEEN %s AND %s", (watched, down_at, up_at))
                assert outage_health >= OUTAGE_S / 2, f"only {outage_health} health rows from the outage"
                assert poll(lambda: after.execute("SELECT lease_owner FROM cameras WHERE id = %s", (watched,))
                            .fetchone()["lease_owner"] == "w-proof", 10), "the worker did not keep its camera"
            assert worker.thread.is_alive() and not worker.failure, worker.failure  # type: ignore[attr-defined]
        assert stats.rows_replayed > 0 and stats.rows_rejected == 0 and stats.database_errors >= 1
        assert not list((tmp_path / "spool").glob("*.jsonl")), "the writer's spool was not drained"
        _assert_exactly_once(cluster.url, city.street_camera, city.counter, produced)
    finally:
        cluster.stop(mode="immediate")


def _assert_exactly_once(url: str, camera: int, counter: int, produced: Produced) -> None:
    assert produced.ticks > (OUTAGE_S + 6) / TICK_S / 3, "the generator ran too slowly to prove anything"
    with connect(url) as conn:
        observations = conn.execute("SELECT count(*) AS n, count(DISTINCT (time, zone_id)) AS d FROM observations"
                                    " WHERE camera_id = %s", (camera,)).fetchone()
        assert observations["n"] == observations["d"] == produced.observations
        assert count(conn, "SELECT count(*) FROM camera_health WHERE camera_id = %s", (camera,)) == produced.health
        assert count(conn, "SELECT count(*) FROM counter_sessions WHERE counter_id = %s", (counter,)
                     ) == produced.sessions
        rows = conn.execute("SELECT id, attributes, end_time FROM events WHERE camera_id = %s", (camera,)).fetchall()
        assert len(rows) == len({r["id"] for r in rows}) == len(produced.events)
        for row in rows:
            last = produced.events[row["id"]]
            assert row["attributes"] == {"tick": last["tick"]} and row["end_time"] == last["end"], row
