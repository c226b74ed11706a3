"""The operators' steps on an alarm: its status and assignee (copied onto its events, so the event search shows
them handled), the note every step leaves, and the ticks of its checklist. Run in the caller's transaction, with
the alarm row read ``for_update`` (``store.alarms.get_alarm``)."""

from __future__ import annotations

from typing import Any

import psycopg

from store.queries._common import one, rows


def set_status(conn: psycopg.Connection, alarm: dict[str, Any], status: str, assignee_id: int | None, *,
               auto_closed: bool = False) -> None:
    """Give the alarm (its row as read) a new status and assignee, and its events the same."""
    conn.execute(
        "UPDATE alarms SET status = %(status)s, assignee_id = %(assignee)s, updated_at = now(),"
        " acknowledged_at = CASE WHEN %(status)s = 'new' THEN acknowledged_at"
        "   ELSE coalesce(acknowledged_at, now()) END,"
        " resolved_at = CASE WHEN %(status)s = 'resolved' THEN now() END,"
        " auto_closed = %(auto)s WHERE id = %(id)s::bigint",
        {"status": status, "assignee": assignee_id, "id": alarm["id"], "auto": auto_closed})
    conn.execute("UPDATE events e SET status = %(status)s, assignee_id = %(assignee)s, updated_at = now()"
                 " FROM alarm_events ae WHERE ae.alarm_id = %(id)s::bigint AND e.id = ae.event_id"
                 " AND e.time = ae.event_time"
                 " AND (e.status, e.assignee_id) IS DISTINCT FROM (%(status)s, %(assignee)s::bigint)",
                 {"status": status, "assignee": assignee_id, "id": alarm["id"]})


def add_note(conn: psycopg.Connection, alarm_id: int, user_id: int | None, action: str, text: str | None) -> None:
    """The note of one step (``action``), with the person's text when they wrote one."""
    conn.execute("INSERT INTO alarm_notes (alarm_id, user_id, action, text) VALUES (%s::bigint, %s, %s, %s)",
                 (alarm_id, user_id, action, text))


def get_step(conn: psycopg.Connection, alarm_id: int, position: int) -> dict[str, Any] | None:
    return one(conn, "SELECT position, text, required, done_at, done_by, note FROM alarm_steps"
                     " WHERE alarm_id = %s::bigint AND position = %s", (alarm_id, position))


def tick_step(conn: psycopg.Connection, alarm_id: int, position: int, user_id: int, done: bool,
              note: str | None) -> dict[str, Any] | None:
    """Tick (or untick) one step of the alarm's checklist with the person's note; None when there is no such
    step. An untick keeps no note."""
    return one(conn, "UPDATE alarm_steps SET done_at = CASE WHEN %(done)s THEN now() END,"
                     " done_by = CASE WHEN %(done)s THEN %(user)s::bigint END,"
                     " note = CASE WHEN %(done)s THEN %(note)s END"
                     " WHERE alarm_id = %(alarm)s::bigint AND position = %(position)s"
                     " RETURNING position, text, required, done_at, done_by, note",
               {"done": done, "user": user_id, "note": note, "alarm": alarm_id, "position": position})


def unticked_required(conn: psycopg.Connection, alarm_id: int) -> list[dict[str, Any]]:
    """The required steps nobody has ticked yet, in order."""
    return rows(conn, "SELECT position, text FROM alarm_steps WHERE alarm_id = %s::bigint AND required"
                      " AND done_at IS NULL ORDER BY position", (alarm_id,))


def touch(conn: psycopg.Connection, alarm_id: int) -> None:
    """Mark the alarm changed (a tick or a note), so every console showing it is told."""
    conn.execute("UPDATE alarms SET updated_at = now() WHERE id = %s::bigint", (alarm_id,))
