"""A vision worker process end to end: it leases a registered camera, reads its real footage, runs the real
detector and rules, and the results land in PostgreSQL; on stop it flushes and gives the lease back."""

import threading
import time
from pathlib import Path

import psycopg
import pytest

from cameras.geometry import make_zone
from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
from core.settings import Settings
from store import leases, registry
from vigil.worker import Worker, WorkerOptions

ROOT = Path(__file__).resolve().parents[2]
FOOTAGE = ROOT / "var" / "footage" / "vtest.mp4"


def _poll(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("camera_processes", [0, 1], ids=["one-process", "camera-process"])
def test_worker_analyses_a_leased_camera_into_the_store(db: psycopg.Connection, db_url: str, tmp_path: Path,
                                                        camera_processes: int) -> None:
    """Both layouts (the GPU hosts' default splits the camera into a camera process) reach the same store."""
    if not FOOTAGE.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    site = registry.save_site(db, SiteRecord(code="junction", name="Ngã tư", kind=SiteKind.STREET))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="cam-1", source_kind=SourceKind.FILE,
                                                   main_uri=str(FOOTAGE), analytics_fps=4))
    # The whole lower road: people walk through it in every second of the footage.
    registry.save_zone(db, camera.id, make_zone("road", "restricted", [[0, 0.45], [1, 0.45], [1, 1], [0, 1]]))
    settings = Settings(data_dir=tmp_path, models_dir=ROOT / "models", vision={"camera_processes": camera_processes})
    settings.ingest.health_interval_s = 1.0
    worker = Worker(settings, db_url, WorkerOptions(worker_id="w-test", capacity=4, lease_ttl_s=3))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        def landed() -> bool:
            events = db.execute("SELECT count(*) AS n FROM events WHERE type = 'intrusion'").fetchone()["n"]
            health = db.execute("SELECT count(*) AS n FROM camera_health").fetchone()["n"]
            return events > 0 and health > 0
        assert _poll(landed, 90), "no intrusion event or health row reached the database"
        assert leases.owners(db)[camera.id] == "w-test"
        stats = db.execute("SELECT * FROM writer_stats WHERE worker = 'w-test'").fetchone()
        assert stats is not None and stats["rows_written"] > 0  # back-pressure is visible to /metrics
        event = db.execute("SELECT * FROM events WHERE type = 'intrusion' LIMIT 1").fetchone()
        assert event["camera_id"] == camera.id and event["site_id"] == site.id
        assert _poll(lambda: (tmp_path / "live" / f"{camera.id}.jpg").is_file(), 10), "no live preview written"
        assert _poll(lambda: db.execute("SELECT state FROM cameras WHERE id = %s", (camera.id,)).fetchone()["state"]
                     == "online", 10)
    finally:
        worker.stop()
        thread.join(60)
    assert not thread.is_alive(), "the worker did not stop within a minute"
    assert leases.owners(db)[camera.id] is None, "the lease was not given back on stop"
    evidence = db.execute("SELECT evidence_path FROM events WHERE evidence_path IS NOT NULL LIMIT 1").fetchone()
    assert evidence is not None and Path(evidence["evidence_path"]).is_file()


@pytest.mark.slow
def test_worker_shows_each_stored_result_to_its_observers_and_a_failing_one_stops_nothing(
        db: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    """A probe (the soak's) sees every result after the store took it; an observer that raises is only logged."""
    if not FOOTAGE.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    site = registry.save_site(db, SiteRecord(code="junction", name="Ngã tư", kind=SiteKind.STREET))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="cam-1", source_kind=SourceKind.FILE,
                                                   main_uri=str(FOOTAGE), analytics_fps=4))
    registry.save_zone(db, camera.id, make_zone("road", "restricted", [[0, 0.45], [1, 0.45], [1, 1], [0, 1]]))
    settings = Settings(data_dir=tmp_path, models_dir=ROOT / "models", vision={"camera_processes": 0})
    seen: list = []

    def broken(result) -> None:
        raise RuntimeError("a probe with a bug")

    worker = Worker(settings, db_url, WorkerOptions(worker_id="w-observed", capacity=4, lease_ttl_s=3),
                    observers=[broken, seen.append])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert _poll(lambda: any(r.events for r in list(seen)), 90), "the observer saw no result with an event"
        first = next(e for r in list(seen) for e in r.events)
        assert _poll(lambda: db.execute("SELECT count(*) AS n FROM events WHERE id = %s",
                                        (first.id,)).fetchone()["n"] == 1, 10), "the observed event was not stored"
        frames = len(seen)
        assert _poll(lambda: len(seen) > frames + 4, 20), "results stopped after the failing observer"
    finally:
        worker.stop()
        thread.join(60)
    assert not thread.is_alive()
    assert {r.frame.camera_id for r in seen} == {camera.id}
