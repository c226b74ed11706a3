"""The operators' steps on an event (acknowledge, assign, note, resolve, reopen): its status and assignee, and
the note every step leaves. Run in the caller's transaction, with the event row read ``for_update``
(``store.queries.events.get_event``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg


def set_status(conn: psycopg.Connection, event: dict[str, Any], status: str, assignee_id: int | None) -> None:
    """Give the event (its row as read) a new status and assignee."""
    conn.execute("UPDATE events SET status = %s, assignee_id = %s, updated_at = now() WHERE id = %s AND time = %s",
                 (status, assignee_id, event["id"], event["time"]))


def add_note(conn: psycopg.Connection, event_id: UUID, user_id: int | None, action: str, text: str | None) -> None:
    """The note of one step (``action``), with the person's text when they wrote one."""
    conn.execute("INSERT INTO event_notes (event_id, user_id, action, text) VALUES (%s, %s, %s, %s)",
                 (event_id, user_id, action, text))
