"""The recordings index (``recording_segments``, migration 0040): what the recorders write, what playback and
retention read, and what each camera records and keeps.

Plain functions over a psycopg connection (dict rows), and ``RecordingIndex``, the same over one connection as
the object ``record/`` works with (``record.index.FootageIndex``). A row is one closed segment keyed by
``(camera_id, start_time)``; its ``path`` is relative to the recordings area (``core.media.recording_file``).
Rows marked ``deleting`` are on their way out (retention): every reader here skips them, and so must playback.
Retention's own queries are in ``store/recording_retention.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from cameras.crypto import SecretBox
from cameras.models import CameraSource, SourceKind
from core.settings import RecordSettings
from core.types import RecordedSegment, RecordMode
from store import recording_retention as retention
from store import registry
from store.db import connect

COLUMNS = "camera_id, start_time, end_time, path, bytes, codec, width, height, node, run_id"
KEEP: Any = object()  # set_*_recording: leave this value as it is
SAME_FILE_WINDOW = timedelta(minutes=1)  # one file indexed twice (recorder and reconciliation) starts this close


class RecordingPolicyError(ValueError):
    """A recording setting that cannot be saved; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """What a camera records and how long its footage is kept, with where each value came from."""

    camera_id: int
    mode: RecordMode
    days: int
    event_days: int
    days_from: str  # camera | site | settings
    event_days_from: str


@dataclass(frozen=True, slots=True)
class RecordedSpan:
    """Footage without a break: consecutive segments of one recorder run."""

    start: datetime
    end: datetime
    segments: int
    bytes: int
    run_id: str


def segment(row: dict[str, Any]) -> RecordedSegment:
    return RecordedSegment(row["camera_id"], row["start_time"], row["end_time"], row["path"], row["bytes"],
                           row["node"], row["run_id"], row["codec"], row["width"], row["height"])


# -- the recorders' side -----------------------------------------------------------------------------------
def insert_segments(conn: psycopg.Connection, segments: Sequence[RecordedSegment]) -> int:
    """Index closed segments; one already there (same camera and start, or the same file) is left as it is.
    Returns how many rows were added."""
    if not segments:
        return 0
    columns = list(zip(*((s.camera_id, s.start, s.end, s.path, s.bytes, s.codec, s.width, s.height, s.node,
                          s.run_id) for s in segments), strict=True))
    cur = conn.execute(
        f"""
        INSERT INTO recording_segments ({COLUMNS})
        SELECT v.* FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::bigint[],
                               %s::text[], %s::int[], %s::int[], %s::text[], %s::text[]) AS v({COLUMNS})
        WHERE NOT EXISTS (SELECT 1 FROM recording_segments r
                          WHERE r.camera_id = v.camera_id AND r.path = v.path
                            AND r.start_time BETWEEN v.start_time - %s AND v.start_time + %s)
        ON CONFLICT DO NOTHING
        """, [list(c) for c in columns] + [SAME_FILE_WINDOW, SAME_FILE_WINDOW])
    return cur.rowcount


def recording_targets(conn: psycopg.Connection, camera_ids: Sequence[int]) -> dict[int, RecordMode]:
    """Of these cameras, the ones to record and how: enabled network cameras whose ``record`` is not off (a
    video file camera is footage already)."""
    rows = conn.execute("SELECT id, record FROM cameras WHERE id = ANY(%s) AND enabled AND record <> 'off'"
                        " AND source_kind <> 'file'", (list(camera_ids),)).fetchall()
    return {row["id"]: RecordMode(row["record"]) for row in rows}


def main_source(conn: psycopg.Connection, camera_id: int, box: SecretBox | None) -> CameraSource:
    """The camera's main stream with its credentials decrypted (what the recorder opens). Raises
    ``registry.RegistryError`` when the camera has no stream or its password cannot be decrypted."""
    camera = registry.get_camera(conn, camera_id)
    if camera.source_kind == SourceKind.FILE or not camera.main_uri:
        raise registry.RegistryError(f"camera '{camera.name}' has no main stream to record")
    token = conn.execute("SELECT password_enc FROM cameras WHERE id = %s", (camera_id,)).fetchone()["password_enc"]
    # The reader's source of the main stream: the sub-stream out of the way, same credentials.
    return registry._source(dataclasses.replace(camera, sub_uri=None), token, box)


# -- readers -----------------------------------------------------------------------------------------------
def segments_between(conn: psycopg.Connection, camera_id: int, start: datetime, end: datetime) -> list[RecordedSegment]:
    """The camera's segments that overlap [start, end), oldest first (none being deleted)."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM recording_segments WHERE camera_id = %s AND NOT deleting"
                        " AND start_time < %s AND end_time > %s ORDER BY start_time",
                        (camera_id, end, start)).fetchall()
    return [segment(r) for r in rows]


def spans(conn: psycopg.Connection, camera_id: int, start: datetime, end: datetime,
          tolerance_s: float = 1.0) -> list[RecordedSpan]:
    """Recorded stretches of the camera within [start, end): a new one begins at a new recorder run or where
    the next segment starts more than ``tolerance_s`` after the last ended. What lies between is a gap."""
    rows = conn.execute(
        """
        WITH s AS (
            SELECT start_time, end_time, bytes, run_id,
                   CASE WHEN lag(run_id) OVER w IS DISTINCT FROM run_id
                          OR start_time > lag(end_time) OVER w + make_interval(secs => %s) THEN 1 ELSE 0 END AS fresh
            FROM recording_segments
            WHERE camera_id = %s AND NOT deleting AND start_time < %s AND end_time > %s
            WINDOW w AS (ORDER BY start_time)
        ), g AS (SELECT *, sum(fresh) OVER (ORDER BY start_time) AS span FROM s)
        SELECT min(start_time) AS start, max(end_time) AS "end", count(*) AS segments, sum(bytes) AS bytes,
               min(run_id) AS run_id
        FROM g GROUP BY span ORDER BY min(start_time)
        """, (tolerance_s, camera_id, end, start)).fetchall()
    return [RecordedSpan(r["start"], r["end"], r["segments"], int(r["bytes"]), r["run_id"]) for r in rows]


# -- what a camera records and keeps -----------------------------------------------------------------------
def recording_policy(conn: psycopg.Connection, camera_id: int, settings: RecordSettings) -> RecordingPolicy:
    """The camera's mode and retention, each from the camera, else its site, else the settings (footage around
    events is never kept shorter than the rest)."""
    row = conn.execute("SELECT c.record, c.record_days AS cd, c.record_event_days AS ced, s.record_days AS sd,"
                       " s.record_event_days AS sed FROM cameras c JOIN sites s ON s.id = c.site_id WHERE c.id = %s",
                       (camera_id,)).fetchone()
    if row is None:
        raise registry.NotFound(f"camera {camera_id} does not exist", "camera")
    days, days_from = _pick((row["cd"], "camera"), (row["sd"], "site"), (settings.days, "settings"))
    event_days, event_from = _pick((row["ced"], "camera"), (row["sed"], "site"), (settings.event_days, "settings"))
    return RecordingPolicy(camera_id, RecordMode(row["record"]), days, max(days, event_days), days_from, event_from)


def set_camera_recording(conn: psycopg.Connection, camera_id: int, *, mode: RecordMode | str | None = None,
                         days: int | None = KEEP, event_days: int | None = KEEP) -> None:
    """Change what a camera records and keeps (``KEEP``: leave as it is; None: inherit from its site)."""
    current = conn.execute("SELECT record_days, record_event_days FROM cameras WHERE id = %s",
                           (camera_id,)).fetchone()
    if current is None:
        raise registry.NotFound(f"camera {camera_id} does not exist", "camera")
    values = _days(current, days, event_days)
    if mode is not None:
        check_recording(str(mode), None, None)
        values["record"] = RecordMode(mode).value
    if values:
        sets = ", ".join(f"{key} = %({key})s" for key in values)
        conn.execute(f"UPDATE cameras SET {sets}, updated_at = now() WHERE id = %(id)s", {**values, "id": camera_id})


def set_site_recording(conn: psycopg.Connection, site_id: int, *, days: int | None = KEEP,
                       event_days: int | None = KEEP) -> None:
    """Change how long a site's cameras keep footage unless a camera says otherwise (None: the settings)."""
    current = conn.execute("SELECT record_days, record_event_days FROM sites WHERE id = %s", (site_id,)).fetchone()
    if current is None:
        raise registry.NotFound(f"site {site_id} does not exist", "site")
    values = _days(current, days, event_days)
    if values:
        sets = ", ".join(f"{key} = %({key})s" for key in values)
        conn.execute(f"UPDATE sites SET {sets}, updated_at = now() WHERE id = %(id)s", {**values, "id": site_id})


def check_recording(mode: str | None, days: Any, event_days: Any) -> None:
    """Refuse (``RecordingPolicyError`` naming the field) a mode or retention that cannot be saved."""
    if mode is not None and mode not in {m.value for m in RecordMode}:
        raise RecordingPolicyError("record", f"{mode!r}: one of {', '.join(m.value for m in RecordMode)}")
    _days({"record_days": None, "record_event_days": None}, KEEP if days is None else days,
          KEEP if event_days is None else event_days)


def recording_columns(conn: psycopg.Connection, site_id: int) -> dict[int | None, dict[str, Any]]:
    """A site's recording settings as the YAML set-up writes them: its own under None, each camera's by id."""
    out: dict[int | None, dict[str, Any]] = {}
    site = conn.execute("SELECT record_days, record_event_days FROM sites WHERE id = %s", (site_id,)).fetchone()
    out[None] = {k: v for k, v in (site or {}).items() if v is not None}
    for row in conn.execute("SELECT id, record, record_days, record_event_days FROM cameras WHERE site_id = %s",
                            (site_id,)):
        out[row["id"]] = {k: v for k, v in row.items() if v is not None and k != "id"}
    return out


def _days(current: dict[str, Any], days: Any, event_days: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in (("record_days", days), ("record_event_days", event_days)):
        if value is KEEP:
            continue
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650):
            raise RecordingPolicyError(key, "must be a whole number of days from 1 to 3650, or empty to inherit")
        values[key] = value
    merged = {**current, **values}
    if merged["record_days"] is not None and merged["record_event_days"] is not None \
            and merged["record_event_days"] < merged["record_days"]:
        raise RecordingPolicyError("record_event_days", f"footage around events must be kept at least as long as "
                                   f"the rest ({merged['record_days']} days)")
    return values


def _pick(*choices: tuple[int | None, str]) -> tuple[int, str]:
    for value, source in choices:
        if value is not None:
            return int(value), source
    raise AssertionError("the settings always give a value")


# -- the object record/ works with -------------------------------------------------------------------------
class RecordingIndex:
    """``record.index.FootageIndex`` over one connection (autocommit, dict rows); ``connect(url)`` opens one."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    @classmethod
    def connect(cls, url: str, timeout_s: float = 5.0) -> RecordingIndex:
        return cls(connect(url, timeout_s=timeout_s))

    def close(self) -> None:
        self.conn.close()

    def add_segments(self, segments: Sequence[RecordedSegment]) -> int:
        return insert_segments(self.conn, segments)

    def lead_retention(self) -> bool:
        return retention.lead_retention(self.conn)

    def cameras_with_footage(self) -> list[int]:
        return retention.cameras_with_footage(self.conn)

    def expired_segments(self, camera_id: int, settings: RecordSettings, now: datetime, after: datetime | None,
                         limit: int) -> list[RecordedSegment]:
        policy = _policy_or_default(self.conn, camera_id, settings)
        rows = retention.expired_segments(self.conn, camera_id, policy.mode, policy.days, policy.event_days,
                                          settings, now, after, limit)
        return [segment(r) for r in rows]

    def expendable_segments(self, settings: RecordSettings, now: datetime, *, around_events: bool,
                            after: tuple[datetime, int] | None, before: datetime,
                            limit: int) -> list[RecordedSegment]:
        rows = retention.expendable_segments(self.conn, settings, now, around_events, after, before, limit)
        return [segment(r) for r in rows]

    def footage_bytes(self) -> int:
        return retention.footage_bytes(self.conn)

    def protected_bytes(self, settings: RecordSettings, now: datetime) -> int:
        return retention.protected_bytes(self.conn, settings, now)

    def mark_deleting(self, segments: Sequence[RecordedSegment]) -> None:
        retention.mark_deleting(self.conn, [(s.camera_id, s.start) for s in segments])

    def delete_segments(self, segments: Sequence[RecordedSegment]) -> None:
        retention.delete_rows(self.conn, [(s.camera_id, s.start) for s in segments])

    def deleting_segments(self, limit: int) -> list[RecordedSegment]:
        return [segment(r) for r in retention.deleting_rows(self.conn, limit)]

    def camera_segments(self, camera_id: int, start: datetime, end: datetime) -> list[RecordedSegment]:
        rows = self.conn.execute(f"SELECT {COLUMNS} FROM recording_segments WHERE camera_id = %s AND NOT deleting"
                                 " AND start_time >= %s AND start_time < %s ORDER BY start_time",
                                 (camera_id, start, end)).fetchall()
        return [segment(r) for r in rows]

    def footage_span(self, camera_id: int) -> tuple[datetime, datetime] | None:
        row = self.conn.execute("SELECT min(start_time) AS first, max(start_time) AS last FROM recording_segments"
                                " WHERE camera_id = %s", (camera_id,)).fetchone()
        return None if row is None or row["first"] is None else (row["first"], row["last"])


def _policy_or_default(conn: psycopg.Connection, camera_id: int, settings: RecordSettings) -> RecordingPolicy:
    """A removed camera's footage (no foreign key: it outlives the camera) is kept by the settings' defaults."""
    try:
        return recording_policy(conn, camera_id, settings)
    except registry.NotFound:
        return RecordingPolicy(camera_id, RecordMode.CONTINUOUS, settings.days, max(settings.days, settings.event_days),
                               "settings", "settings")
