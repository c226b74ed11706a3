"""Footage laid down for retention tests: segment files in the recordings area and their rows in the real index,
at chosen times in the past (hours or days of recording without waiting for them)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg

from core import media
from core.types import RecordedSegment
from store import recordings


def lay_segments(db: psycopg.Connection, data_dir: Path, camera_id: int, start: datetime, count: int, *,
                 seconds: float = 10.0, size: int = 1000, run_id: str = "feedc0de") -> list[RecordedSegment]:
    """``count`` consecutive segments of ``seconds`` each from ``start``, files of ``size`` bytes, indexed."""
    segments = []
    for i in range(count):
        begin = start + timedelta(seconds=seconds * i)
        name = f"{begin:%Y-%m-%d}/{begin:%H%M%S}-{run_id}-{i:04d}.ts"
        segment = RecordedSegment(camera_id, begin, begin + timedelta(seconds=seconds),
                                  media.recording_path(camera_id, name), size, "node-1", run_id, "h264", 384, 288)
        file = media.recording_file(data_dir, segment.path)
        assert file is not None
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"\x47" * size)
        segments.append(segment)
    assert recordings.insert_segments(db, segments) == count
    return segments


def add_event(db: psycopg.Connection, camera_id: int, start: datetime, end: datetime | None, *,
              status: str = "new", kind: str = "intrusion") -> None:
    db.execute("INSERT INTO events (id, time, end_time, camera_id, type, severity, status)"
               " VALUES (%s, %s, %s, %s, %s, 'high', %s)", (uuid4(), start, end, camera_id, kind, status))


def add_hold(db: psycopg.Connection, camera_id: int, start: datetime, end: datetime, *,
             released: datetime | None = None) -> None:
    db.execute("INSERT INTO recording_holds (camera_id, start_time, end_time, reason, released_at)"
               " VALUES (%s, %s, %s, 'complaint 17', %s)", (camera_id, start, end, released))


def on_disk(data_dir: Path, segments: list[RecordedSegment]) -> list[bool]:
    return [bool((f := media.recording_file(data_dir, s.path)) and f.is_file()) for s in segments]


def indexed(db: psycopg.Connection, segments: list[RecordedSegment]) -> list[bool]:
    rows = {(r["camera_id"], r["start_time"])
            for r in db.execute("SELECT camera_id, start_time FROM recording_segments")}
    return [(s.camera_id, s.start) in rows for s in segments]


def real_segment(clip: Path, target: Path, seconds: float = 1.0) -> Path:
    """A real MPEG-TS segment (ffprobe reads its duration) cut from ``clip``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(clip), "-t", f"{seconds}", "-c", "copy",
                    "-f", "mpegts", str(target)], check=True, timeout=60)
    return target
