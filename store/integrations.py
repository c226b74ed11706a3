"""Device keys (queue-ticket machines, satisfaction terminals) and outbound targets (webhooks, MQTT) as admins
manage them, within a site scope (a list of site ids, or None for every site); the devices' reports, kept once
per device event id; and what the outbound sender reads and notes.

A device is within a scope when its site is; a target when its sites are named and all in the scope (a
target of every site is within no scope but None: it would carry every site's events).
"""

from __future__ import annotations

from typing import Any

import psycopg

DEVICE_COLUMNS = "id, device_id, kind, site_id, counter_id, prefix, active, created_at, last_seen"
TARGET_COLUMNS = ("id, kind, name, url, username, secret IS NOT NULL AS has_secret, event_types, site_ids, active,"
                  " created_at, last_ok, last_error")
_DEVICE_IN_SCOPE = "(%(scope)s::bigint[] IS NULL OR site_id = ANY(%(scope)s::bigint[]))"
_TARGET_IN_SCOPE = ("(%(scope)s::bigint[] IS NULL OR (site_ids IS NOT NULL AND cardinality(site_ids) > 0"
                    " AND site_ids <@ %(scope)s::bigint[]))")
TARGET_FIELDS = ("kind", "name", "url", "secret", "username", "event_types", "site_ids", "active")


# The tables devices report to, each row keyed by (device_id, device_event_id).
DEVICE_TABLES = frozenset({"ticket_events", "ratings", "officer_checkins"})


def device_by_key(conn: psycopg.Connection, digest: str) -> dict[str, Any] | None:
    """The active device whose key has this hash."""
    return conn.execute(f"SELECT {DEVICE_COLUMNS} FROM device_keys WHERE key_hash = %s AND active",
                        (digest,)).fetchone()


def counter_by_number(conn: psycopg.Connection, site_id: int, number: int) -> int | None:
    """The id of the site's counter with this number."""
    found = conn.execute("SELECT id FROM counters WHERE site_id = %s AND number = %s", (site_id, number)).fetchone()
    return None if found is None else found["id"]


def record_once(conn: psycopg.Connection, table: str, device: dict[str, Any], device_event_id: str,
                values: dict[str, Any]) -> dict[str, Any] | None:
    """Insert a device's report into ``table`` unless its ``device_event_id`` is recorded already, and note the
    device as seen. None when inserted, else the ``time`` and ``counter_id`` recorded the first time."""
    if table not in DEVICE_TABLES:
        raise ValueError(f"not a table devices report to: {table}")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{table}:{device['device_id']}:"
                                                                    f"{device_event_id}",))
        existing = conn.execute(f"SELECT time, counter_id FROM {table} WHERE device_id = %s AND device_event_id = %s"
                                " LIMIT 1", (device["device_id"], device_event_id)).fetchone()
        if existing is None:
            row = {"device_id": device["device_id"], "device_event_id": device_event_id,
                   "site_id": device["site_id"], **values}
            conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                         list(row.values()))
        conn.execute("UPDATE device_keys SET last_seen = now() WHERE id = %s", (device["id"],))
    return existing


def list_devices(conn: psycopg.Connection, scope: list[int] | None) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {DEVICE_COLUMNS} FROM device_keys WHERE {_DEVICE_IN_SCOPE} ORDER BY device_id",
                        {"scope": scope}).fetchall()


def counter_of_site(conn: psycopg.Connection, counter_id: int, site_id: int) -> bool:
    return conn.execute("SELECT 1 FROM counters WHERE id = %s::bigint AND site_id = %s::bigint",
                        (counter_id, site_id)).fetchone() is not None


def add_device(conn: psycopg.Connection, device_id: str, kind: str, site_id: int, counter_id: int | None,
               digest: str, prefix: str) -> dict[str, Any]:
    """Store a device by the hash of its key."""
    return conn.execute(f"INSERT INTO device_keys (device_id, kind, site_id, counter_id, key_hash, prefix)"
                        f" VALUES (%s, %s, %s::bigint, %s::bigint, %s, %s) RETURNING {DEVICE_COLUMNS}",
                        (device_id, kind, site_id, counter_id, digest, prefix)).fetchone()


def disable_device(conn: psycopg.Connection, device_id: int, scope: list[int] | None) -> dict[str, Any] | None:
    """Disable a device within the scope; None when there is none."""
    return conn.execute(f"UPDATE device_keys SET active = false WHERE id = %(id)s::bigint AND {_DEVICE_IN_SCOPE}"
                        f" RETURNING {DEVICE_COLUMNS}", {"id": device_id, "scope": scope}).fetchone()


def list_targets(conn: psycopg.Connection, scope: list[int] | None) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {TARGET_COLUMNS} FROM outbound_targets WHERE {_TARGET_IN_SCOPE} ORDER BY id",
                        {"scope": scope}).fetchall()


def add_target(conn: psycopg.Connection, fields: dict[str, Any]) -> dict[str, Any]:
    """Store an outbound target (``TARGET_FIELDS``; the secret is never read back)."""
    values = {k: fields.get(k) for k in TARGET_FIELDS}
    return conn.execute(f"INSERT INTO outbound_targets ({', '.join(values)}) VALUES"
                        f" ({', '.join(['%s'] * len(values))}) RETURNING {TARGET_COLUMNS}",
                        list(values.values())).fetchone()


def active_targets(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The active targets with what sending needs (their secrets included: for the sender only)."""
    return conn.execute("SELECT id, kind, name, url, secret, username, event_types, site_ids"
                        " FROM outbound_targets WHERE active ORDER BY id").fetchall()


def note_delivery(conn: psycopg.Connection, target_id: int, error: str | None) -> None:
    """Record a delivery to a target: when it last succeeded, or the error of its last failure."""
    if error is None:
        conn.execute("UPDATE outbound_targets SET last_ok = now(), last_error = NULL WHERE id = %s", (target_id,))
    else:
        conn.execute("UPDATE outbound_targets SET last_error = %s WHERE id = %s", (error, target_id))


def try_sender_lock(conn: psycopg.Connection, lock_id: int) -> bool:
    """Take (or hold) the session-level advisory lock whose holder alone sends outbound messages."""
    return bool(conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (lock_id,)).fetchone()["ok"])


def delete_target(conn: psycopg.Connection, target_id: int, scope: list[int] | None) -> dict[str, Any] | None:
    """Delete a target within the scope; None when there is none."""
    return conn.execute(f"DELETE FROM outbound_targets WHERE id = %(id)s::bigint AND {_TARGET_IN_SCOPE}"
                        f" RETURNING {TARGET_COLUMNS}", {"id": target_id, "scope": scope}).fetchone()
