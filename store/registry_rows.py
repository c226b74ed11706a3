"""The registry's rows as people see them: sites, cameras, zones and counters as dict rows (timestamps included,
a camera's password only as ``has_password``), each read within a site scope.

A *scope* is the site ids a user may see, or None for every site. ``get_*`` raises ``NotFound`` for an object
that does not exist or lies outside the scope (a scoped user may not learn that another site's object exists);
``find_*`` answers None instead. Writes take the columns a caller validated, JSON values as plain Python values,
and run in the caller's transaction. ``store.registry`` is the same tables by human key, for the CLI and the
workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from store.errors import NotFound
from store.registry import CAMERA_COLUMNS, COUNTER_COLUMNS, SITE_COLUMNS, ZONE_COLUMNS

Row = dict[str, Any]
Scope = Sequence[int] | None

# The columns a caller may write, per table; those holding JSON are wrapped for psycopg here.
SITE_FIELDS = frozenset({"code", "name", "kind", "level", "province_id", "address", "latitude", "longitude",
                         "timezone", "working_hours", "capacity"})
CAMERA_FIELDS = frozenset({"site_id", "name", "source_kind", "onvif_host", "onvif_port", "username", "password_enc",
                           "main_uri", "sub_uri", "snapshot_uri", "analytics_fps", "enabled", "position", "info",
                           "snapshot_path"})
ZONE_FIELDS = frozenset({"camera_id", "name", "kind", "geometry", "direction", "classes", "thresholds", "schedule"})
COUNTER_FIELDS = frozenset({"site_id", "number", "department", "officer", "camera_id", "staff_zone_id",
                            "customer_zone_id"})
JSON_FIELDS = frozenset({"working_hours", "position", "info", "geometry", "direction", "thresholds", "schedule"})
_IN_SCOPE = "(%(scope)s::bigint[] IS NULL OR site_id = ANY(%(scope)s::bigint[]))"
_SITE_FILTER = "(%(site)s::bigint IS NULL OR site_id = %(site)s::bigint)"
# A zone's site is its camera's: a subquery keeps the zone's own columns unqualified.
_ZONE_WITH_SITE = f"SELECT * FROM (SELECT {ZONE_COLUMNS}, (SELECT c.site_id FROM cameras c" \
                  " WHERE c.id = zones.camera_id) AS site_id FROM zones) z"


def _scope(scope: Scope) -> list[int] | None:
    return None if scope is None else sorted(scope)


def _values(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a column one may write: {sorted(unknown)}")
    return {k: Jsonb(v) if k in JSON_FIELDS and v is not None else v for k, v in fields.items()}


def _found(what: str, row: Row | None) -> Row:
    if row is None:
        raise NotFound(what)
    return row


def _insert(conn: psycopg.Connection, table: str, fields: dict[str, Any], allowed: frozenset[str],
            columns: str) -> Row:
    values = _values(fields, allowed)
    return conn.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})"
                        f" RETURNING {columns}", list(values.values())).fetchone()


def _update(conn: psycopg.Connection, what: str, table: str, object_id: int, fields: dict[str, Any],
            allowed: frozenset[str], columns: str) -> Row:
    values = _values(fields, allowed)
    sets = "".join(f"{k} = %s, " for k in values)
    return _found(what, conn.execute(f"UPDATE {table} SET {sets}updated_at = now() WHERE id = %s RETURNING {columns}",
                                     [*values.values(), object_id]).fetchone())


def _delete(conn: psycopg.Connection, what: str, table: str, object_id: int) -> None:
    if conn.execute(f"DELETE FROM {table} WHERE id = %s", (object_id,)).rowcount == 0:
        raise NotFound(what)


# -- sites -------------------------------------------------------------------------------------------------
def find_site(conn: psycopg.Connection, site_id: int, scope: Scope = None) -> Row | None:
    return conn.execute(f"SELECT {SITE_COLUMNS} FROM sites WHERE id = %(id)s"
                        " AND (%(scope)s::bigint[] IS NULL OR id = ANY(%(scope)s::bigint[]))",
                        {"id": site_id, "scope": _scope(scope)}).fetchone()


def get_site(conn: psycopg.Connection, site_id: int, scope: Scope = None) -> Row:
    return _found("site", find_site(conn, site_id, scope))


def list_sites(conn: psycopg.Connection, scope: Scope, kind: str | None = None) -> list[Row]:
    """The sites within the scope (of ``kind`` when given), by name."""
    return conn.execute(f"SELECT {SITE_COLUMNS} FROM sites WHERE (%(scope)s::bigint[] IS NULL"
                        " OR id = ANY(%(scope)s::bigint[])) AND (%(kind)s::text IS NULL OR kind = %(kind)s)"
                        " ORDER BY name", {"scope": _scope(scope), "kind": kind}).fetchall()


def site_has_cameras(conn: psycopg.Connection, site_id: int) -> bool:
    return conn.execute("SELECT 1 FROM cameras WHERE site_id = %s LIMIT 1", (site_id,)).fetchone() is not None


def insert_site(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    return _insert(conn, "sites", fields, SITE_FIELDS, SITE_COLUMNS)


def update_site(conn: psycopg.Connection, site_id: int, fields: dict[str, Any]) -> Row:
    return _update(conn, "site", "sites", site_id, fields, SITE_FIELDS, SITE_COLUMNS)


def delete_site(conn: psycopg.Connection, site_id: int) -> None:
    """Delete a site and its counters (a site with cameras is refused by the database: check first)."""
    _delete(conn, "site", "sites", site_id)


# -- cameras -----------------------------------------------------------------------------------------------
def find_camera(conn: psycopg.Connection, camera_id: int, scope: Scope = None) -> Row | None:
    return conn.execute(f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE id = %(id)s AND {_IN_SCOPE}",
                        {"id": camera_id, "scope": _scope(scope)}).fetchone()


def get_camera(conn: psycopg.Connection, camera_id: int, scope: Scope = None) -> Row:
    return _found("camera", find_camera(conn, camera_id, scope))


def list_cameras(conn: psycopg.Connection, scope: Scope, site_id: int | None = None) -> list[Row]:
    """The cameras within the scope (of one site when given), by site and name."""
    return conn.execute(f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE {_IN_SCOPE} AND {_SITE_FILTER}"
                        " ORDER BY site_id, name", {"scope": _scope(scope), "site": site_id}).fetchall()


def insert_camera(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    """A new camera (``password_enc``: the password already encrypted, or None)."""
    return _insert(conn, "cameras", fields, CAMERA_FIELDS, CAMERA_COLUMNS)


def update_camera(conn: psycopg.Connection, camera_id: int, fields: dict[str, Any]) -> Row:
    return _update(conn, "camera", "cameras", camera_id, fields, CAMERA_FIELDS, CAMERA_COLUMNS)


def delete_camera(conn: psycopg.Connection, camera_id: int) -> None:
    """Delete a camera and its zones (its history stays in the time series)."""
    _delete(conn, "camera", "cameras", camera_id)


def set_snapshot_path(conn: psycopg.Connection, camera_id: int, path: str) -> Row | None:
    """Record where the camera's picture is kept under the data folder (a still, or the worker's live picture);
    the camera as it is now, or None when it is gone."""
    return conn.execute(f"UPDATE cameras SET snapshot_path = %s WHERE id = %s RETURNING {CAMERA_COLUMNS}",
                        (path, camera_id)).fetchone()


def camera_stream(conn: psycopg.Connection, camera_id: int) -> Row | None:
    """Where a picture of the camera is taken from: ``main_uri``, ``sub_uri``, ``username`` and ``password_enc``
    (encrypted; only for the way to the camera). No scope: the caller checked it."""
    return conn.execute("SELECT main_uri, sub_uri, username, password_enc FROM cameras WHERE id = %s",
                        (camera_id,)).fetchone()


# -- zones -------------------------------------------------------------------------------------------------
def find_zone(conn: psycopg.Connection, zone_id: int, scope: Scope = None) -> Row | None:
    """The zone with its camera's ``site_id``."""
    return conn.execute(f"{_ZONE_WITH_SITE} WHERE id = %(id)s AND {_IN_SCOPE}",
                        {"id": zone_id, "scope": _scope(scope)}).fetchone()


def get_zone(conn: psycopg.Connection, zone_id: int, scope: Scope = None) -> Row:
    return _found("zone", find_zone(conn, zone_id, scope))


def list_zones(conn: psycopg.Connection, camera_id: int) -> list[Row]:
    """A camera's zones by name (no scope: the caller checked the camera's)."""
    return conn.execute(f"SELECT {ZONE_COLUMNS} FROM zones WHERE camera_id = %s ORDER BY name",
                        (camera_id,)).fetchall()


def insert_zone(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    return _insert(conn, "zones", fields, ZONE_FIELDS, ZONE_COLUMNS)


def update_zone(conn: psycopg.Connection, zone_id: int, fields: dict[str, Any]) -> Row:
    return _update(conn, "zone", "zones", zone_id, fields, ZONE_FIELDS, ZONE_COLUMNS)


def delete_zone(conn: psycopg.Connection, zone_id: int) -> None:
    _delete(conn, "zone", "zones", zone_id)


# -- counters ----------------------------------------------------------------------------------------------
def find_counter(conn: psycopg.Connection, counter_id: int, scope: Scope = None) -> Row | None:
    return conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters WHERE id = %(id)s AND {_IN_SCOPE}",
                        {"id": counter_id, "scope": _scope(scope)}).fetchone()


def get_counter(conn: psycopg.Connection, counter_id: int, scope: Scope = None) -> Row:
    return _found("counter", find_counter(conn, counter_id, scope))


def list_counters(conn: psycopg.Connection, scope: Scope, site_id: int | None = None) -> list[Row]:
    """The counters within the scope (of one site when given), by site and number."""
    return conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters WHERE {_IN_SCOPE} AND {_SITE_FILTER}"
                        " ORDER BY site_id, number", {"scope": _scope(scope), "site": site_id}).fetchall()


def insert_counter(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    return _insert(conn, "counters", fields, COUNTER_FIELDS, COUNTER_COLUMNS)


def update_counter(conn: psycopg.Connection, counter_id: int, fields: dict[str, Any]) -> Row:
    return _update(conn, "counter", "counters", counter_id, fields, COUNTER_FIELDS, COUNTER_COLUMNS)


def delete_counter(conn: psycopg.Connection, counter_id: int) -> None:
    _delete(conn, "counter", "counters", counter_id)
