"""SQL for events: the filtered list with keyset cursors, one event, its notes, and the live backlog.

These belong in store/queries.py once the store's query module offers them; they are kept in one module
here so the move is a rename.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

EVENT_COLUMNS = ("id, seq, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity, status,"
                 " assignee_id, track_id, attributes, evidence_path, updated_at")


class BadCursor(ValueError):
    """The cursor was not made by this API."""


def encode_cursor(time: datetime, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{time.isoformat()}|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, seq = raw.rsplit("|", 1)
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadCursor("cursor is not one this API returned") from exc


@dataclass
class EventFilter:
    since: datetime | None = None
    until: datetime | None = None
    site_ids: list[int] | None = None
    camera_id: int | None = None
    counter_id: int | None = None
    types: list[str] | None = None
    severities: list[str] | None = None
    statuses: list[str] | None = None
    open_only: bool = False

    def where(self, scope: list[int] | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if scope is not None and len(scope) == 1:
            clauses.append("site_id = %s")
            params.append(scope[0])
        elif scope is not None:
            clauses.append("site_id = ANY(%s)")
            params.append(scope)
        for column, value in (("time >=", self.since), ("time <", self.until), ("camera_id =", self.camera_id),
                              ("counter_id =", self.counter_id)):
            if value is not None:
                clauses.append(f"{column} %s")
                params.append(value)
        for column, values in (("site_id", self.site_ids), ("type", self.types), ("severity", self.severities),
                               ("status", self.statuses)):
            if values and len(values) == 1:  # plain equality lets the planner read (site_id, time) in order
                clauses.append(f"{column} = %s")
                params.append(next(iter(values)))
            elif values:
                clauses.append(f"{column} = ANY(%s)")
                params.append(list(values))
        if self.open_only:
            clauses.append("end_time IS NULL")
        return (" AND ".join(clauses) or "true"), params


def list_events(conn: psycopg.Connection, flt: EventFilter, scope: list[int] | None, limit: int,
                cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; returns the page and the cursor of the next page (None at the end)."""
    where, params = flt.where(scope)
    if cursor:
        at, seq = decode_cursor(cursor)
        where += " AND (time, seq) < (%s, %s)"
        params += [at, seq]
    rows = conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY time DESC, seq DESC LIMIT %s",
                        [*params, limit + 1]).fetchall()
    following = encode_cursor(rows[limit - 1]["time"], rows[limit - 1]["seq"]) if len(rows) > limit else None
    return rows[:limit], following


def iter_events(conn: psycopg.Connection, flt: EventFilter, scope: list[int] | None, limit: int):
    """Every matching event, newest first, up to ``limit`` (exports), read in server-side batches."""
    where, params = flt.where(scope)
    with conn.transaction(), conn.cursor(name="events_export") as cur:
        cur.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY time DESC, seq DESC LIMIT %s",
                    [*params, limit])
        yield from cur


def get_event(conn: psycopg.Connection, event_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    """The latest row of one event (an event id has one row; the time is part of the key for hypertables)."""
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = %s ORDER BY time DESC LIMIT 1{lock}",
                        (event_id,)).fetchone()


def event_notes(conn: psycopg.Connection, event_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT n.id, n.time, n.user_id, u.username, n.action, n.text FROM event_notes n"
        " LEFT JOIN users u ON u.id = n.user_id WHERE n.event_id = %s ORDER BY n.time, n.id", (event_id,)
    ).fetchall()


def events_by_ids(conn: psycopg.Connection, ids: list[UUID]) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ANY(%s) ORDER BY seq",
                        (ids,)).fetchall()


def events_after(conn: psycopg.Connection, after_seq: int, scope: list[int] | None,
                 limit: int = 1000) -> list[dict[str, Any]]:
    """Events inserted after ``after_seq`` (the live stream's resume point), oldest first."""
    if scope is None:
        return conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %s ORDER BY seq LIMIT %s",
                            (after_seq, limit)).fetchall()
    return conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %s AND site_id = ANY(%s)"
                        " ORDER BY seq LIMIT %s", (after_seq, scope, limit)).fetchall()


def last_seq(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM events").fetchone()
    return int(row["seq"])
