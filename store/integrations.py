"""Device keys (queue-ticket machines, satisfaction terminals) and outbound targets (webhooks, MQTT) as admins
manage them, within a site scope (a list of site ids, or None for every site).

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


def delete_target(conn: psycopg.Connection, target_id: int, scope: list[int] | None) -> dict[str, Any] | None:
    """Delete a target within the scope; None when there is none."""
    return conn.execute(f"DELETE FROM outbound_targets WHERE id = %(id)s::bigint AND {_TARGET_IN_SCOPE}"
                        f" RETURNING {TARGET_COLUMNS}", {"id": target_id, "scope": scope}).fetchone()
