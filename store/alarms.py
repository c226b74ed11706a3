"""Alarms as the console reads them: the list (escalated and unacknowledged first, then priority, then the newest;
opaque cursor pages), one alarm with its events, checklist and notes, and the rows the live hub announces.

An alarm is raised by the store itself when an event is inserted (migration 0050's ``vigil_raise_alarm``): the
rule that decides, the grouping of a flood into one alarm with a count, the checklist copied from its procedure.
A user's site scope is passed beside the filter (``scope``), as for events.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql

from store.errors import StoreInputError
from store.queries._common import aware, match_any, one, rows
from store.queries.events import EVENT_COLUMNS

MAX_PAGE = 500
CHANNEL = "vigil_alarms"  # the 0050 trigger announces each insert, update and escalation of an alarm here
STATUSES = ("new", "acknowledged", "assigned", "resolved")
OPEN = ("new", "acknowledged", "assigned")
ALARM_COLUMNS = ("id, site_id, camera_id, zone_id, counter_id, type, severity, priority, rule_id, status, assignee_id,"
                 " event_count, first_event_id, first_time, last_event_id, last_time, raised_at, acknowledged_at,"
                 " escalated_at, resolved_at, auto_closed, updated_at, urgent")
State = Literal["open", "resolved", "all"]
_ORDER = sql.SQL(" ORDER BY urgent DESC, priority, last_time DESC, id DESC LIMIT %(limit)s")


@dataclass(frozen=True)
class AlarmFilter:
    """Every field narrows the list: None means any. ``state`` open is new, acknowledged or assigned."""

    state: State = "open"
    site_ids: Sequence[int] | None = None
    camera_ids: Sequence[int] | None = None
    types: Sequence[str] | None = None
    priorities: Sequence[int] | None = None
    statuses: Sequence[str] | None = None
    urgent_only: bool = False  # escalated and not yet acknowledged
    since: datetime | None = None  # the newest event at or after (time zone required)
    until: datetime | None = None

    def where(self, scope: Sequence[int] | None) -> tuple[sql.Composable, dict[str, Any]]:
        bad = [s for s in self.statuses or () if s not in STATUSES]
        if bad:
            raise StoreInputError("filters.statuses", f"unknown status {bad[0]!r} (one of {', '.join(STATUSES)})")
        clauses: list[sql.Composable] = [sql.SQL({"open": "status <> 'resolved'", "resolved": "status = 'resolved'",
                                                   "all": "true"}[self.state])]
        params: dict[str, Any] = {}
        match_any(clauses, params, (
            ("scope", "site_id", scope, "bigint"), ("site_ids", "site_id", self.site_ids, "bigint"),
            ("camera_ids", "camera_id", self.camera_ids, "bigint"), ("types", "type", self.types, "text"),
            ("priorities", "priority", self.priorities, "smallint"),
            ("statuses", "status", self.statuses, "text")))
        if self.urgent_only:
            clauses.append(sql.SQL("urgent"))
        if self.since is not None:
            clauses.append(sql.SQL("last_time >= %(since)s"))
            params["since"] = aware(self.since, "filters.since")
        if self.until is not None:
            clauses.append(sql.SQL("last_time < %(until)s"))
            params["until"] = aware(self.until, "filters.until")
        return sql.SQL(" AND ").join(clauses), params


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([int(bool(row["urgent"])), row["priority"], row["last_time"].isoformat(), row["id"]],
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        urgent, priority, when, alarm_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        found = {"c_urgent": bool(urgent), "c_priority": int(priority), "c_time": datetime.fromisoformat(when),
                 "c_id": int(alarm_id)}
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise StoreInputError("cursor", "not a cursor this server gave out") from exc
    if found["c_time"].tzinfo is None or not 1 <= found["c_priority"] <= 5 or not 0 < found["c_id"] < 2**63:
        raise StoreInputError("cursor", "not a cursor this server gave out")
    return found


# After the cursor's row in the list's order (urgent DESC, priority ASC, last_time DESC, id DESC).
_AFTER = sql.SQL(" AND (urgent < %(c_urgent)s OR (urgent = %(c_urgent)s AND (priority > %(c_priority)s"
                 " OR (priority = %(c_priority)s AND (last_time, id) < (%(c_time)s, %(c_id)s)))))")


def list_alarms(conn: psycopg.Connection, flt: AlarmFilter, scope: Sequence[int] | None, limit: int,
                cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Escalated-and-unacknowledged first, then by priority (1 first), then the newest event first; ``limit``
    (1..MAX_PAGE) a page. Returns the page and the next page's cursor (None at the end)."""
    if not 1 <= limit <= MAX_PAGE:
        raise StoreInputError("limit", f"must be 1..{MAX_PAGE}")
    where, params = flt.where(scope)
    if cursor is not None:
        params.update(decode_cursor(cursor))
        where = sql.Composed([where, _AFTER])
    query = sql.Composed([sql.SQL(f"SELECT {ALARM_COLUMNS} FROM alarms WHERE "), where, _ORDER])
    found = rows(conn, query, {**params, "limit": limit + 1})
    following = encode_cursor(found[limit - 1]) if len(found) > limit else None
    return found[:limit], following


def get_alarm(conn: psycopg.Connection, alarm_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return one(conn, f"SELECT {ALARM_COLUMNS} FROM alarms WHERE id = %s::bigint{lock}", (alarm_id,))


def alarms_by_ids(conn: psycopg.Connection, ids: list[int]) -> list[dict[str, Any]]:
    return rows(conn, f"SELECT {ALARM_COLUMNS} FROM alarms WHERE id = ANY(%s::bigint[]) ORDER BY id", (ids,))


def alarm_events(conn: psycopg.Connection, alarm_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The alarm's events, newest first (at most ``limit``)."""
    columns = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))
    return rows(conn, f"SELECT {columns} FROM alarm_events ae JOIN events e ON e.id = ae.event_id"
                      " AND e.time = ae.event_time WHERE ae.alarm_id = %s::bigint ORDER BY ae.event_time DESC"
                      " LIMIT %s", (alarm_id, limit))


def alarm_of_event(conn: psycopg.Connection, event_id: UUID) -> int | None:
    """The alarm an event raised or joined, if any."""
    found = one(conn, "SELECT alarm_id FROM alarm_events WHERE event_id = %s", (event_id,))
    return None if found is None else int(found["alarm_id"])


def alarm_notes(conn: psycopg.Connection, alarm_id: int) -> list[dict[str, Any]]:
    """Every step on the alarm in order, with the person's user name (none for the system's own)."""
    return rows(conn, "SELECT n.id, n.time, n.user_id, u.username, n.action, n.text FROM alarm_notes n"
                      " LEFT JOIN users u ON u.id = n.user_id WHERE n.alarm_id = %s::bigint ORDER BY n.time, n.id",
                (alarm_id,))


def alarm_steps(conn: psycopg.Connection, alarm_id: int) -> list[dict[str, Any]]:
    """The alarm's checklist in order, with who ticked each step and when."""
    return rows(conn, "SELECT s.position, s.text, s.required, s.done_at, s.done_by, u.username AS done_by_name,"
                      " s.note FROM alarm_steps s LEFT JOIN users u ON u.id = s.done_by"
                      " WHERE s.alarm_id = %s::bigint ORDER BY s.position", (alarm_id,))


def open_alarms_by_camera(conn: psycopg.Connection, camera_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per camera: how many alarms are open, the most urgent priority among them and whether one is escalated."""
    found = rows(conn, "SELECT camera_id, count(*) AS open, min(priority) AS priority, bool_or(urgent) AS urgent"
                       " FROM alarms WHERE status <> 'resolved' AND camera_id = ANY(%s::bigint[])"
                       " GROUP BY camera_id", (camera_ids,))
    return {int(r["camera_id"]): r for r in found}


def listen(conn: psycopg.Connection) -> None:
    """Have this (autocommit) connection receive the alarm notifications on ``CHANNEL``: JSON payloads with the
    alarm's ``id``, ``site_id`` and ``op`` (insert, update, escalated)."""
    conn.execute(f"LISTEN {CHANNEL}")


def has_recording(conn: psycopg.Connection, camera_id: int | None, start: datetime, end: datetime) -> bool:
    """Whether the recordings index holds footage of the camera overlapping [start, end]."""
    if camera_id is None:
        return False
    found = one(conn, "SELECT EXISTS (SELECT 1 FROM recording_segments WHERE camera_id = %s::bigint"
                      " AND start_time <= %s AND end_time >= %s AND NOT deleting) AS found", (camera_id, end, start))
    return bool(found and found["found"])
