"""The audit log's rows: written with the sites each change concerns, read newest first within a scope.

``site_ids`` of a row is the set of sites its object belongs to (a camera's site, a user's sites, a webhook's
sites, the site itself), or NULL when it concerns no site or every site (a user of every site, an all-sites
webhook, a sign-in with an unknown name). A site-scoped reader sees only rows whose sites are all its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

# Where an object's sites are found when the row's before/after do not say (by the object's type).
_SITES_OF: dict[str, str] = {
    "camera": "SELECT ARRAY[site_id] AS s FROM cameras WHERE id = %s::bigint",
    "counter": "SELECT ARRAY[site_id] AS s FROM counters WHERE id = %s::bigint",
    "zone": "SELECT ARRAY[c.site_id] AS s FROM zones z JOIN cameras c ON c.id = z.camera_id WHERE z.id = %s::bigint",
    "event": "SELECT ARRAY[site_id] AS s FROM events WHERE id = %s::uuid AND site_id IS NOT NULL LIMIT 1",
    "alarm": "SELECT ARRAY[site_id] AS s FROM alarms WHERE id = %s::bigint AND site_id IS NOT NULL",
    "handover": "SELECT site_ids AS s FROM handovers WHERE id = %s::bigint",
    "device": "SELECT ARRAY[site_id] AS s FROM device_keys WHERE id = %s::bigint",
    "outbound_target": "SELECT site_ids AS s FROM outbound_targets WHERE id = %s::bigint",
    "user": "SELECT site_ids AS s FROM users WHERE id = %s::bigint",
    "api_token": "SELECT u.site_ids AS s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = %s::bigint",
}
EVERY_SITE = None  # the row concerns every site (or none): global readers only


def sites_of(conn: psycopg.Connection, object_type: str | None, object_id: Any,
             states: Iterable[Any]) -> list[int] | None:
    """The sites a change concerns: the site itself, the ``site_id``/``site_ids``/``camera_id`` its
    before/after states name, else the stored object's; None for every site or none."""
    if object_type == "site" and object_id is not None:
        return [int(object_id)]
    found: set[int] = set()
    named = False
    for state in states:
        if not isinstance(state, dict):
            continue
        if "site_ids" in state:
            if state["site_ids"] is None:
                return EVERY_SITE
            found.update(int(s) for s in state["site_ids"])
            named = True
        if state.get("site_id") is not None:
            found.add(int(state["site_id"]))
            named = True
        elif state.get("camera_id") is not None:
            row = conn.execute(_SITES_OF["camera"], (state["camera_id"],)).fetchone()
            found.update(row["s"] if row else ())
            named = named or row is not None
    if not named and object_id is not None and object_type in _SITES_OF:
        row = conn.execute(_SITES_OF[object_type], (str(object_id),)).fetchone()
        if row is None or row["s"] is None:
            return EVERY_SITE
        found.update(row["s"])
    return sorted(found) or EVERY_SITE


def insert(conn: psycopg.Connection, *, user_id: int | None, username: str | None, action: str,
           object_type: str | None, object_id: str | None, before: Any, after: Any, remote_addr: str | None,
           site_ids: list[int] | None) -> None:
    """Write one row (in the caller's transaction, when it has one); ``before``/``after`` already scrubbed."""
    conn.execute(
        "INSERT INTO audit_log (user_id, username, action, object_type, object_id, before, after, remote_addr,"
        " site_ids) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (user_id, username, action, object_type, object_id, None if before is None else Jsonb(before),
         None if after is None else Jsonb(after), remote_addr, site_ids))


def entries(conn: psycopg.Connection, *, scope: list[int] | None, limit: int, action: str | None = None,
            object_type: str | None = None, object_id: str | None = None, user_id: int | None = None,
            since: datetime | None = None, until: datetime | None = None,
            cursor: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` rows newest first, below id ``cursor``; within ``scope`` only rows whose sites are all in
    it (never a row of every site)."""
    clauses, params = ["true"], []
    for sql, value in (("action = %s", action), ("object_type = %s", object_type), ("object_id = %s", object_id),
                       ("user_id = %s::bigint", user_id), ("time >= %s", since), ("time < %s", until),
                       ("id < %s::bigint", cursor),
                       ("site_ids IS NOT NULL AND cardinality(site_ids) > 0 AND site_ids <@ %s::bigint[]", scope)):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    return conn.execute(f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
                        [*params, limit]).fetchall()
