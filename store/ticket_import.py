"""Ticket logs imported from files (a queue-ticket system without an online connection exports its day as CSV or
Excel): the column mapping kept per site, and the events written once each.

An imported event is keyed like a device's report, ``(device_id, device_event_id)``: the device is
``import:<site code>`` and the event id ``<local issue day>:<ticket number>:<kind>``, so importing the same log
again (or an overlapping one) writes nothing twice. Imports of one site run one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class TicketRow:
    """One event of an imported log."""

    time: datetime
    kind: str  # issued | called | served
    ticket_number: str
    event_id: str  # <local issue day>:<ticket number>:<kind>
    service: str | None = None
    counter_id: int | None = None


def import_device(site_code: str) -> str:
    return f"import:{site_code}"


def get_mapping(conn: psycopg.Connection, site_id: int) -> dict[str, str] | None:
    found = conn.execute("SELECT mapping FROM ticket_import_mappings WHERE site_id = %s::bigint",
                         (site_id,)).fetchone()
    return None if found is None else dict(found["mapping"])


def save_mapping(conn: psycopg.Connection, site_id: int, mapping: dict[str, str]) -> None:
    conn.execute("INSERT INTO ticket_import_mappings (site_id, mapping) VALUES (%s::bigint, %s) ON CONFLICT (site_id)"
                 " DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = now()", (site_id, Jsonb(mapping)))


def counter_numbers(conn: psycopg.Connection, site_id: int) -> dict[int, int]:
    """The site's counters: number -> id."""
    return {r["number"]: r["id"] for r in conn.execute("SELECT id, number FROM counters WHERE site_id = %s::bigint",
                                                       (site_id,)).fetchall()}


def insert_tickets(conn: psycopg.Connection, site_id: int, device_id: str, events: list[TicketRow]) -> int:
    """Write the events not yet recorded for this device (one statement); how many were new."""
    if not events:
        return 0
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ticket-import:{site_id}",))
        return conn.execute(
            "INSERT INTO ticket_events (time, site_id, counter_id, device_id, device_event_id, kind, ticket_number,"
            " service) SELECT x.time, %(site)s::bigint, x.counter_id, %(device)s, x.event_id, x.kind, x.number,"
            " x.service FROM unnest(%(times)s::timestamptz[], %(counters)s::bigint[], %(ids)s::text[],"
            " %(kinds)s::text[], %(numbers)s::text[], %(services)s::text[])"
            " AS x(time, counter_id, event_id, kind, number, service)"
            " WHERE NOT EXISTS (SELECT 1 FROM ticket_events t WHERE t.device_id = %(device)s"
            " AND t.device_event_id = x.event_id)",
            {"site": site_id, "device": device_id, "times": [e.time for e in events],
             "counters": [e.counter_id for e in events], "ids": [e.event_id for e in events],
             "kinds": [e.kind for e in events], "numbers": [e.ticket_number for e in events],
             "services": [e.service for e in events]}).rowcount


def site_for_import(conn: psycopg.Connection, key: int | str) -> dict[str, Any] | None:
    """A site by id or code, with what an import needs (code, timezone)."""
    column = "id = %s::bigint" if isinstance(key, int) else "code = %s"
    return conn.execute(f"SELECT id, code, name, timezone FROM sites WHERE {column}", (key,)).fetchone()
