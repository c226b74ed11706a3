"""Reading the recordings index (store/playback.py): spans split at holes of more than a second and at recorder
restarts, the gaps between them, whole segments of a range, rows being deleted left out, holds and exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from store import playback
from tests.support.api import seed_sites
from tests.support.recordings import index_rows

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_spans_split_at_holes_over_a_second_and_at_restarts(db: psycopg.Connection) -> None:
    camera = seed_sites(db, 1).cameras[0]
    # 3 segments, a 0.5-s jitter (not a hole), 2 more, a 1.5-s hole, 2 more; then a restart with no hole.
    first = index_rows(db, camera, T0, [2.0] * 7, gaps={3: 0.5, 5: 1.5})
    restarted = index_rows(db, camera, first[-1].end, [2.0] * 2, run_id="run-2")
    found = playback.spans(db, camera, T0 - timedelta(minutes=1), T0 + timedelta(minutes=1))
    assert [(s.start, s.end, s.segments) for s in found] == [
        (T0, first[4].end, 5), (first[5].start, first[6].end, 2), (restarted[0].start, restarted[-1].end, 2)]
    assert found[0].codecs == ("h264",) and found[0].bytes == 5000
    gaps = playback.gaps_between(found, T0, T0 + timedelta(seconds=30))
    # The restart split the spans but left no time without footage: no gap there.
    assert gaps == [(first[4].end, first[5].start), (restarted[-1].end, T0 + timedelta(seconds=30))]
    segments = playback.segments(db, camera, T0, T0 + timedelta(minutes=1))
    marks = [playback.is_discontinuity(a, b) for a, b in zip([None, *segments], segments, strict=False)]
    assert [i for i, mark in enumerate(marks) if mark] == [5, 7], "before the hole and before the restart"


def test_a_range_gets_whole_segments_and_never_rows_being_deleted(db: psycopg.Connection) -> None:
    camera = seed_sites(db, 1).cameras[0]
    rows = index_rows(db, camera, T0, [2.0] * 5)
    got = playback.segments(db, camera, T0 + timedelta(seconds=3), T0 + timedelta(seconds=5))
    assert [s.path for s in got] == [rows[1].path, rows[2].path]
    db.execute("UPDATE recording_segments SET deleting = true WHERE path = %s", (rows[1].path,))
    assert [s.path for s in playback.segments(db, camera, T0, T0 + timedelta(seconds=10))] == \
        [rows[0].path, rows[2].path, rows[3].path, rows[4].path]
    assert not playback.segment_indexed(db, camera, rows[1].path)
    assert playback.segment_indexed(db, camera, rows[2].path)
    assert not playback.segment_indexed(db, camera + 1, rows[2].path), "another camera's address"


def test_holds_release_once_and_exports_are_found_by_sha256(db: psycopg.Connection) -> None:
    camera = seed_sites(db, 1).cameras[0]
    hold = playback.create_hold(db, camera, T0, T0 + timedelta(minutes=1), "khiếu nại", "KN-1", None)
    assert [h["id"] for h in playback.list_holds(db, camera)] == [hold["id"]]
    assert playback.release_hold(db, hold["id"], None)["released_at"] is not None
    assert playback.release_hold(db, hold["id"], None) is None
    assert playback.list_holds(db, camera) == []
    digest = "ab" * 32
    made = playback.insert_export(db, camera_id=camera, start=T0, end=T0 + timedelta(seconds=10), actual_start=T0,
                                  actual_end=T0 + timedelta(seconds=12), reason="thanh tra", user_id=None,
                                  username="cli:root", sha256=digest, size=123, file_name="x.mp4",
                                  hold_id=hold["id"])
    assert [e["id"] for e in playback.exports_by_sha256(db, digest.upper())] == [made["id"]]
    assert playback.exports_by_sha256(db, "cd" * 32) == []
