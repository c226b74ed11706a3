"""What the recorder and retention need of the segment index, as protocols: ``store.recordings.RecordingIndex``
provides them over PostgreSQL (this package may not import the store; the application shell hands it in).

Segments are keyed by ``(camera_id, start)``. A row marked ``deleting`` is on its way out: retention marks it,
removes the file, then deletes the row; readers (playback, exports) skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.settings import RecordSettings
from core.types import RecordedSegment


@runtime_checkable
class SegmentIndex(Protocol):
    """Where recorders put the segments they closed."""

    def add_segments(self, segments: Sequence[RecordedSegment]) -> int:
        """Insert the segments not indexed yet (by camera and start, or by path); return how many were new.
        Raises on a database error (the caller keeps them and tries again)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class FootageIndex(SegmentIndex, Protocol):
    """What retention and the start-up reconciliation read and change."""

    def lead_retention(self) -> bool:
        """Become (or stay) the one node that runs retention for the recordings area; False when another is."""
        ...

    def cameras_with_footage(self) -> list[int]: ...

    def expired_segments(self, camera_id: int, settings: RecordSettings, now: datetime,
                         after: datetime | None, limit: int) -> list[RecordedSegment]:
        """The camera's oldest segments past their retention (continuous, around events, or the events-mode
        buffer), never one held or around an unresolved event; oldest first, starting after ``after``."""
        ...

    def expendable_segments(self, settings: RecordSettings, now: datetime, *, around_events: bool,
                            after: tuple[datetime, int] | None, before: datetime,
                            limit: int) -> list[RecordedSegment]:
        """The oldest segments of every camera (ending before ``before``) that the disk budget may take before
        their time: continuous footage (``around_events`` False) or footage around resolved events (True); never
        held footage nor footage around an unresolved event. Ordered by start and camera, after ``after``."""
        ...

    def footage_bytes(self) -> int: ...

    def protected_bytes(self, settings: RecordSettings, now: datetime) -> int:
        """Bytes of the footage the disk budget may not take (held, or around an unresolved event)."""
        ...

    def mark_deleting(self, segments: Sequence[RecordedSegment]) -> None: ...

    def delete_segments(self, segments: Sequence[RecordedSegment]) -> None: ...

    def deleting_segments(self, limit: int) -> list[RecordedSegment]:
        """Rows marked deleting (a deletion a crash interrupted)."""
        ...

    def camera_segments(self, camera_id: int, start: datetime, end: datetime) -> list[RecordedSegment]:
        """The camera's rows (not deleting) that start in [start, end), oldest first."""
        ...

    def footage_span(self, camera_id: int) -> tuple[datetime, datetime] | None:
        """When the camera's oldest and newest indexed segments start; None when it has none."""
        ...


IndexFactory = Callable[[], SegmentIndex]
FootageIndexFactory = Callable[[], FootageIndex]
