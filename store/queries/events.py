"""Events as the console and the API read them: the search for the alarm feed and the incident list (filters,
newest first, opaque cursor pages), one event and its notes, exports in server-side batches, and the live
stream's backlog by ``seq``.

One filter, ``EventFilter``, for every caller; a user's site scope is passed beside it (``scope``), kept apart
from the sites the user asked for. ``list_events`` pages dict rows (the API), ``search_events`` the same pages
as typed rows, ``iter_events`` streams an export.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from store.errors import StoreInputError
from store.queries._common import aware, match_any, one, rows

MAX_PAGE = 500
CHANNEL = "vigil_events"  # the 0005_event_notify trigger announces each insert or update of an event here
STATUSES = ("new", "acknowledged", "assigned", "resolved")
EVENT_COLUMNS = ("id, seq, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity, status,"
                 " assignee_id, track_id, attributes, evidence_path, updated_at")


@dataclass(frozen=True)
class EventFilter:
    """Every field narrows the search: None means any, an empty list matches nothing."""

    since: datetime | None = None  # events that started at or after (time zone required)
    until: datetime | None = None  # ... and before
    site_ids: Sequence[int] | None = None
    camera_ids: Sequence[int] | None = None
    counter_ids: Sequence[int] | None = None
    types: Sequence[str] | None = None
    severities: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    open_only: bool = False  # the rule has not closed it yet (end_time is NULL)

    def where(self, scope: Sequence[int] | None = None) -> tuple[sql.Composable, dict[str, Any]]:
        """The WHERE condition and its parameters; ``scope`` is the user's sites (None: every site). A naive
        time or an unknown status is a StoreInputError naming the field."""
        bad = [s for s in self.statuses or () if str(s) not in STATUSES]
        if bad:
            raise StoreInputError("filters.statuses", f"unknown status {bad[0]!r} (one of {', '.join(STATUSES)})")
        clauses: list[sql.Composable] = []
        params: dict[str, Any] = {}
        match_any(clauses, params, (
            ("scope", "site_id", scope, "bigint"), ("site_ids", "site_id", self.site_ids, "bigint"),
            ("camera_ids", "camera_id", self.camera_ids, "bigint"),
            ("counter_ids", "counter_id", self.counter_ids, "bigint"), ("types", "type", self.types, "text"),
            ("severities", "severity", self.severities, "text"), ("statuses", "status", self.statuses, "text")))
        if self.since is not None:
            clauses.append(sql.SQL("time >= %(since)s"))
            params["since"] = aware(self.since, "filters.since")
        if self.until is not None:
            clauses.append(sql.SQL("time < %(until)s"))
            params["until"] = aware(self.until, "filters.until")
        if self.open_only:
            clauses.append(sql.SQL("end_time IS NULL"))
        return sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true"), params


@dataclass(frozen=True)
class EventRow:
    id: UUID
    seq: int
    time: datetime
    end_time: datetime | None
    site_id: int | None
    camera_id: int | None
    zone_id: int | None
    counter_id: int | None
    type: str
    severity: str
    status: str
    assignee_id: int | None
    track_id: int | None
    attributes: dict[str, Any]
    evidence_path: str | None
    updated_at: datetime


@dataclass(frozen=True)
class EventPage:
    items: list[EventRow]
    next_cursor: str | None  # pass it back for the next (older) page; None on the last page


def encode_cursor(time: datetime, seq: int) -> str:
    raw = json.dumps([time.isoformat(), seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time_text, seq = json.loads(raw)
        when, number = datetime.fromisoformat(time_text), int(seq)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise StoreInputError("cursor", "not a cursor this server gave out") from exc
    if when.tzinfo is None or not 0 <= number < 2**63:
        raise StoreInputError("cursor", "not a cursor this server gave out")
    return when, number


_NEWEST_FIRST = sql.SQL("SELECT " + EVENT_COLUMNS + " FROM events WHERE {} ORDER BY time DESC, seq DESC"
                        " LIMIT %(limit)s")


def list_events(conn: psycopg.Connection, flt: EventFilter, scope: Sequence[int] | None, limit: int,
                cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (by start time, then seq), ``limit`` (1..MAX_PAGE) a page; returns the page and the cursor of
    the next page (None at the end). A cursor this server did not give out is a StoreInputError on ``cursor``."""
    if not 1 <= limit <= MAX_PAGE:
        raise StoreInputError("limit", f"must be 1..{MAX_PAGE}")
    where, params = flt.where(scope)
    if cursor is not None:
        params["c_time"], params["c_seq"] = decode_cursor(cursor)
        where = sql.SQL("{} AND (time, seq) < (%(c_time)s, %(c_seq)s)").format(where)
    found = rows(conn, _NEWEST_FIRST.format(where), {**params, "limit": limit + 1})
    following = encode_cursor(found[limit - 1]["time"], found[limit - 1]["seq"]) if len(found) > limit else None
    return found[:limit], following


def search_events(conn: psycopg.Connection, flt: EventFilter | None = None, cursor: str | None = None,
                  limit: int = 50, scope: Sequence[int] | None = None) -> EventPage:
    """``list_events`` as typed rows: events matching ``flt`` (any when None), newest first, ``limit`` a page."""
    found, following = list_events(conn, flt or EventFilter(), scope, limit, cursor)
    return EventPage([EventRow(**row) for row in found], following)


def iter_events(conn: psycopg.Connection, flt: EventFilter, scope: Sequence[int] | None,
                limit: int) -> Iterator[dict[str, Any]]:
    """Every matching event, newest first, up to ``limit`` (exports), read in server-side batches."""
    where, params = flt.where(scope)
    with conn.transaction(), conn.cursor(name="events_export", row_factory=dict_row) as cur:
        cur.execute(_NEWEST_FIRST.format(where), {**params, "limit": limit})
        yield from cur


def get_event(conn: psycopg.Connection, event_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    """The latest row of one event (an event id has one row; the time is part of the key for hypertables)."""
    lock = " FOR UPDATE" if for_update else ""
    return one(conn, f"SELECT {EVENT_COLUMNS} FROM events WHERE id = %s ORDER BY time DESC LIMIT 1{lock}",
               (event_id,))


def event_notes(conn: psycopg.Connection, event_id: UUID) -> list[dict[str, Any]]:
    return rows(conn, "SELECT n.id, n.time, n.user_id, u.username, n.action, n.text FROM event_notes n"
                      " LEFT JOIN users u ON u.id = n.user_id WHERE n.event_id = %s ORDER BY n.time, n.id", (event_id,))


def events_by_ids(conn: psycopg.Connection, ids: list[UUID]) -> list[dict[str, Any]]:
    return rows(conn, f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ANY(%s) ORDER BY seq", (ids,))


def events_after(conn: psycopg.Connection, after_seq: int, scope: list[int] | None,
                 limit: int = 1000) -> list[dict[str, Any]]:
    """Events inserted after ``after_seq`` (the live stream's resume point), oldest first."""
    if scope is None:
        return rows(conn, f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %s ORDER BY seq LIMIT %s",
                    (after_seq, limit))
    return rows(conn, f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %s AND site_id = ANY(%s)"
                      " ORDER BY seq LIMIT %s", (after_seq, scope, limit))


def last_seq(conn: psycopg.Connection) -> int:
    found = one(conn, "SELECT coalesce(max(seq), 0) AS seq FROM events")
    return int(found["seq"]) if found else 0


def labels(conn: psycopg.Connection) -> dict[str, dict[int, Any]]:
    """What an export shows for the ids in an event row: ``site`` and ``camera`` names, ``counter`` numbers and
    ``assignee`` user names, by id."""
    return {"site": {r["id"]: r["name"] for r in rows(conn, "SELECT id, name FROM sites")},
            "camera": {r["id"]: r["name"] for r in rows(conn, "SELECT id, name FROM cameras")},
            "counter": {r["id"]: r["number"] for r in rows(conn, "SELECT id, number FROM counters")},
            "assignee": {r["id"]: r["username"] for r in rows(conn, "SELECT id, username FROM users")}}


def listen(conn: psycopg.Connection) -> None:
    """Have this (autocommit) connection receive the event notifications on ``CHANNEL`` (read them with
    ``conn.notifies()``): JSON payloads with the event's ``id``, ``seq`` and ``op`` (insert or update)."""
    conn.execute(f"LISTEN {CHANNEL}")
