"""Retention over the real index and real files: footage past its time goes camera by camera, the disk budget
takes the oldest continuous footage first and footage around events after it, held footage never goes and a
storage alarm is raised before it would have to; one node leads retention for the whole area."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from core.settings import Settings
from core.types import EventType
from record.retention import prune
from record.upkeep import Upkeep
from store import recordings
from tests.record.conftest import poll
from tests.record.footage import add_event, add_hold, indexed, lay_segments, on_disk

NOW = datetime.now(UTC).replace(microsecond=0)


def _settings(tmp_path: Path, **record: object) -> Settings:
    return Settings(data_dir=tmp_path, record={"max_disk_percent": None, "pre_roll_s": 0, "post_roll_s": 0,
                                               **record})


def test_a_small_disk_budget_takes_the_oldest_continuous_footage_and_keeps_what_events_hold(
        db: psycopg.Connection, db_url: str, tmp_path: Path, add_camera) -> None:
    a = add_camera("rtsp://127.0.0.1:9/a", "cam-a")
    b = add_camera("rtsp://127.0.0.1:9/b", "cam-b")
    seg_a = lay_segments(db, tmp_path, a, NOW - timedelta(hours=3), 20)  # 20 x 10 s x 1000 B
    seg_b = lay_segments(db, tmp_path, b, NOW - timedelta(hours=2), 20)
    add_event(db, a, seg_a[5].start, seg_a[7].end)  # open for the operators: holds 5-7
    add_event(db, a, seg_a[12].start, seg_a[13].end, status="resolved")  # kept longer, not held
    add_hold(db, b, seg_b[0].start, seg_b[4].end)  # an inspector's case
    add_hold(db, b, seg_b[15].start, seg_b[19].end, released=NOW - timedelta(minutes=1))  # released: no hold

    alarms: list = []
    upkeep = Upkeep(_settings(tmp_path, max_bytes=15_000), tmp_path, "node-1",
                    lambda: recordings.RecordingIndex.connect(db_url), alarms.append)
    try:
        report = upkeep.run_once()
        assert report is not None and upkeep.leader
        assert report.expired.segments == 0  # nothing is 30 days old
        # 25 of the 30 plain segments go, oldest first: all of camera a's, then b's 5..14.
        taken = [*seg_a[0:5], *seg_a[8:12], *seg_a[14:20], *seg_b[5:15]]
        kept = [*seg_a[5:8], *seg_a[12:14], *seg_b[0:5], *seg_b[15:20]]
        assert report.budget_continuous.segments == 25 and report.budget_events.segments == 0
        assert not any(on_disk(tmp_path, taken)) and not any(indexed(db, taken))
        assert all(on_disk(tmp_path, kept)) and all(indexed(db, kept))
        assert report.over_budget_bytes == 0 and report.protected_bytes == 10_000 and not report.storage_alarm
        assert alarms == []

        upkeep.settings = _settings(tmp_path, max_bytes=8_000)  # tighter: footage around events must go too
        report = upkeep.run_once()
        assert report is not None
        assert report.budget_continuous.segments == 5 and report.budget_events.segments == 2
        assert not any(on_disk(tmp_path, seg_a[12:14])) and all(on_disk(tmp_path, [*seg_a[5:8], *seg_b[0:5]]))
        assert report.storage_alarm
        assert [e.type for e in alarms] == [EventType.RECORDING_STORAGE_FULL] and alarms[0].end is None

        upkeep.settings = _settings(tmp_path, max_bytes=5_000)  # only held footage is left: it stays
        report = upkeep.run_once()
        assert report is not None and report.deleted_segments == 0 and report.over_budget_bytes == 3_000
        assert all(on_disk(tmp_path, [*seg_a[5:8], *seg_b[0:5]])) and all(indexed(db, [*seg_a[5:8], *seg_b[0:5]]))
        assert len(alarms) == 1, "one alarm, open while the condition lasts"

        db.execute("UPDATE recording_holds SET released_at = now() WHERE released_at IS NULL")
        db.execute("UPDATE events SET status = 'resolved'")
        upkeep.settings = _settings(tmp_path, max_bytes=100_000)
        report = upkeep.run_once()
        assert report is not None and report.storage_clear
        assert len(alarms) == 2 and alarms[1].id == alarms[0].id and alarms[1].end is not None
    finally:
        upkeep.close()


def test_one_node_leads_retention_for_the_whole_area(db_url: str, tmp_path: Path) -> None:
    first = Upkeep(_settings(tmp_path), tmp_path, "node-1", lambda: recordings.RecordingIndex.connect(db_url),
                   lambda event: None)
    second = Upkeep(_settings(tmp_path), tmp_path, "node-2", lambda: recordings.RecordingIndex.connect(db_url),
                    lambda event: None)
    try:
        assert first.run_once() is not None and first.leader
        assert second.run_once() is None and not second.leader
        first.close()  # its node went away: the lock goes with its connection (once the server has seen it)
        assert poll(lambda: second.run_once() is not None, 10, 0.1) and second.leader
    finally:
        first.close()
        second.close()


def test_footage_past_its_time_goes_camera_by_camera_and_events_mode_keeps_only_what_is_near_events(
        db: psycopg.Connection, tmp_path: Path, add_camera) -> None:
    plain = add_camera("rtsp://127.0.0.1:9/p", "plain")
    recordings.set_camera_recording(db, plain, days=1, event_days=3)
    events_cam = add_camera("rtsp://127.0.0.1:9/e", "events-only", record="events")
    off = add_camera("rtsp://127.0.0.1:9/o", "switched-off", record="off")
    gone = 999  # a removed camera: its footage follows the settings (30 days)

    old = lay_segments(db, tmp_path, plain, NOW - timedelta(days=2), 10)
    older = lay_segments(db, tmp_path, plain, NOW - timedelta(days=4), 3, run_id="0ld0ld00")
    # 2 days old, within event_days: kept with 10 s around it (old[2] to old[4]).
    add_event(db, plain, old[2].start + timedelta(seconds=15), old[3].end, status="resolved")
    add_event(db, plain, older[0].start, older[0].end, status="resolved")  # 4 days: past event_days
    add_hold(db, plain, old[8].start, old[9].end)
    recent = lay_segments(db, tmp_path, plain, NOW - timedelta(hours=3), 3, run_id="4ecent00")

    hour = lay_segments(db, tmp_path, events_cam, NOW - timedelta(hours=1), 30)  # 5 minutes of footage
    add_event(db, events_cam, hour[10].start + timedelta(seconds=5), hour[10].end, status="resolved")
    fresh = lay_segments(db, tmp_path, events_cam, NOW - timedelta(minutes=5), 3, run_id="f4e5h000")
    off_old = lay_segments(db, tmp_path, off, NOW - timedelta(days=40), 2)
    off_recent = lay_segments(db, tmp_path, off, NOW - timedelta(days=2), 2, run_id="4ecent00")
    gone_old = lay_segments(db, tmp_path, gone, NOW - timedelta(days=31), 2)
    gone_recent = lay_segments(db, tmp_path, gone, NOW - timedelta(days=29), 2, run_id="4ecent00")

    # pre/post roll 10 s: the event at hour[10] (+5 s .. its end) keeps hour[9], hour[10] and hour[11].
    settings = _settings(tmp_path, pre_roll_s=10, post_roll_s=10, events_buffer_s=600)
    dry = prune(recordings.RecordingIndex(db), settings, tmp_path, now=NOW, dry_run=True)
    expired = [*old[0:2], *old[5:8], *older, *hour[0:9], *hour[12:30], *off_old, *gone_old]
    assert dry.expired.segments == len(expired) and all(on_disk(tmp_path, expired)), "a dry run deletes nothing"

    report = prune(recordings.RecordingIndex(db), settings, tmp_path, now=NOW)
    assert report.expired.segments == len(expired) and report.expired.bytes == 1000 * len(expired)
    assert not any(on_disk(tmp_path, expired)) and not any(indexed(db, expired))
    kept = [*old[2:5], *old[8:10], *recent, *hour[9:12], *fresh, *off_recent, *gone_recent]
    assert all(on_disk(tmp_path, kept)) and all(indexed(db, kept))
    assert prune(recordings.RecordingIndex(db), settings, tmp_path, now=NOW).deleted_segments == 0


def test_footage_around_events_is_never_kept_shorter_than_the_rest(db: psycopg.Connection, add_camera) -> None:
    camera = add_camera("rtsp://127.0.0.1:9/a")
    for bad in ({"days": 30, "event_days": 7}, {"days": 0}, {"event_days": 4000}):
        try:
            recordings.set_camera_recording(db, camera, **bad)
        except recordings.RecordingPolicyError as exc:
            assert exc.field in ("record_days", "record_event_days")
        else:
            raise AssertionError(f"{bad} was accepted")
    recordings.set_camera_recording(db, camera, days=60)  # the site's/settings' 90 event days still cover it
    policy = recordings.recording_policy(db, camera, Settings().record)
    assert (policy.days, policy.event_days, policy.days_from, policy.event_days_from) == (60, 90, "camera", "settings")
    recordings.set_camera_recording(db, camera, days=120)  # inherited event days shorter: the longer wins
    assert recordings.recording_policy(db, camera, Settings().record).event_days == 120
    try:
        db.execute("UPDATE cameras SET record_days = 30, record_event_days = 7 WHERE id = %s", (camera,))
    except psycopg.errors.CheckViolation:
        pass
    else:
        raise AssertionError("the database accepted event days shorter than days")


def test_a_share_of_the_volume_is_a_budget_too_and_is_not_summed_when_far_from_it(
        db: psycopg.Connection, tmp_path: Path, add_camera) -> None:
    camera = add_camera("rtsp://127.0.0.1:9/a")
    segments = lay_segments(db, tmp_path, camera, NOW - timedelta(hours=2), 6)
    add_hold(db, camera, segments[0].start, segments[1].end)
    index = recordings.RecordingIndex(db)
    usage = shutil.disk_usage(tmp_path)
    if usage.used / usage.total > 0.7:
        pytest.skip("the test volume is over 70 % full: 'far from 100 %' cannot be shown on it")
    far = prune(index, Settings(data_dir=tmp_path, record={"max_disk_percent": 100}), tmp_path, count_footage=False)
    assert (far.footage_bytes, far.budget_bytes, far.deleted_segments, far.storage_alarm) == (None, None, 0, False)
    # A sliver of the volume: everything else on it already exceeds it, so all footage but the held goes.
    tight = prune(index, Settings(data_dir=tmp_path, record={"max_disk_percent": 0.001}), tmp_path,
                  count_footage=False)
    assert (tight.footage_bytes, tight.budget_bytes, tight.budget_continuous.segments) == (6000, 0, 4)
    assert tight.over_budget_bytes == 2000 and tight.storage_alarm
    assert on_disk(tmp_path, segments) == [True, True, False, False, False, False]
