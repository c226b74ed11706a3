"""The start-up pass that makes the recordings area and the index agree again after a crash.

What a crash can leave, and what this pass does with it:
- rows marked ``deleting`` (retention stopped between its steps): their files are removed, then the rows;
- rows whose file is gone (removed by hand, a lost disk): the rows are deleted, footage that is not there is
  not offered for playback;
- files without a row (the worker died before it indexed its last segments, or ffmpeg was killed while writing
  one: a ``.ts.tmp``): they are **adopted**, not deleted, because they are real footage: ffprobe gives the
  duration, the file's modification time is its end, the name gives the run. A file nobody can read is removed.
Files younger than ``grace_s`` are left alone (a recorder on some node is about to index them). When the area
holds nothing at all while the index lists footage, nothing is deleted: the shared storage is probably not
mounted.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from core import media
from core.settings import Settings
from core.types import RecordedSegment
from record import ffmpeg
from record.index import FootageIndex
from record.retention import PruneReport, finish_interrupted

log = logging.getLogger(__name__)
ORPHAN_GRACE_S = 300.0
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEGMENT = re.compile(r"^\d{6}-(?P<run>[0-9A-Za-z]+)-\d+\.ts(?P<tmp>\.tmp)?$")


@dataclass
class ReconcileReport:
    resumed: int = 0  # interrupted deletions finished
    rows_without_files: int = 0  # rows deleted
    adopted: int = 0  # files without rows, indexed
    discarded: int = 0  # unreadable files without rows, removed
    young: int = 0  # files without rows left for their recorder
    errors: list[str] = field(default_factory=list)


def reconcile(index: FootageIndex, settings: Settings, data_dir: Path, node: str, *, now: datetime | None = None,
              grace_s: float = ORPHAN_GRACE_S) -> ReconcileReport:
    """Bring index and files into agreement (see the module's docstring); ``node`` names adopted segments."""
    now = now or datetime.now(UTC)
    report = ReconcileReport()
    interrupted = PruneReport(now=now)
    finish_interrupted(index, data_dir, interrupted)
    report.resumed = interrupted.resumed.segments
    report.errors += interrupted.errors
    area = media.recordings_dir(data_dir)
    indexed = index.cameras_with_footage()
    on_disk = sorted(int(p.name) for p in _entries(area) if p.is_dir() and p.name.isdigit())
    if indexed and not any(True for _ in _entries(area)):
        report.errors.append(f"the recordings area is empty while the index lists footage of {len(indexed)} "
                             "cameras: is the shared storage mounted? Nothing reconciled")
        log.error("reconcile: %s", report.errors[-1])
        return report
    for camera_id in sorted(set(indexed) | set(on_disk)):
        _camera(index, settings, data_dir, node, camera_id, now, grace_s, report)
    if report.rows_without_files or report.adopted or report.discarded or report.resumed:
        log.warning("reconcile: %d interrupted deletions finished, %d rows without files deleted, %d files adopted, "
                    "%d unreadable files removed", report.resumed, report.rows_without_files, report.adopted,
                    report.discarded)
    return report


def _camera(index: FootageIndex, settings: Settings, data_dir: Path, node: str, camera_id: int, now: datetime,
            grace_s: float, report: ReconcileReport) -> None:
    folder = media.recording_camera_dir(data_dir, camera_id)
    days = {p.name for p in _entries(folder) if p.is_dir() and DAY.match(p.name)}
    span = index.footage_span(camera_id)
    if span is not None:
        first, last = span[0].date(), span[1].date()
        days |= {(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}
    for day in sorted(days):
        start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
        prefix = media.recording_path(camera_id, f"{day}/")
        rows = {r.path: r for r in index.camera_segments(camera_id, start - timedelta(hours=1),
                                                        start + timedelta(days=1, hours=1))
                if r.path.startswith(prefix)}
        files = {media.recording_path(camera_id, f"{day}/{p.name}"): p
                 for p in _entries(folder / day) if SEGMENT.match(p.name)}
        gone = [row for path, row in rows.items() if path not in files]
        if gone:
            index.delete_segments(gone)
            report.rows_without_files += len(gone)
        adopted = [s for path, file in files.items() if path not in rows
                   and (s := _adopt(settings, camera_id, day, file, node, now, grace_s, report)) is not None]
        if adopted:
            report.adopted += index.add_segments(adopted)


def _adopt(settings: Settings, camera_id: int, day: str, file: Path, node: str, now: datetime, grace_s: float,
           report: ReconcileReport) -> RecordedSegment | None:
    match = SEGMENT.match(file.name)
    assert match is not None
    try:
        stat = file.stat()
    except FileNotFoundError:
        return None
    end = datetime.fromtimestamp(stat.st_mtime, UTC)
    if (now - end).total_seconds() < grace_s:
        report.young += 1
        return None
    info = ffmpeg.probe(settings.record.ffprobe, file)
    if info is None or not info.duration_s or stat.st_size == 0:
        try:
            file.unlink()
            report.discarded += 1
        except OSError as exc:
            report.errors.append(f"{file.name}: {exc.strerror or exc}")
        return None
    name = file.name
    if match["tmp"]:  # ffmpeg was killed while writing it: what it wrote is footage all the same
        name = name.removesuffix(".tmp")
        try:
            os.replace(file, file.with_name(name))
        except OSError as exc:
            report.errors.append(f"{file.name}: {exc.strerror or exc}")
            return None
    start = end - timedelta(seconds=info.duration_s)
    return RecordedSegment(camera_id, start, end, media.recording_path(camera_id, f"{day}/{name}"), stat.st_size,
                           node, match["run"], info.codec, info.width, info.height)


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
