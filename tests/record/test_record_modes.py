"""``cameras.record`` as a worker applies it: off records nothing, continuous and events record the main stream of
every held network camera; a camera switched off or no longer held stops; an events camera keeps only the
footage around its events once the buffer has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from cameras.models import SourceKind
from core import media
from core.settings import Settings
from core.types import RecordMode
from record.retention import prune
from store import recordings
from tests.record.conftest import poll
from tests.record.footage import add_event, on_disk
from vigil.recording import WorkerRecording


def test_the_worker_records_the_held_cameras_whose_record_is_not_off(
        db: psycopg.Connection, db_url: str, tmp_path: Path, add_camera, rtsp_server_factory,
        short_gop_clip: Path, record_settings) -> None:
    server = rtsp_server_factory({"/a": str(short_gop_clip), "/b": str(short_gop_clip)})
    continuous = add_camera(server.url("/a"), "continuous")
    events = add_camera(server.url("/b"), "events", record="events")
    off = add_camera(server.url("/a"), "off", record="off")
    video_file = add_camera(str(short_gop_clip), "video-file", kind=SourceKind.FILE)
    disabled = add_camera(server.url("/a"), "disabled")
    db.execute("UPDATE cameras SET enabled = false WHERE id = %s", (disabled,))
    settings = Settings(data_dir=tmp_path, record=record_settings.model_dump())
    sent: list = []
    with WorkerRecording(settings, db_url, "node-1", None, sent.append) as recording:
        held = frozenset({continuous, events, off, video_file, disabled})
        recording.sync(db, held)
        assert {k: v.mode for k, v in recording.pool.cameras().items()} == {
            continuous: RecordMode.CONTINUOUS, events: RecordMode.EVENTS}

        def recorded(camera_id: int) -> int:
            now = datetime.now(UTC)
            return len(recordings.segments_between(db, camera_id, now - timedelta(hours=1), now))
        assert poll(lambda: recorded(continuous) >= 2 and recorded(events) >= 2, 30)

        recordings.set_camera_recording(db, continuous, mode="off")
        recording.sync(db, held)
        recording.sync(db, held - {events})  # lease lost
        assert recording.pool.cameras() == {}
        assert poll(lambda: recording.pool.status() == [], 10), "recorders still running"
        # their last segments, closed as they stopped, are indexed next: footage up to the stop is kept
        assert poll(lambda: recording.pool.stats().pending == 0, 10), "last segments not indexed"
        stopped = {c: recorded(c) for c in (continuous, events)}
        assert not poll(lambda: any(recorded(c) > n for c, n in stopped.items()), 3), "still recording"
    assert recorded(off) == recorded(video_file) == recorded(disabled) == 0
    assert not list(media_folders(tmp_path, off, video_file, disabled))
    assert sent == []


def media_folders(tmp_path: Path, *camera_ids: int) -> list[Path]:
    return [p for c in camera_ids if (p := media.recording_camera_dir(tmp_path, c)).exists()]


def test_an_events_camera_keeps_only_the_footage_around_its_events(
        db: psycopg.Connection, db_url: str, tmp_path: Path, add_camera, rtsp_server_factory,
        short_gop_clip: Path, record_settings) -> None:
    server = rtsp_server_factory({"/a": str(short_gop_clip)})
    camera = add_camera(server.url("/a"), "events", record="events")
    settings = Settings(data_dir=tmp_path, record={**record_settings.model_dump(), "pre_roll_s": 1,
                                                   "post_roll_s": 1, "events_buffer_s": 60, "max_disk_percent": None})
    with WorkerRecording(settings, db_url, "node-1", None, lambda event: None) as recording:
        recording.sync(db, frozenset({camera}))

        def rows() -> list:
            now = datetime.now(UTC)
            return recordings.segments_between(db, camera, now - timedelta(hours=1), now)
        assert poll(lambda: len(rows()) >= 8, 40)
    segments = rows()
    middle = segments[len(segments) // 2]
    add_event(db, camera, middle.start + timedelta(milliseconds=200), middle.start + timedelta(milliseconds=400),
              status="resolved")
    near = [s for s in segments if s.start < middle.start + timedelta(seconds=1.4)
            and s.end > middle.start - timedelta(seconds=0.8)]
    assert middle in near and len(near) < len(segments) - 3

    index = recordings.RecordingIndex(db)
    report = prune(index, settings, tmp_path)  # within the buffer: everything stays
    assert report.deleted_segments == 0 and all(on_disk(tmp_path, segments))
    later = datetime.now(UTC) + timedelta(seconds=61)
    report = prune(index, settings, tmp_path, now=later)
    assert report.expired.segments == len(segments) - len(near)
    assert on_disk(tmp_path, segments) == [s in near for s in segments]
    assert rows() == near


def test_the_yaml_set_up_carries_what_each_camera_records_and_keeps(db: psycopg.Connection) -> None:
    from store.config_io import ConfigError, export_config, import_config

    city = {"version": 1, "sites": [{
        "code": "q1", "name": "Q1", "kind": "street", "record_days": 14, "record_event_days": 60,
        "cameras": [{"name": "gate", "source": "rtsp", "main_uri": "rtsp://127.0.0.1:9/gate", "record": "events",
                     "record_days": 20},
                    {"name": "hall", "source": "rtsp", "main_uri": "rtsp://127.0.0.1:9/hall"}]}]}
    import_config(db, city, None, env={})
    site = export_config(db)["sites"][0]
    assert (site["record_days"], site["record_event_days"]) == (14, 60)
    gate, hall = site["cameras"]
    assert (gate["record"], gate["record_days"], "record_event_days" in gate) == ("events", 20, False)
    assert hall["record"] == "continuous" and "record_days" not in hall
    policy = recordings.recording_policy(db, registry_id(db, "gate"), Settings().record)
    assert (policy.mode, policy.days, policy.event_days, policy.days_from, policy.event_days_from) == (
        RecordMode.EVENTS, 20, 60, "camera", "site")
    bad = {"version": 1, "sites": [{**city["sites"][0], "record_days": 90, "cameras": [
        {**gate, "record": "sometimes"}, {**hall, "record_days": 0}]}]}
    try:
        import_config(db, bad, None, env={})
    except ConfigError as exc:
        assert exc.errors == [
            "sites[0].record_event_days: footage around events must be kept at least as long as the rest (90 days)",
            "sites[0].cameras[0].record: 'sometimes': one of off, continuous, events",
            "sites[0].cameras[1].record_days: must be a whole number of days from 1 to 3650, or empty to inherit"]
    else:
        raise AssertionError("bad recording settings were imported")


def registry_id(db: psycopg.Connection, name: str) -> int:
    return int(db.execute("SELECT id FROM cameras WHERE name = %s", (name,)).fetchone()["id"])
