"""The recordings index on the real TimescaleDB engine (WASM build), where ``recording_segments`` is a hypertable:
the recorder's insert (idempotent, one row per file), retention's selections (multiranges of event windows and
holds), marking and deleting, and the spans, giving the answers they give on plain PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
from core.settings import RecordSettings
from store import recordings, registry
from store.migrate import migrate
from tests.record.footage import add_event, add_hold, lay_segments
from tests.support.timescale import connect_timescale

pytestmark = [pytest.mark.timescaledb, pytest.mark.slow]
NOW = datetime.now(UTC).replace(microsecond=0)


def test_the_index_and_retention_queries_on_timescaledb(timescale_url: str, tmp_path: Path) -> None:
    with connect_timescale(timescale_url) as db:
        migrate(db)
        assert db.execute("SELECT count(*) AS n FROM timescaledb_information.hypertables"
                          " WHERE hypertable_name = 'recording_segments'").fetchone()["n"] == 1
        site = registry.save_site(db, SiteRecord(code=f"rec-{NOW:%H%M%S%f}", name="rec", kind=SiteKind.STREET))
        camera = registry.save_camera(db, CameraRecord(site_id=site.id or 0, name="cam", source_kind=SourceKind.RTSP,
                                                       main_uri="rtsp://127.0.0.1:9/a")).id or 0
        recordings.set_camera_recording(db, camera, days=1, event_days=3)
        old = lay_segments(db, tmp_path, camera, NOW - timedelta(days=2), 6)  # two daily chunks apart
        new = lay_segments(db, tmp_path, camera, NOW - timedelta(hours=2), 4, run_id="4ecent00")
        assert recordings.insert_segments(db, old + new) == 0, "a segment is indexed once"
        add_event(db, camera, old[2].start, old[2].end, status="resolved")
        add_hold(db, camera, old[4].start, old[4].end)
        add_event(db, camera, new[1].start, new[1].end)  # open: holds new[1]

        index = recordings.RecordingIndex(db)
        settings = RecordSettings(pre_roll_s=0, post_roll_s=0)
        expired = index.expired_segments(camera, settings, NOW, None, 100)
        assert expired == [old[0], old[1], old[3], old[5]]
        mine = [s for s in index.expendable_segments(settings, NOW, around_events=False, after=None,
                                                     before=NOW, limit=1000) if s.camera_id == camera]
        assert mine == [old[0], old[1], old[3], old[5], new[0], new[2], new[3]]
        around = [s for s in index.expendable_segments(settings, NOW, around_events=True, after=None,
                                                       before=NOW, limit=1000) if s.camera_id == camera]
        assert around == [old[2]]
        index.mark_deleting(expired)
        assert [s.start for s in index.deleting_segments(1000) if s.camera_id == camera] == [s.start for s in expired]
        index.delete_segments(expired)
        assert index.camera_segments(camera, NOW - timedelta(days=3), NOW) == [old[2], old[4], *new]
        assert index.footage_span(camera) == (old[2].start, new[-1].start)
        spans = recordings.spans(db, camera, NOW - timedelta(days=3), NOW)
        assert [(s.start, s.end, s.segments) for s in spans] == [
            (old[2].start, old[2].end, 1), (old[4].start, old[4].end, 1), (new[0].start, new[-1].end, 4)]
