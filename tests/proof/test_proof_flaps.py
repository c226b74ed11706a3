"""Proof: a camera that flaps 20 times during a run. The real worker analyses an RTSP camera served by the
GStreamer server; the server is killed and restarted 20 times. The events table gets 20 camera_offline /
camera_online pairs, frames keep flowing after the last restart, and the worker ends with the threads
and open files it had before the first flap."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from store import leases
from tests.support.proof import count, open_fds, poll, rtsp_camera, street_site, worker_settings, worker_thread
from tests.support.rtsp import RtspServer

FLAPS = 20
INGEST = {"analytics_fps": 2.0, "offline_grace_s": 0.0, "backoff_initial_s": 0.1, "backoff_max_s": 0.5,
          "open_timeout_s": 3.0, "read_timeout_s": 3.0, "watchdog_s": 2.0, "health_interval_s": 0.5}


def _pairs(db: psycopg.Connection, camera: int) -> tuple[int, int]:
    """(closed camera_offline events, camera_online events) of the camera in the database."""
    row = db.execute("SELECT count(*) FILTER (WHERE type = 'camera_offline' AND end_time IS NOT NULL) AS off,"
                     " count(*) FILTER (WHERE type = 'camera_online') AS on FROM events WHERE camera_id = %s",
                     (camera,)).fetchone()
    return row["off"], row["on"]


def _opened(db: psycopg.Connection, camera: int) -> int:
    return count(db, "SELECT count(*) FROM events WHERE camera_id = %s AND type = 'camera_offline'", (camera,))


@pytest.mark.slow
def test_twenty_camera_flaps_give_twenty_offline_online_pairs_and_leak_nothing(
        db: psycopg.Connection, db_url: str, tmp_path: Path, rtsp_server: RtspServer) -> None:
    site = street_site(db)
    camera = rtsp_camera(db, site, "flappy", rtsp_server.url(), fps=2.0)
    settings = worker_settings(tmp_path, ingest=INGEST, store={"writer_flush_interval_s": 0.1})
    started = time.monotonic()
    with worker_thread(settings, db_url, capacity=1, lease_ttl_s=3.0) as worker:
        def streaming_since(moment: float) -> bool:
            return count(db, "SELECT count(*) FROM camera_health WHERE camera_id = %s AND state = 'online'"
                             " AND analytics_fps > 0 AND time > to_timestamp(%s)", (camera, moment)) > 0
        assert poll(lambda: streaming_since(time.time() - 1), 120), "the camera never streamed"
        # Settled: the startup (a not-yet-connected camera may count as one loss with no grace) is the baseline.
        time.sleep(1.0)
        baseline = _pairs(db, camera)
        threads, fds = threading.active_count(), open_fds()
        for flap in range(1, FLAPS + 1):
            rtsp_server.kill()
            assert poll(lambda f=flap: _opened(db, camera) - baseline[0] >= f, 15, 0.05), f"flap {flap}: no offline"
            rtsp_server.start()
            assert poll(lambda f=flap: _pairs(db, camera)[1] - baseline[1] >= f, 20, 0.05), f"flap {flap}: no online"
        back = time.time()
        assert poll(lambda: streaming_since(back), 15), "frames stopped after the last restart"
        off, on = _pairs(db, camera)
        assert (off - baseline[0], on - baseline[1]) == (FLAPS, FLAPS)
        assert _opened(db, camera) == off, "an offline event was left open"
        assert worker.thread.is_alive() and not worker.failure, worker.failure  # type: ignore[attr-defined]
        assert leases.owners(db)[camera] == "w-proof"
        assert db.execute("SELECT state FROM cameras WHERE id = %s", (camera,)).fetchone()["state"] == "online" or \
            poll(lambda: db.execute("SELECT state FROM cameras WHERE id = %s", (camera,)).fetchone()["state"]
                 == "online", 5)
        # No leak: the reader and its watchdog are the same two threads; sockets and decoders were closed.
        assert poll(lambda: threading.active_count() == threads, 5), (threading.active_count(), threads)
        assert poll(lambda: open_fds() <= fds + 1, 5), (open_fds(), fds)
    assert time.monotonic() - started < 240
