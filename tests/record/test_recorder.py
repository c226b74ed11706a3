"""The recorder against the real GStreamer RTSP server, real ffmpeg and a real PostgreSQL index: segments appear
and are indexed with the times they were recorded; a killed recorder comes back and the index shows the gap;
ten camera flaps give ten gaps and never a stall; the camera's password never reaches a log or an event."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from core import media
from core.types import EventType, RecordMode
from record.recorder import RecordingSpec
from store import recordings
from tests.record.conftest import poll
from tests.support.rtsp import footage

HOUR = timedelta(hours=1)


def _spec(db: psycopg.Connection, camera_id: int) -> RecordingSpec:
    return RecordingSpec(recordings.main_source(db, camera_id, None), RecordMode.CONTINUOUS)


def _rows(db: psycopg.Connection, camera_id: int) -> list:
    now = datetime.now(UTC)
    return recordings.segments_between(db, camera_id, now - HOUR, now + HOUR)


def test_closed_segments_are_indexed_with_the_times_they_were_recorded(
        db: psycopg.Connection, tmp_path: Path, rtsp_server_factory, short_gop_clip: Path, add_camera,
        recorder_pool) -> None:
    server = rtsp_server_factory({"/cam1": str(short_gop_clip)})
    camera = add_camera(server.url("/cam1"))
    pool, events = recorder_pool()
    began = datetime.now(UTC)
    pool.add(_spec(db, camera))
    assert poll(lambda: len(_rows(db, camera)) >= 9, 30), "fewer than 9 segments indexed in 30 s"
    rows = _rows(db, camera)
    # A recorder remembers only the names still in ffmpeg's sliding live playlist, not every segment of its run
    # (a run of days would grow without end: the soak found it).
    assert len(pool._recorders[camera]._indexed) <= pool.settings.live_segments < len(rows)
    assert {r.run_id for r in rows} == {rows[0].run_id} and {r.node for r in rows} == {"node-1"}
    assert {(r.codec, r.width, r.height) for r in rows} == {("h264", 384, 288)}
    for row in rows:
        file = media.recording_file(tmp_path, row.path)
        assert file is not None and file.is_file() and file.stat().st_size == row.bytes
        assert file.parent.parent == media.recording_camera_dir(tmp_path, camera)
        # The segment's end is when its file closed (the next key frame arrived): the wall clock of the footage.
        closed = datetime.fromtimestamp(file.stat().st_mtime, UTC)
        assert abs((row.end - closed).total_seconds()) < 0.3, (row, closed)
        # Cut at a key frame (every 0.5 s) once the run's total passes the next whole second.
        assert 0.4 <= row.duration_s <= 1.6, row
    assert 0.8 < statistics.mean(r.duration_s for r in rows[1:]) < 1.2
    assert began - timedelta(seconds=1) < rows[0].start < rows[-1].end <= datetime.now(UTC)
    for before, after in itertools.pairwise(rows):
        assert abs((after.start - before.end).total_seconds()) < 0.05, "one run's segments follow each other"
    lags = pool.stats().lags_s
    assert lags and max(lags) < 3.0, f"segment closed -> row inserted took {max(lags):.2f} s"
    # The live playlist stays as ffmpeg writes it, naming this run's segments relative to the camera's folder.
    live = media.recording_live_playlist(tmp_path, camera).read_text()
    assert "#EXT-X-PROGRAM-DATE-TIME" in live and f"-{rows[0].run_id}-" in live
    assert not [e for e in events.events], "no health event while recording normally"


def test_a_stream_with_b_frames_is_recorded_too(db: psycopg.Connection, rtsp_server_factory, add_camera,
                                               recorder_pool, record_settings) -> None:
    """bikes.mp4 has B-frames: its first packets come without a decoding time, which stopped ffmpeg's muxer."""
    server = rtsp_server_factory({"/cam1": str(footage("bikes.mp4"))})
    camera = add_camera(server.url("/cam1"))
    # Its key frames come 1.2-2.5 s apart: the first segment may take longer than the other tests' 3 s grace.
    pool, events = recorder_pool(record_settings.model_copy(update={"offline_grace_s": 10.0}))
    pool.add(_spec(db, camera))
    assert poll(lambda: len(_rows(db, camera)) >= 2, 30), pool.status()[0].last_reason
    rows = _rows(db, camera)
    assert {(r.codec, r.width, r.height) for r in rows} == {("h264", 640, 272)}
    assert pool.status()[0].runs == 1 and events.events == []


def test_a_killed_recorder_is_restarted_and_the_gap_stays_in_the_index(
        db: psycopg.Connection, rtsp_server_factory, short_gop_clip: Path, add_camera, recorder_pool) -> None:
    server = rtsp_server_factory({"/cam1": str(short_gop_clip)})
    camera = add_camera(server.url("/cam1"))
    pool, _ = recorder_pool()
    pool.add(_spec(db, camera))
    assert poll(lambda: len(_rows(db, camera)) >= 2, 30)
    pid = pool.status()[0].pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed_at = datetime.now(UTC)
    assert poll(lambda: len({r.run_id for r in _rows(db, camera)}) == 2 and _rows(db, camera)[-1].start > killed_at,
                30), "no second run indexed after the kill"
    status = pool.status()[0]
    assert status.runs == 2 and status.pid not in (None, pid) and "signal 9" in (status.last_reason or "")
    now = datetime.now(UTC)
    spans = recordings.spans(db, camera, now - HOUR, now + HOUR)
    assert len(spans) == 2, spans
    gap = (spans[1].start - spans[0].end).total_seconds()
    assert 0.1 < gap < 10, f"the restart gap is {gap:.2f} s"  # nothing invented: the lost seconds stay missing
    assert spans[0].end <= killed_at + timedelta(seconds=1) <= spans[1].start + timedelta(seconds=1)


@pytest.mark.slow
def test_ten_camera_flaps_leave_ten_gaps_and_no_stall(
        db: psycopg.Connection, rtsp_server_factory, short_gop_clip: Path, add_camera, recorder_pool,
        record_settings) -> None:
    server = rtsp_server_factory({"/cam1": str(short_gop_clip)})
    camera = add_camera(server.url("/cam1"))
    pool, events = recorder_pool(record_settings.model_copy(update={"offline_grace_s": 2.0}))
    pool.add(_spec(db, camera))
    outages = []
    for flap in range(11):
        runs_before = flap
        assert poll(lambda n=runs_before: len({r.run_id for r in _rows(db, camera)}) > n, 30), \
            f"recording did not come back after flap {flap}"
        if flap == 10:
            break
        started = time.monotonic()
        server.restart()  # killed without a goodbye, back on the same port
        outages.append(time.monotonic() - started)
    now = datetime.now(UTC)
    spans = recordings.spans(db, camera, now - HOUR, now + HOUR)
    assert len(spans) == 11, [(s.start, s.end, s.run_id) for s in spans]
    assert len({s.run_id for s in spans}) == 11
    gaps = [(b.start - a.end).total_seconds() for a, b in itertools.pairwise(spans)]
    assert all(gap > 0 for gap in gaps), gaps
    assert statistics.median(gaps) < 8, f"recording came back slowly: gaps {gaps}"
    status = pool.status()[0]
    assert status.stalls == 0, "a flapping camera is a restart, never a stall"
    assert EventType.RECORDING_STALLED not in {e.type for e in events.events}
    offline = [e for e in events.latest().values() if e.type == EventType.RECORDING_OFFLINE]
    assert all(e.end is not None for e in offline), "every offline event closed when recording came back"


def test_the_camera_password_never_reaches_logs_or_events(
        db: psycopg.Connection, rtsp_server_factory, short_gop_clip: Path, add_camera, recorder_pool,
        caplog: pytest.LogCaptureFixture) -> None:
    """ffmpeg quotes the URL it was given in its errors; the URL carries the password."""
    secret = "S3cret-Pass"
    camera = add_camera(f"rtsp://admin:{secret}@127.0.0.1:9/nothing-listens")
    spec = _spec(db, camera)
    assert spec.source.password == secret and secret in spec.source.open_uri
    caplog.set_level(logging.DEBUG)
    pool, events = recorder_pool()
    pool.add(spec)
    assert poll(lambda: any(e.type == EventType.RECORDING_OFFLINE for e in events.events), 20)
    assert poll(lambda: pool.status()[0].runs >= 2, 10)
    status = pool.status()[0]
    assert status.last_reason and "9/nothing-listens" in status.last_reason, status.last_reason
    texts = [r.getMessage() for r in caplog.records] + [str(e.attributes) for e in events.events]
    texts.append(status.last_reason)
    assert any("nothing-listens" in t for t in texts)
    assert not [t for t in texts if secret in t or "admin:" in t]
