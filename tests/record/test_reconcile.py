"""The start-up pass after a crash: a prune killed between removing files and deleting their rows leaves rows
marked deleting, which the pass removes; rows without files go; files without rows (a worker that died before
indexing, ffmpeg killed mid-segment) are adopted as the footage they are; young files are left to their
recorder; an unmounted area deletes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from core import media
from core.settings import Settings
from record.reconcile import reconcile
from store import recordings
from tests.record.conftest import poll
from tests.record.footage import indexed, lay_segments, on_disk, real_segment

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
PRUNE = """
import sys
from pathlib import Path
from core.settings import Settings
from record.retention import prune
from store.recordings import RecordingIndex
data = Path(sys.argv[2])
prune(RecordingIndex.connect(sys.argv[1]), Settings(data_dir=data, record={"max_disk_percent": None}), data)
"""


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_a_prune_killed_between_file_and_row_deletion_is_finished_at_start(
        db: psycopg.Connection, db_url: str, tmp_path: Path, add_camera) -> None:
    camera = add_camera("rtsp://127.0.0.1:9/a")
    expired = lay_segments(db, tmp_path, camera, NOW - timedelta(days=40), 5)
    current = lay_segments(db, tmp_path, camera, NOW - timedelta(hours=1), 3, run_id="c0ffee00")
    # Hold the prune inside its DELETE (a sleeping trigger), so it can be killed exactly there.
    db.execute("CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS"
               " $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$")
    db.execute("CREATE TRIGGER slow_delete BEFORE DELETE ON recording_segments"
               " FOR EACH STATEMENT EXECUTE FUNCTION slow_delete()")
    child = subprocess.Popen([sys.executable, "-c", PRUNE, db_url, str(tmp_path)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        def deleting() -> list:
            return db.execute("SELECT pid FROM pg_stat_activity WHERE query LIKE 'DELETE FROM recording_segments%%'"
                              " AND state = 'active'").fetchall()
        assert poll(deleting, 30), "the prune never reached its DELETE"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        for row in deleting():
            db.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))  # its connection went with it
    finally:
        if child.poll() is None:
            child.kill()
    db.execute("DROP TRIGGER slow_delete ON recording_segments")
    assert poll(lambda: not deleting(), 10)
    # The crash left what the docs say: files gone, rows still there, marked deleting.
    assert not any(on_disk(tmp_path, expired)) and all(indexed(db, expired))
    assert db.execute("SELECT count(*) AS n FROM recording_segments WHERE deleting").fetchone()["n"] == 5
    assert recordings.segments_between(db, camera, NOW - timedelta(days=41), NOW) == current, \
        "readers skip rows on their way out"

    report = reconcile(recordings.RecordingIndex(db), Settings(data_dir=tmp_path), tmp_path, "node-2")
    assert report.resumed == 5 and report.errors == []
    assert not any(indexed(db, expired))
    assert all(on_disk(tmp_path, current)) and all(indexed(db, current))


def test_files_and_rows_that_lost_each_other_are_reconciled(
        db: psycopg.Connection, tmp_path: Path, add_camera, short_gop_clip: Path) -> None:
    camera = add_camera("rtsp://127.0.0.1:9/a")
    intact, marked, lost = (lay_segments(db, tmp_path, camera, NOW - timedelta(hours=h), 2, run_id=run)
                            for h, run in ((3, "aaaa0000"), (2, "bbbb0000"), (1, "cccc0000")))
    index = recordings.RecordingIndex(db)
    index.mark_deleting(marked)  # crashed before its files were removed
    for segment in lost:
        file = media.recording_file(tmp_path, segment.path)
        assert file is not None
        file.unlink()  # removed by hand
    day = media.recording_segments_dir(tmp_path, camera, NOW.date())
    unindexed = real_segment(short_gop_clip, day / "101010-dddd0000-0007.ts")
    killed = real_segment(short_gop_clip, day / "101012-dddd0000-0008.ts.tmp", seconds=0.5)
    junk = day / "101014-dddd0000-0009.ts"
    junk.write_bytes(b"not a video")
    young = real_segment(short_gop_clip, day / "101016-eeee0000-0000.ts")
    for file in (unindexed, killed, junk):
        _age(file, 3600)
    closed_at = datetime.fromtimestamp(unindexed.stat().st_mtime, UTC)

    report = reconcile(index, Settings(data_dir=tmp_path), tmp_path, "node-2")
    counts = (report.resumed, report.rows_without_files, report.adopted, report.discarded, report.young)
    assert counts == (2, 2, 2, 1, 1)
    assert all(on_disk(tmp_path, intact)) and all(indexed(db, intact))
    assert not any(on_disk(tmp_path, marked)) and not any(indexed(db, marked))
    assert not any(indexed(db, lost))
    assert not junk.exists() and young.exists() and not killed.exists() and killed.with_suffix("").exists()
    adopted = {s.path: s for s in recordings.segments_between(db, camera, NOW - timedelta(days=1), NOW + timedelta(1))
               if s.run_id == "dddd0000"}
    assert set(adopted) == {media.recording_path(camera, f"{NOW.date()}/{n}")
                            for n in ("101010-dddd0000-0007.ts", "101012-dddd0000-0008.ts")}
    first = adopted[media.recording_path(camera, f"{NOW.date()}/101010-dddd0000-0007.ts")]
    assert first.end == closed_at and 0.9 < first.duration_s < 1.2 and first.node == "node-2"
    assert (first.codec, first.width, first.height) == ("h264", 384, 288)
    again = reconcile(index, Settings(data_dir=tmp_path), tmp_path, "node-2")
    assert (again.resumed, again.rows_without_files, again.adopted, again.discarded) == (0, 0, 0, 0)


def test_an_empty_recordings_area_deletes_nothing(db: psycopg.Connection, tmp_path: Path, add_camera) -> None:
    """The shared storage not mounted looks like every file gone: the index must not be emptied for it."""
    camera = add_camera("rtsp://127.0.0.1:9/a")
    rows = lay_segments(db, tmp_path, camera, NOW - timedelta(hours=1), 3)
    area = media.recordings_dir(tmp_path)
    area.rename(tmp_path / "elsewhere")
    area.mkdir()
    report = reconcile(recordings.RecordingIndex(db), Settings(data_dir=tmp_path), tmp_path, "node-1")
    assert report.rows_without_files == 0 and report.errors and "mounted" in report.errors[0]
    assert all(indexed(db, rows))
