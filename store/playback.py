"""Reading the recordings index for people: a camera's recorded spans and the gaps between them, the segments
of a range, holds (made by exports, released by an admin) and the exports handed out (found by sha256).

The recorder writes ``recording_segments`` (record/, ``store.recordings``); this module only reads it. A *gap*
is more than ``GAP_S`` between one segment's end and the next one's start, or a new recorder run (``run_id``):
players restart their timeline there (``#EXT-X-DISCONTINUITY``). Rows marked ``deleting`` are on their way out
(retention) and are never handed out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

GAP_S = 1.0  # the recorder's segments follow each other within milliseconds; more than this is a hole
LONGEST_SEGMENT = timedelta(minutes=10)  # bounds the index scan before a range (a segment is a few seconds)
Row = dict[str, Any]


@dataclass(frozen=True)
class Segment:
    """One recorded file of the index; ``path`` is relative to the recordings area."""

    start: datetime
    end: datetime
    path: str
    bytes: int
    codec: str | None
    width: int | None
    height: int | None
    run_id: str

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Span:
    """Footage without a hole: consecutive segments of one recorder run."""

    start: datetime
    end: datetime
    segments: int
    bytes: int
    codecs: tuple[str, ...]


@dataclass(frozen=True)
class CameraFootage:
    """Who a camera's footage concerns: its site (for scope), the site's kind and whether a counter is watched."""

    camera_id: int
    name: str
    site_id: int
    site_kind: str
    watches_counter: bool


_RANGE = ("camera_id = %(camera)s AND NOT deleting AND end_time > %(start)s AND start_time < %(end)s"
          " AND start_time >= %(start)s::timestamptz - %(longest)s::interval")


def _range(camera_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    return {"camera": camera_id, "start": start, "end": end, "longest": LONGEST_SEGMENT,
            "gap": timedelta(seconds=GAP_S)}


def footage_camera(conn: psycopg.Connection, camera_id: int) -> CameraFootage | None:
    """The camera whose recordings are asked for, or None when it is not registered (any more)."""
    row = conn.execute(
        "SELECT c.id, c.name, c.site_id, s.kind AS site_kind,"
        " EXISTS (SELECT 1 FROM counters k WHERE k.camera_id = c.id) AS watches_counter"
        " FROM cameras c JOIN sites s ON s.id = c.site_id WHERE c.id = %s", (camera_id,)).fetchone()
    if row is None:
        return None
    return CameraFootage(row["id"], row["name"], row["site_id"], row["site_kind"], row["watches_counter"])


def footage_cameras(conn: psycopg.Connection, scope: Sequence[int] | None) -> list[tuple[CameraFootage, Row]]:
    """The cameras of the scope (None: every site), each with its newest segment's end and codec (None when
    nothing is recorded), by site and name."""
    rows = conn.execute(
        "SELECT c.id, c.name, c.site_id, s.kind AS site_kind, s.name AS site_name,"
        " EXISTS (SELECT 1 FROM counters k WHERE k.camera_id = c.id) AS watches_counter, newest.end_time AS last_end,"
        " newest.codec AS last_codec FROM cameras c JOIN sites s ON s.id = c.site_id"
        " LEFT JOIN LATERAL (SELECT end_time, codec FROM recording_segments r WHERE r.camera_id = c.id AND NOT deleting"
        "  ORDER BY start_time DESC LIMIT 1) newest ON true"
        " WHERE %(scope)s::bigint[] IS NULL OR c.site_id = ANY(%(scope)s::bigint[]) ORDER BY s.name, c.name",
        {"scope": None if scope is None else sorted(scope)}).fetchall()
    return [(CameraFootage(r["id"], r["name"], r["site_id"], r["site_kind"], r["watches_counter"]),
             {"site_name": r["site_name"], "last_end": r["last_end"], "last_codec": r["last_codec"]}) for r in rows]


def segments(conn: psycopg.Connection, camera_id: int, start: datetime, end: datetime,
             limit: int = 200_000) -> list[Segment]:
    """The segments that overlap [start, end), oldest first (whole segments: the first may begin before
    ``start`` and the last end after ``end``)."""
    rows = conn.execute(f"SELECT start_time, end_time, path, bytes, codec, width, height, run_id"
                        f" FROM recording_segments WHERE {_RANGE} ORDER BY start_time LIMIT %(limit)s",
                        {**_range(camera_id, start, end), "limit": limit}).fetchall()
    return [Segment(r["start_time"], r["end_time"], r["path"], r["bytes"], r["codec"], r["width"], r["height"],
                    r["run_id"]) for r in rows]


def spans(conn: psycopg.Connection, camera_id: int, start: datetime, end: datetime) -> list[Span]:
    """The recorded spans that overlap [start, end), oldest first, computed in the database (a day of 2-s
    segments is 43,200 rows: only the spans travel)."""
    rows = conn.execute(
        f"SELECT min(start_time) AS start, max(end_time) AS end, count(*) AS segments, sum(bytes) AS bytes,"
        f" array_agg(DISTINCT coalesce(codec, '')) AS codecs FROM ("
        f"  SELECT *, sum(brk) OVER (ORDER BY start_time) AS grp FROM ("
        f"   SELECT start_time, end_time, bytes, codec, CASE WHEN lag(end_time) OVER w IS NULL"
        f"    OR start_time - lag(end_time) OVER w > %(gap)s::interval OR run_id <> lag(run_id) OVER w"
        f"    THEN 1 ELSE 0 END AS brk"
        f"   FROM recording_segments WHERE {_RANGE} WINDOW w AS (ORDER BY start_time)) marked) grouped"
        f" GROUP BY grp ORDER BY 1", _range(camera_id, start, end)).fetchall()
    return [Span(r["start"], r["end"], r["segments"], int(r["bytes"]), tuple(c for c in r["codecs"] if c))
            for r in rows]


def gaps_between(found: Sequence[Span], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The holes of [start, end) that ``found`` spans leave (before the first, between, after the last)."""
    holes, cursor = [], start
    for span in found:
        if span.start > cursor:
            holes.append((cursor, min(span.start, end)))
        cursor = max(cursor, span.end)
    if cursor < end:
        holes.append((cursor, end))
    return holes


def is_discontinuity(previous: Segment | None, segment: Segment) -> bool:
    """Whether a player must restart its timeline before ``segment`` (a hole or a new recorder run)."""
    return previous is not None and (previous.run_id != segment.run_id
                                     or (segment.start - previous.end).total_seconds() > GAP_S)


def segment_indexed(conn: psycopg.Connection, camera_id: int, path: str) -> bool:
    """Whether ``path`` is a segment of this camera in the index (and not being deleted)."""
    return conn.execute("SELECT 1 FROM recording_segments WHERE camera_id = %s AND path = %s AND NOT deleting"
                        " LIMIT 1", (camera_id, path)).fetchone() is not None


def codecs_recently(conn: psycopg.Connection, camera_id: int, since: datetime) -> list[str]:
    """The codecs of the camera's segments since ``since`` (the live view's: can the browser play it?)."""
    rows = conn.execute("SELECT DISTINCT codec FROM recording_segments WHERE camera_id = %s AND start_time >= %s"
                        " AND codec IS NOT NULL", (camera_id, since)).fetchall()
    return sorted(r["codec"] for r in rows)


# -- holds -------------------------------------------------------------------------------------------------
HOLD_COLUMNS = "id, camera_id, start_time, end_time, reason, case_ref, created_by, created_at, released_at, released_by"


def create_hold(conn: psycopg.Connection, camera_id: int, start: datetime, end: datetime, reason: str,
                case_ref: str | None, user_id: int | None) -> Row:
    """Keep the camera's footage of [start, end) beyond its retention until the hold is released."""
    return conn.execute(f"INSERT INTO recording_holds (camera_id, start_time, end_time, reason, case_ref, created_by)"
                        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {HOLD_COLUMNS}",
                        (camera_id, start, end, reason, case_ref, user_id)).fetchone()


def find_hold(conn: psycopg.Connection, hold_id: int, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {HOLD_COLUMNS} FROM recording_holds WHERE id = %s{lock}", (hold_id,)).fetchone()


def release_hold(conn: psycopg.Connection, hold_id: int, user_id: int | None) -> Row | None:
    """Release a hold that is still active; None when there is none such (unknown or already released)."""
    return conn.execute(f"UPDATE recording_holds SET released_at = now(), released_by = %s"
                        f" WHERE id = %s AND released_at IS NULL RETURNING {HOLD_COLUMNS}",
                        (user_id, hold_id)).fetchone()


def list_holds(conn: psycopg.Connection, camera_id: int, *, active_only: bool = True, limit: int = 500) -> list[Row]:
    active = " AND released_at IS NULL" if active_only else ""
    return conn.execute(f"SELECT {HOLD_COLUMNS} FROM recording_holds WHERE camera_id = %s{active}"
                        f" ORDER BY start_time DESC LIMIT %s", (camera_id, limit)).fetchall()


# -- exports -----------------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("id, camera_id, start_time, end_time, actual_start, actual_end, reason, user_id, username, sha256,"
                  " bytes, file_name, hold_id, created_at")


def insert_export(conn: psycopg.Connection, *, camera_id: int, start: datetime, end: datetime,
                  actual_start: datetime, actual_end: datetime, reason: str, user_id: int | None,
                  username: str | None, sha256: str, size: int, file_name: str, hold_id: int | None) -> Row:
    """Record a file handed out: what it covers, why, to whom, and its sha256 (``vigil recordings verify``)."""
    return conn.execute(
        f"INSERT INTO recording_exports (camera_id, start_time, end_time, actual_start, actual_end, reason, user_id,"
        f" username, sha256, bytes, file_name, hold_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        f" RETURNING {EXPORT_COLUMNS}",
        (camera_id, start, end, actual_start, actual_end, reason, user_id, username, sha256, size, file_name,
         hold_id)).fetchone()


def exports_by_sha256(conn: psycopg.Connection, sha256: str) -> list[Row]:
    """Every export whose file had this sha256 (normally one), oldest first."""
    return conn.execute(f"SELECT {EXPORT_COLUMNS} FROM recording_exports WHERE sha256 = %s ORDER BY id",
                        (sha256.lower(),)).fetchall()


def get_export(conn: psycopg.Connection, export_id: int) -> Row | None:
    return conn.execute(f"SELECT {EXPORT_COLUMNS} FROM recording_exports WHERE id = %s", (export_id,)).fetchone()


def list_exports(conn: psycopg.Connection, camera_id: int | None = None, limit: int = 100) -> list[Row]:
    return conn.execute(f"SELECT {EXPORT_COLUMNS} FROM recording_exports WHERE (%(camera)s::bigint IS NULL OR"
                        f" camera_id = %(camera)s::bigint) ORDER BY id DESC LIMIT %(limit)s",
                        {"camera": camera_id, "limit": limit}).fetchall()


def camera_totals(conn: psycopg.Connection, camera_id: int | None = None) -> list[Row]:
    """Per camera: the oldest and newest footage, segments and bytes (``vigil recordings list``)."""
    return conn.execute("SELECT camera_id, min(start_time) AS first, max(end_time) AS last, count(*) AS segments,"
                        " sum(bytes) AS bytes FROM recording_segments WHERE NOT deleting AND"
                        " (%(camera)s::bigint IS NULL OR camera_id = %(camera)s::bigint)"
                        " GROUP BY camera_id ORDER BY camera_id", {"camera": camera_id}).fetchall()


def recent_view(conn: psycopg.Connection, user_id: int, action: str, camera_id: int, within: timedelta) -> bool:
    """Whether the audit log already holds this person's ``action`` on the camera within ``within`` (one row
    per live viewing session, not one per playlist refresh)."""
    return conn.execute("SELECT 1 FROM audit_log WHERE object_type = 'camera' AND object_id = %s AND user_id = %s"
                        " AND action = %s AND time > now() - %s::interval LIMIT 1",
                        (str(camera_id), user_id, action, within)).fetchone() is not None
