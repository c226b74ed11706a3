"""Events as the console and the API read them: the search for the alarm feed and the incident list (filters,
newest first, opaque cursor pages), one event and its notes, exports in server-side batches, and the live
stream's backlog by ``seq``.

Two filters: ``EventFilters`` (store callers, tests and bench) and ``EventFilter`` (the API's query
parameters: severities too, and the user's site scope kept apart from the requested sites).
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
from store.queries._common import aware, one, rows

MAX_PAGE = 500
STATUSES = ("new", "acknowledged", "assigned", "resolved")


@dataclass(frozen=True)
class EventFilters:
    """Every field narrows the search; None means any. ``site_ids`` is also how a user's scope is applied."""

    start: datetime | None = None  # events that started at or after
    end: datetime | None = None  # ... and before
    site_ids: Sequence[int] | None = None
    camera_ids: Sequence[int] | None = None
    counter_ids: Sequence[int] | None = None
    types: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    open_only: bool = False  # the rule has not closed it yet (end_time is NULL)


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


def _conditions(filters: EventFilters) -> tuple[list[sql.Composable], dict[str, Any]]:
    where: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.start is not None:
        where.append(sql.SQL("time >= %(start)s"))
        params["start"] = aware(filters.start, "filters.start")
    if filters.end is not None:
        where.append(sql.SQL("time < %(end)s"))
        params["end"] = aware(filters.end, "filters.end")
    for name, column in (("site_ids", "site_id"), ("camera_ids", "camera_id"), ("counter_ids", "counter_id")):
        values = getattr(filters, name)
        if values is not None:
            where.append(sql.SQL("{} = ANY(%({})s::bigint[])").format(sql.Identifier(column), sql.SQL(name)))
            params[name] = list(values)
    if filters.types is not None:
        where.append(sql.SQL("type = ANY(%(types)s::text[])"))
        params["types"] = [str(t) for t in filters.types]
    if filters.statuses is not None:
        bad = [s for s in filters.statuses if str(s) not in STATUSES]
        if bad:
            raise StoreInputError("filters.statuses", f"unknown status {bad[0]!r} (one of {', '.join(STATUSES)})")
        where.append(sql.SQL("status = ANY(%(statuses)s::text[])"))
        params["statuses"] = [str(s) for s in filters.statuses]
    if filters.open_only:
        where.append(sql.SQL("end_time IS NULL"))
    return where, params


def search_events(conn: psycopg.Connection, filters: EventFilters | None = None, cursor: str | None = None,
                  limit: int = 50) -> EventPage:
    """Events matching ``filters``, newest first (by start time, then seq), ``limit`` per page."""
    if not 1 <= limit <= MAX_PAGE:
        raise StoreInputError("limit", f"must be 1..{MAX_PAGE}")
    where, params = _conditions(filters or EventFilters())
    if cursor is not None:
        params["c_time"], params["c_seq"] = decode_cursor(cursor)
        where.append(sql.SQL("(time, seq) < (%(c_time)s, %(c_seq)s)"))
    params["limit"] = limit + 1
    query = sql.SQL(
        "SELECT id, seq, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity, status,"
        " assignee_id, track_id, attributes, evidence_path, updated_at FROM events {where}"
        " ORDER BY time DESC, seq DESC LIMIT %(limit)s"
    ).format(where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""))
    found = [EventRow(**row) for row in rows(conn, query, params)]
    more = len(found) > limit
    items = found[:limit]
    return EventPage(items, encode_cursor(items[-1].time, items[-1].seq) if more else None)


# -- the API's event list, one event, exports and the live backlog -----------------------------------------
EVENT_COLUMNS = ("id, seq, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity, status,"
                 " assignee_id, track_id, attributes, evidence_path, updated_at")


@dataclass
class EventFilter:
    """The API's filters; ``where(scope)`` adds the user's site scope (None: every site)."""

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
    """Newest first; returns the page and the cursor of the next page (None at the end). A cursor this
    server did not give out is a StoreInputError on ``cursor``."""
    where, params = flt.where(scope)
    if cursor:
        at, seq = decode_cursor(cursor)
        where += " AND (time, seq) < (%s, %s)"
        params += [at, seq]
    found = rows(conn, f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY time DESC, seq DESC LIMIT %s",
                 [*params, limit + 1])
    following = encode_cursor(found[limit - 1]["time"], found[limit - 1]["seq"]) if len(found) > limit else None
    return found[:limit], following


def iter_events(conn: psycopg.Connection, flt: EventFilter, scope: list[int] | None,
                limit: int) -> Iterator[dict[str, Any]]:
    """Every matching event, newest first, up to ``limit`` (exports), read in server-side batches."""
    where, params = flt.where(scope)
    with conn.transaction(), conn.cursor(name="events_export", row_factory=dict_row) as cur:
        cur.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY time DESC, seq DESC LIMIT %s",
                    [*params, limit])
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
