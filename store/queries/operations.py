"""Figures for watching the system itself (the API's /metrics and /readyz): events of the last day by type,
cameras by state, and how many vision workers hold camera leases."""

from __future__ import annotations

import psycopg

from store.queries._common import one, rows


def events_last_day(conn: psycopg.Connection) -> dict[str, int]:
    """Events that started in the last 24 hours, by type."""
    return {r["type"]: r["n"] for r in rows(conn, "SELECT type, count(*) AS n FROM events"
                                                  " WHERE time > now() - interval '24 hours' GROUP BY type")}


def cameras_by_state(conn: psycopg.Connection) -> dict[str, int]:
    """Cameras by state (``disabled`` for those switched off, whatever their last state)."""
    return {r["state"]: r["n"] for r in rows(conn, "SELECT CASE WHEN enabled THEN state ELSE 'disabled' END AS state,"
                                                   " count(*) AS n FROM cameras GROUP BY 1")}


def vision_workers(conn: psycopg.Connection) -> int:
    """Vision workers holding at least one live camera lease."""
    found = one(conn, "SELECT count(DISTINCT lease_owner) AS workers FROM cameras WHERE lease_expires > now()")
    return int(found["workers"]) if found else 0
