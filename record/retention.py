"""Retention: which footage goes, in which order, and deleting it so that index and files never disagree for long.

The order (``prune``):
1. Footage past its time, camera by camera: continuous footage after ``days`` (camera's ``record_days``, else
   its site's, else ``record.days``), footage around events (``pre_roll_s`` before to ``post_roll_s`` after an
   event of the scene, equipment events aside) after ``event_days`` (never less than ``days``), and on a camera
   that records ``events`` the footage away from events after ``events_buffer_s``.
2. Over the disk budget (``max_bytes``, ``max_disk_percent`` of the volume): the oldest continuous footage of
   any camera, before its time.
3. Still over: the oldest footage around resolved events.
Never: footage held by a ``recording_holds`` row not released, or around an event not resolved yet. Held
footage beyond the budget is reported (``over_budget_bytes``) and the upkeep loop raises
``recording_storage_full`` (``storage_alarm``) once footage retention may not take fills ``storage_alarm_percent``
of the budget: before anything held would have to go.

Each batch is deleted in three steps: the rows are marked ``deleting`` (playback skips them), the files are
removed, the rows are deleted. A crash between two steps leaves rows marked deleting: the next prune (and the
start-up reconciliation) finishes them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import media
from core.settings import RecordSettings, Settings
from core.types import RecordedSegment
from record.index import FootageIndex

log = logging.getLogger(__name__)
BATCH = 500
LIVE_EDGE = timedelta(minutes=5)  # the budget never takes footage this new (the live view plays it)


@dataclass
class Tally:
    segments: int = 0
    bytes: int = 0

    def add(self, segments: list[RecordedSegment]) -> None:
        self.segments += len(segments)
        self.bytes += sum(s.bytes for s in segments)


@dataclass
class PruneReport:
    """What one prune did (or, with ``dry_run``, would do)."""

    now: datetime
    dry_run: bool = False
    resumed: Tally = field(default_factory=Tally)  # deletions a crash had interrupted, finished
    expired: Tally = field(default_factory=Tally)  # past their retention
    budget_continuous: Tally = field(default_factory=Tally)  # taken early by the disk budget
    budget_events: Tally = field(default_factory=Tally)  # footage around resolved events taken early
    footage_bytes: int | None = None  # indexed footage before pruning (None: not summed, see prune)
    budget_bytes: int | None = None  # what footage may take (None: no budget)
    protected_bytes: int | None = None  # footage the budget takes last or never (held, around events)
    over_budget_bytes: int = 0  # still over after everything it may take
    missing_files: int = 0  # rows whose file was already gone
    errors: list[str] = field(default_factory=list)
    alarm_percent: float = 90.0

    @property
    def deleted_segments(self) -> int:
        return sum(t.segments for t in (self.resumed, self.expired, self.budget_continuous, self.budget_events))

    @property
    def deleted_bytes(self) -> int:
        return sum(t.bytes for t in (self.resumed, self.expired, self.budget_continuous, self.budget_events))

    @property
    def pressure_percent(self) -> float | None:
        """Protected footage as a share of the budget."""
        if self.budget_bytes is None or self.protected_bytes is None:
            return None
        return 100.0 * self.protected_bytes / max(1, self.budget_bytes)

    @property
    def storage_alarm(self) -> bool:
        """Footage retention may not take crowds the budget: tell a person before held footage would have to go."""
        pressure = self.pressure_percent
        return (self.over_budget_bytes > 0 or self.budget_events.segments > 0
                or (pressure is not None and pressure >= self.alarm_percent))

    @property
    def storage_clear(self) -> bool:
        """Clearly out of the alarm's range (10 points of hysteresis)."""
        pressure = self.pressure_percent
        return not self.storage_alarm and (pressure is None or pressure < self.alarm_percent - 10)


def prune(index: FootageIndex, settings: Settings, data_dir: Path, *, now: datetime | None = None,
          dry_run: bool = False, count_footage: bool = True) -> PruneReport:
    """Delete the footage retention and the disk budget say must go, oldest first; ``dry_run`` only counts it.

    ``index`` is the footage index: ``store.recordings.RecordingIndex(conn)`` over a database connection.
    ``count_footage`` False (the periodic upkeep) sums the index's bytes, a read of every row, only when a byte
    budget is set or the volume nears its percentage; ``footage_bytes`` is then None when it was not needed.
    """
    if not isinstance(index, FootageIndex):
        raise TypeError("prune() takes the footage index: store.recordings.RecordingIndex(conn)")
    record = settings.record
    now = now or datetime.now(UTC)
    report = PruneReport(now=now, dry_run=dry_run, alarm_percent=record.storage_alarm_percent)
    if not dry_run:
        finish_interrupted(index, data_dir, report)
    if count_footage:
        report.footage_bytes = index.footage_bytes()
    for camera_id in index.cameras_with_footage():
        after: datetime | None = None
        while batch := index.expired_segments(camera_id, record, now, after, BATCH):
            _delete(index, data_dir, batch, report.expired, report)
            after = batch[-1].start
    report.budget_bytes = _budget(index, record, data_dir, report)
    if report.budget_bytes is not None:
        assert report.footage_bytes is not None
        remaining = report.footage_bytes - report.expired.bytes
        excess = remaining - report.budget_bytes
        for around_events, tally in ((False, report.budget_continuous), (True, report.budget_events)):
            excess = _take(index, record, data_dir, now, around_events, excess, tally, report)
        report.over_budget_bytes = max(0, excess)
        remaining -= report.budget_continuous.bytes + report.budget_events.bytes
        if remaining >= report.budget_bytes * (record.storage_alarm_percent - 10) / 100:
            report.protected_bytes = index.protected_bytes(record, now)
    if report.deleted_segments or report.errors:
        log.info("retention%s: %d segments (%.1f MB) deleted, %d errors", " (dry run)" if dry_run else "",
                 report.deleted_segments, report.deleted_bytes / 1e6, len(report.errors))
    return report


def _budget(index: FootageIndex, record: RecordSettings, data_dir: Path, report: PruneReport) -> int | None:
    """Bytes the footage left after expiry may take: ``max_bytes``, and what ``max_disk_percent`` of the volume
    leaves after everything else on it; the smaller. None when there is no budget, or when the volume is so far
    below its percentage that neither deleting nor the alarm can be due (footage <= used: protected footage
    is at most used/allowed of the budget)."""
    limits = []
    if record.max_bytes is not None:
        limits.append(record.max_bytes)
    if record.max_disk_percent is not None:
        usage = shutil.disk_usage(_existing(media.recordings_dir(data_dir)))
        allowed = int(usage.total * record.max_disk_percent / 100)
        used = usage.used - (report.expired.bytes if report.dry_run else 0)  # a dry run removed nothing
        if not limits and report.footage_bytes is None and used < allowed * (record.storage_alarm_percent - 10) / 100:
            return None
        remaining = _footage(index, report) - report.expired.bytes
        limits.append(max(0, allowed - max(0, used - remaining)))
    if limits:
        _footage(index, report)
    return min(limits) if limits else None


def _footage(index: FootageIndex, report: PruneReport) -> int:
    """The indexed footage before this prune (summed now, after the expired rows went, when not yet known)."""
    if report.footage_bytes is None:
        report.footage_bytes = index.footage_bytes() + (0 if report.dry_run else report.expired.bytes)
    return report.footage_bytes


def finish_interrupted(index: FootageIndex, data_dir: Path, report: PruneReport) -> None:
    """Rows a crash left marked deleting: remove their files (if still there) and the rows."""
    while batch := index.deleting_segments(BATCH):
        done = _remove_files(data_dir, batch, report)
        index.delete_segments(done)
        report.resumed.add(done)
        if len(done) < len(batch):
            break  # some files cannot be removed: they stay marked, a person has to look


def _take(index: FootageIndex, record: RecordSettings, data_dir: Path, now: datetime, around_events: bool,
          excess: int, tally: Tally, report: PruneReport) -> int:
    """Delete the oldest expendable segments of one kind until ``excess`` bytes are gone; return what is left."""
    after: tuple[datetime, int] | None = None
    while excess > 0:
        batch = index.expendable_segments(record, now, around_events=around_events, after=after,
                                          before=now - LIVE_EDGE, limit=BATCH)
        if not batch:
            break
        after = (batch[-1].start, batch[-1].camera_id)
        chosen, total = [], 0
        for segment in batch:
            if total >= excess:
                break
            chosen.append(segment)
            total += segment.bytes
        _delete(index, data_dir, chosen, tally, report)
        excess -= total
    return excess


def _delete(index: FootageIndex, data_dir: Path, batch: list[RecordedSegment], tally: Tally,
            report: PruneReport) -> None:
    if report.dry_run:
        tally.add(batch)
        return
    index.mark_deleting(batch)
    done = _remove_files(data_dir, batch, report)
    index.delete_segments(done)
    tally.add(done)
    _remove_empty_days(data_dir, done, report.now)


def _remove_files(data_dir: Path, batch: list[RecordedSegment], report: PruneReport) -> list[RecordedSegment]:
    """Remove each segment's file; return the segments whose file is gone now (removed or already missing)."""
    done = []
    for segment in batch:
        path = media.recording_file(data_dir, segment.path)
        if path is None:
            report.errors.append(f"{segment.path}: outside the recordings area, file left alone")
            done.append(segment)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            report.missing_files += 1
        except OSError as exc:
            report.errors.append(f"{segment.path}: {exc.strerror or exc}")
            continue
        done.append(segment)
    return done


def _remove_empty_days(data_dir: Path, segments: list[RecordedSegment], now: datetime) -> None:
    """Day folders emptied by retention go, except the last two days' (a recorder may be about to write)."""
    recent = {(now - timedelta(days=d)).strftime("%Y-%m-%d") for d in (0, 1)}
    folders = {Path(s.path).parent for s in segments}
    for folder in folders:
        if folder.name in recent:
            continue
        path = media.recording_file(data_dir, str(folder))
        if path is not None:
            with contextlib.suppress(OSError):  # not empty (or gone): fine either way
                os.rmdir(path)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
