"""A camera from the registry, read over real RTSP, with its health and events landing in PostgreSQL
through the store writer, as the worker process will wire them."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from prometheus_client import CollectorRegistry

from cameras.crypto import SecretBox
from cameras.models import CameraRecord, SiteRecord, SourceKind
from core.settings import IngestSettings, StoreSettings
from core.types import CameraState
from ingest.reader import CameraReader
from store import registry
from store.writer import StoreWriter
from tests.support.rtsp import RtspServer

SETTINGS = IngestSettings(analytics_fps=2.0, offline_grace_s=0.5, backoff_initial_s=0.1, backoff_max_s=0.5,
                          watchdog_s=2.0, health_interval_s=0.3)


def test_health_and_offline_online_events_reach_the_database(db: psycopg.Connection, db_url: str,
                                                             rtsp_server: RtspServer, tmp_path: Path) -> None:
    site = registry.save_site(db, SiteRecord(code="q3", name="Quận 3"))
    camera = registry.save_camera(db, CameraRecord(site_id=site.id, name="gate", source_kind=SourceKind.RTSP,
                                                   main_uri=rtsp_server.url()))
    source = registry.camera_source(db, camera.id, SecretBox.from_key_file(tmp_path / "secret.key"))
    with StoreWriter(db_url, StoreSettings(), tmp_path / "spool", registry=CollectorRegistry(), threads=1,
                     maintenance=False) as writer:
        reader = CameraReader(source, SETTINGS, on_event=writer.write_event, on_health=writer.write_health)
        with reader:
            assert reader.slot.take(-1, timeout=10) is not None
            time.sleep(1.0)
            rtsp_server.kill()
            deadline = time.monotonic() + 10
            while reader.state != CameraState.OFFLINE and time.monotonic() < deadline:
                time.sleep(0.05)
            rtsp_server.start()
            last = reader.slot.latest().index
            assert reader.slot.take(last, timeout=15) is not None
        assert writer.flush(timeout=10)
    health = db.execute("SELECT state, input_fps, width, height FROM camera_health WHERE camera_id = %s"
                        " ORDER BY time", (camera.id,)).fetchall()
    assert {"online", "offline"} <= {h["state"] for h in health}
    assert any(h["state"] == "online" and h["input_fps"] > 5 and h["width"] == 768 for h in health)
    events = db.execute("SELECT type, end_time, site_id FROM events WHERE camera_id = %s ORDER BY time",
                        (camera.id,)).fetchall()
    offline = [e for e in events if e["type"] == "camera_offline"]
    assert offline and all(e["end_time"] is not None for e in offline)  # upserted closed when back
    assert any(e["type"] == "camera_online" for e in events)
    assert {e["site_id"] for e in events} == {site.id}
