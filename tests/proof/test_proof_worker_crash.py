"""Proof: two real `vigil worker` processes share the cameras within their capacities; one is killed with
SIGKILL and the other leases and analyses all its cameras within the TTL (plus one heartbeat); the
survivor gives every lease back on SIGTERM."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg
import pytest

from store import leases
from tests.support.proof import VTEST, count, file_camera, poll, stop_process, street_site, worker_process

TTL_S = 3.0
BEAT_S = TTL_S / 3  # the worker's heartbeat


def _held_by(db: psycopg.Connection, worker: str) -> set[int]:
    return {camera for camera, owner in leases.owners(db).items() if owner == worker}


@pytest.mark.slow
def test_a_killed_workers_cameras_are_leased_again_within_the_ttl(db: psycopg.Connection, db_url: str,
                                                                   tmp_path: Path) -> None:
    if not VTEST.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    site = street_site(db)
    cameras = {file_camera(db, site, f"cam-{n}", fps=0.5, zone=False) for n in range(4)}
    doomed = worker_process(db_url, tmp_path / "a", tmp_path / "a.log", "--id", "node-a", "--capacity", "2",
                            "--lease-ttl", str(TTL_S))
    survivor = None
    try:
        assert poll(lambda: len(_held_by(db, "node-a")) == 2, 60), (tmp_path / "a.log").read_text()[-2000:]
        survivor = worker_process(db_url, tmp_path / "b", tmp_path / "b.log", "--id", "node-b", "--capacity", "4",
                                  "--lease-ttl", str(TTL_S))
        # Capacity is honoured: node-a keeps its two, node-b takes the other two and no more.
        assert poll(lambda: len(_held_by(db, "node-b")) == 2, 60), (tmp_path / "b.log").read_text()[-2000:]
        taken_from_a = _held_by(db, "node-a")
        assert _held_by(db, "node-a") | _held_by(db, "node-b") == cameras
        time.sleep(2 * BEAT_S)
        assert len(_held_by(db, "node-a")) == 2, "node-a gave up cameras it should have renewed"

        doomed.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        doomed.wait(10)
        assert poll(lambda: _held_by(db, "node-b") == cameras, TTL_S + BEAT_S + 10, 0.05)
        moved_after = time.monotonic() - killed_at
        assert moved_after <= TTL_S + BEAT_S + 1.5, f"cameras moved after {moved_after:.1f} s"
        # ...and node-b really analyses them: their readers come online there (a health row after the kill).
        assert poll(lambda: count(db, "SELECT count(DISTINCT camera_id) FROM camera_health WHERE state = 'online'"
                                      " AND time > now() - make_interval(secs => %s) AND camera_id = ANY(%s)",
                                  (time.monotonic() - killed_at + 1, list(taken_from_a))) == 2, 30)
        assert survivor.poll() is None, "the survivor died"
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        code = stop_process(survivor) if survivor is not None else None
    assert code == 0, (tmp_path / "b.log").read_text()[-2000:]
    assert all(owner is None for owner in leases.owners(db).values()), "SIGTERM did not give the leases back"
    assert "released 4 cameras" in (tmp_path / "b.log").read_text()
