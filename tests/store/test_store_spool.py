"""The database goes away mid-stream and comes back: every row the cameras produced arrives exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from core.types import Event, EventType, Observation
from store.db import connect
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.spool import Spool
from store.tables import observation_row
from store.writer import StoreWriter
from tests.support.net import free_port
from tests.support.timescale import local, seed_city

TICK_ROWS = 200


def test_rows_written_while_the_cluster_is_down_arrive_once_when_it_returns(cluster_dir: Path) -> None:
    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    cluster.start()
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
            city = seed_city(conn)
        settings = StoreSettings(writer_flush_interval_s=0.05, writer_batch_rows=1000, spool_segment_rows=500)
        produced = {"observations": 0, "events": 0}
        stop = threading.Event()
        event_id = uuid.uuid4()

        def camera(writer: StoreWriter) -> None:
            tick = 0
            while not stop.is_set():
                start = local(8) + timedelta(seconds=tick)
                writer.write_observations(Observation(start, city.desk_camera, "zone_count", float(i), zone_id=i)
                                          for i in range(TICK_ROWS))
                # One long event, updated every tick: its last version must win after the replay.
                writer.write_event(Event(EventType.CROWD, city.desk_camera, local(8), end=start, id=event_id,
                                         attributes={"tick": tick}))
                produced["observations"] += TICK_ROWS
                tick += 1
                time.sleep(0.01)
            produced["events"] = tick

        registry = CollectorRegistry()
        with StoreWriter(cluster.url, settings, cluster_dir / "spool", registry=registry,
                         connect_timeout_s=1) as writer:
            producer = threading.Thread(target=camera, args=(writer,))
            producer.start()
            time.sleep(0.5)
            cluster.stop(mode="fast")  # mid-stream
            time.sleep(1.5)
            assert writer.stats().database_up is False
            assert registry.get_sample_value("vigil_store_spool_pending_rows") > 0
            cluster.start()
            time.sleep(0.5)
            stop.set()
            producer.join(timeout=10)
            assert writer.flush(60), writer.stats()
            stats = writer.stats()
        assert stats.rows_replayed > 0 and stats.database_errors >= 1 and stats.rows_rejected == 0
        with connect(cluster.url) as conn:
            rows = conn.execute("SELECT count(*) AS n, count(DISTINCT (time, zone_id)) AS d FROM observations"
                                ).fetchone()
            assert rows["n"] == rows["d"] == produced["observations"]
            event = conn.execute("SELECT attributes, end_time FROM events WHERE id = %s", (event_id,)).fetchone()
            assert event["attributes"] == {"tick": produced["events"] - 1}
        assert not list((cluster_dir / "spool").glob("*.jsonl"))
    finally:
        cluster.stop(mode="immediate")


def test_a_segment_cut_by_a_crash_keeps_its_whole_lines(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_rows=10)
    rows = [observation_row(Observation(local(8) + timedelta(seconds=i), 1, "zone_count", 1.0)) for i in range(4)]
    spool.append("observations", rows[:2])
    spool.append("observations", rows[2:])
    spool.close()
    [segment_file] = tmp_path.glob("*.jsonl")
    with segment_file.open("a") as handle:
        handle.write('{"t":"observations","r":[["2026')  # the process died mid-append
    reopened = Spool(tmp_path)
    assert reopened.pending_rows == 4
    segment = reopened.oldest()
    assert segment is not None
    assert [rows for _, rows in reopened.read(segment)] == [rows[:2], rows[2:]]
