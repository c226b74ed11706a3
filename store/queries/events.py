"""Event search for the alarm feed and the incident list: filters, newest first, opaque cursor pages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from store.errors import StoreInputError
from store.queries._common import aware, rows

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
        return datetime.fromisoformat(time_text), int(seq)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise StoreInputError("cursor", "not a cursor this server gave out") from exc


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
