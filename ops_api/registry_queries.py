"""SQL for the registry rows the API edits (cameras, zones, counters) and the camera password adapter.

These belong in store/registry.py once it offers them; they are kept in one module here so the move is
a rename. Camera passwords are encrypted with the cameras layer's crypto when it is installed.
"""

from __future__ import annotations

from typing import Any

import psycopg

from core.settings import Settings
from ops_api.errors import ApiProblem
from ops_api.roles import Principal

CAMERA_COLUMNS = ("id, site_id, name, source_kind, onvif_host, onvif_port, username, password_enc IS NOT NULL"
                  " AS has_password, main_uri, sub_uri, snapshot_uri, analytics_fps, enabled, position, info,"
                  " snapshot_path, state, state_since, lease_owner, lease_expires, created_at, updated_at")
ZONE_COLUMNS = ("z.id, z.camera_id, z.name, z.kind, z.geometry, z.direction, z.classes, z.thresholds, z.schedule,"
                " z.created_at, z.updated_at")
COUNTER_COLUMNS = ("id, site_id, number, department, officer, camera_id, staff_zone_id, customer_zone_id,"
                   " created_at, updated_at")


def get_camera(conn: psycopg.Connection, camera_id: int, user: Principal) -> dict[str, Any]:
    """The camera (never its password), or 404 when unknown or outside the user's sites."""
    row = conn.execute(f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE id = %s", (camera_id,)).fetchone()
    if row is None:
        raise ApiProblem(404, "camera not found", code="camera_not_found")
    user.visible(row["site_id"], "camera")
    return row


def get_zone(conn: psycopg.Connection, zone_id: int, user: Principal) -> dict[str, Any]:
    row = conn.execute(f"SELECT {ZONE_COLUMNS}, c.site_id FROM zones z JOIN cameras c ON c.id = z.camera_id"
                       " WHERE z.id = %s", (zone_id,)).fetchone()
    if row is None:
        raise ApiProblem(404, "zone not found", code="zone_not_found")
    user.visible(row["site_id"], "zone")
    return row


def get_counter(conn: psycopg.Connection, counter_id: int, user: Principal) -> dict[str, Any]:
    row = conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters WHERE id = %s", (counter_id,)).fetchone()
    if row is None:
        raise ApiProblem(404, "counter not found", code="counter_not_found")
    user.visible(row["site_id"], "counter")
    return row


def camera_stream(conn: psycopg.Connection, camera_id: int) -> dict[str, Any] | None:
    """Where a picture of the camera is taken from (no scope check: the caller did it)."""
    return conn.execute("SELECT main_uri, sub_uri, username FROM cameras WHERE id = %s", (camera_id,)).fetchone()


def camera_zones(conn: psycopg.Connection, camera_id: int) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {ZONE_COLUMNS} FROM zones z WHERE z.camera_id = %s ORDER BY z.name",
                        (camera_id,)).fetchall()


def encrypt_password(settings: Settings, password: str) -> bytes:
    """The stored form of a camera password (cameras.crypto, key in ``settings.key_file``)."""
    from cameras.crypto import encrypt_password as encrypt

    return encrypt(password, settings.key_file)


def camera_password(settings: Settings, conn: psycopg.Connection, camera_id: int) -> str | None:
    """The clear password of a camera, on its way to the camera only (never returned by the API)."""
    from cameras.crypto import decrypt_password

    row = conn.execute("SELECT password_enc FROM cameras WHERE id = %s", (camera_id,)).fetchone()
    return decrypt_password(row["password_enc"], settings.key_file) if row and row["password_enc"] else None
