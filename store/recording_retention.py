"""Retention's SQL over the recordings index (record/retention.py decides the order and removes the files).

Footage "around an event" is what lies within ``pre_roll_s`` before to ``post_roll_s`` after an event of the
scene (equipment events such as camera_offline or the recorder's own aside; an open event reaches to now).
Held footage is what a ``recording_holds`` row not released covers, or lies around an event not resolved yet.
Each camera's windows are folded into one multirange (``range_agg``) once per query, then every segment is
tested against it with ``&&``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from core.settings import RecordSettings
from core.types import EQUIPMENT_EVENTS, RecordMode

ROW = "r.camera_id, r.start_time, r.end_time, r.path, r.bytes, r.codec, r.width, r.height, r.node, r.run_id"
LOCK_KEY = 0x76696769_6C726563  # 'vigilrec': the retention lead's advisory lock
_WINDOW = "tstzrange(e.time - %(pre)s, coalesce(e.end_time, %(now)s) + %(post)s)"
_AROUND = f"""
    SELECT e.camera_id, range_agg({_WINDOW}) AS any_event,
           range_agg({_WINDOW}) FILTER (WHERE e.status <> 'resolved') AS open_event
    FROM events e WHERE e.camera_id {{camera}} AND e.type <> ALL(%(equipment)s)
      AND coalesce(e.end_time, %(now)s) + %(post)s > (SELECT min(start_time) FROM recording_segments)
    GROUP BY e.camera_id"""  # events older than all footage (events are kept longer) cannot hold any
_HELD = """
    SELECT h.camera_id, range_agg(tstzrange(h.start_time, h.end_time)) AS held
    FROM recording_holds h WHERE h.camera_id {camera} AND h.released_at IS NULL GROUP BY h.camera_id"""
_SEGMENT = "tstzrange(r.start_time, r.end_time)"


def _params(settings: RecordSettings, now: datetime, **more: Any) -> dict[str, Any]:
    return {"pre": timedelta(seconds=settings.pre_roll_s), "post": timedelta(seconds=settings.post_roll_s),
            "now": now, "equipment": sorted(str(t) for t in EQUIPMENT_EVENTS), **more}


def lead_retention(conn: psycopg.Connection) -> bool:
    """Take (or confirm) the retention lead for this connection's session: one leader for the whole area."""
    return bool(conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (LOCK_KEY,)).fetchone()["ok"])


def cameras_with_footage(conn: psycopg.Connection) -> list[int]:
    """Every camera with indexed footage, removed cameras included (a loose index scan: fast on many rows)."""
    rows = conn.execute("""
        WITH RECURSIVE c AS (
            SELECT min(camera_id) AS id FROM recording_segments
            UNION ALL
            SELECT (SELECT min(camera_id) FROM recording_segments WHERE camera_id > c.id) FROM c WHERE c.id IS NOT NULL
        ) SELECT id FROM c WHERE id IS NOT NULL""").fetchall()
    return [row["id"] for row in rows]


def expired_segments(conn: psycopg.Connection, camera_id: int, mode: RecordMode, days: int, event_days: int,
                     settings: RecordSettings, now: datetime, after: datetime | None, limit: int) -> list[dict]:
    """The camera's oldest segments past their time (see record/retention.py), never held ones."""
    plain = now - (timedelta(seconds=settings.events_buffer_s) if mode == RecordMode.EVENTS else timedelta(days=days))
    around = now - timedelta(days=max(days, event_days))
    camera = "= %(camera)s"
    return conn.execute(f"""
        WITH a AS ({_AROUND.format(camera=camera)}), h AS ({_HELD.format(camera=camera)})
        SELECT {ROW} FROM recording_segments r
        LEFT JOIN a ON true LEFT JOIN h ON true
        WHERE r.camera_id = %(camera)s AND NOT r.deleting AND r.start_time < %(plain)s
          AND r.start_time > coalesce(%(after)s, '-infinity'::timestamptz)
          AND NOT coalesce(h.held && {_SEGMENT}, false) AND NOT coalesce(a.open_event && {_SEGMENT}, false)
          AND r.end_time < CASE WHEN coalesce(a.any_event && {_SEGMENT}, false) THEN %(around)s ELSE %(plain)s END
        ORDER BY r.start_time LIMIT %(limit)s
        """, _params(settings, now, camera=camera_id, plain=plain, around=around, after=after, limit=limit)).fetchall()


def expendable_segments(conn: psycopg.Connection, settings: RecordSettings, now: datetime, around_events: bool,
                        after: tuple[datetime, int] | None, before: datetime, limit: int) -> list[dict]:
    """The oldest segments the disk budget may take early, of every camera (see record/retention.py)."""
    camera = "IS NOT NULL"
    after_time, after_camera = after if after is not None else (None, None)
    return conn.execute(f"""
        WITH a AS ({_AROUND.format(camera=camera)}), h AS ({_HELD.format(camera=camera)})
        SELECT {ROW} FROM recording_segments r
        LEFT JOIN a ON a.camera_id = r.camera_id LEFT JOIN h ON h.camera_id = r.camera_id
        WHERE NOT r.deleting AND r.end_time < %(before)s
          AND (r.start_time, r.camera_id) > (coalesce(%(after_time)s, '-infinity'::timestamptz),
                                             coalesce(%(after_camera)s, -1))
          AND NOT coalesce(h.held && {_SEGMENT}, false) AND NOT coalesce(a.open_event && {_SEGMENT}, false)
          AND coalesce(a.any_event && {_SEGMENT}, false) = %(around)s
        ORDER BY r.start_time, r.camera_id LIMIT %(limit)s
        """, _params(settings, now, before=before, after_time=after_time, after_camera=after_camera,
                     around=around_events, limit=limit)).fetchall()


def footage_bytes(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(bytes), 0) AS n FROM recording_segments WHERE NOT deleting")
               .fetchone()["n"])


def protected_bytes(conn: psycopg.Connection, settings: RecordSettings, now: datetime) -> int:
    """Bytes of footage the budget takes last (around events) or never (held, around unresolved events)."""
    camera = "IS NOT NULL"
    row = conn.execute(f"""
        WITH a AS ({_AROUND.format(camera=camera)}), h AS ({_HELD.format(camera=camera)}),
             k AS (SELECT coalesce(a.camera_id, h.camera_id) AS camera_id, a.any_event, h.held
                   FROM a FULL JOIN h ON h.camera_id = a.camera_id)
        SELECT coalesce(sum(r.bytes), 0) AS n FROM recording_segments r JOIN k ON k.camera_id = r.camera_id
        WHERE NOT r.deleting AND (coalesce(k.held && {_SEGMENT}, false) OR coalesce(k.any_event && {_SEGMENT}, false))
        """, _params(settings, now)).fetchone()
    return int(row["n"])


def mark_deleting(conn: psycopg.Connection, keys: list[tuple[int, datetime]]) -> None:
    if keys:
        conn.execute("UPDATE recording_segments r SET deleting = true FROM unnest(%s::bigint[], %s::timestamptz[])"
                     " AS k(camera_id, start_time) WHERE r.camera_id = k.camera_id AND r.start_time = k.start_time",
                     [list(c) for c in zip(*keys, strict=True)])


def delete_rows(conn: psycopg.Connection, keys: list[tuple[int, datetime]]) -> None:
    if keys:
        conn.execute("DELETE FROM recording_segments r USING unnest(%s::bigint[], %s::timestamptz[])"
                     " AS k(camera_id, start_time) WHERE r.camera_id = k.camera_id AND r.start_time = k.start_time",
                     [list(c) for c in zip(*keys, strict=True)])


def deleting_rows(conn: psycopg.Connection, limit: int) -> list[dict]:
    return conn.execute(f"SELECT {ROW} FROM recording_segments r WHERE r.deleting ORDER BY r.start_time LIMIT %s",
                        (limit,)).fetchall()
