"""The registry: sites, cameras, counters and zones in PostgreSQL, for the CLI, the API and the workers.

Plain functions over a psycopg connection (dict rows, autocommit or inside the caller's transaction).
Objects are found by id or by their human key: a site by ``code``, a camera by ``site/name``, a zone by
its name on a camera, a counter by its number in a site. Camera passwords go in and out only through a
``cameras.crypto.SecretBox``; no function here returns a clear password except ``camera_source``,
which hands the reader the credentials it needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cameras.crypto import CredentialError, SecretBox
from cameras.geometry import ZoneSpec, make_zone
from cameras.models import CameraRecord, CameraSource, CounterRecord, SiteKind, SiteRecord, SourceKind
from core import media
from core.calendar import CalendarError, WorkingCalendar, check_timezone
from store import errors

# The columns of each registry table as every reader gets them (a camera's password only as has_password).
SITE_COLUMNS = ("id, code, name, kind, level, province_id, address, latitude, longitude, timezone, working_hours,"
                " capacity, created_at, updated_at")
CAMERA_COLUMNS = ("id, site_id, name, source_kind, onvif_host, onvif_port, username,"
                  " password_enc IS NOT NULL AS has_password, main_uri, sub_uri, snapshot_uri, analytics_fps,"
                  " enabled, position, info, snapshot_path, state, state_since, lease_owner, lease_expires,"
                  " created_at, updated_at")
COUNTER_COLUMNS = ("id, site_id, number, department, officer, camera_id, staff_zone_id, customer_zone_id,"
                   " created_at, updated_at")
ZONE_COLUMNS = "id, camera_id, name, kind, geometry, direction, classes, thresholds, schedule, created_at, updated_at"
KEEP_PASSWORD: Any = object()  # save_camera: leave the stored password as it is


class RegistryError(ValueError):
    """A registry change that cannot be made; the message names the object."""


class NotFound(RegistryError, errors.NotFound):
    """No such site, camera, counter or zone."""

    def __init__(self, message: str, what: str = "object") -> None:
        errors.NotFound.__init__(self, what, message)


# -- sites -----------------------------------------------------------------------------------------------
def _site(row: dict[str, Any]) -> SiteRecord:
    return SiteRecord(code=row["code"], name=row["name"], kind=SiteKind(row["kind"]), level=row["level"],
                      address=row["address"], latitude=row["latitude"], longitude=row["longitude"],
                      timezone=row["timezone"], working_hours=row["working_hours"] or {},
                      capacity=row["capacity"], id=row["id"])


def _site_values(site: SiteRecord) -> dict[str, Any]:
    try:
        check_timezone(site.timezone)
    except CalendarError as exc:
        raise RegistryError(f"site '{site.code}'.timezone: {exc}") from None
    hours = WorkingCalendar.from_dict(site.working_hours or {}, field=f"site '{site.code}'.working_hours",
                                      default_timezone=site.timezone).to_dict() if site.working_hours else {}
    return {"code": site.code, "name": site.name, "kind": SiteKind(site.kind).value, "level": site.level,
            "address": site.address, "latitude": site.latitude, "longitude": site.longitude,
            "timezone": site.timezone, "working_hours": Jsonb(hours), "capacity": site.capacity}


def save_site(conn: psycopg.Connection, site: SiteRecord) -> SiteRecord:
    """Create the site, or update the one with the same code; returns it with its id."""
    values = _site_values(site)
    columns = ", ".join(values)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c != "code")
    try:
        row = conn.execute(
            f"INSERT INTO sites ({columns}) VALUES ({', '.join(f'%({c})s' for c in values)})"
            f" ON CONFLICT (code) DO UPDATE SET {updates}, updated_at = now() RETURNING {SITE_COLUMNS}",
            values).fetchone()
    except psycopg.errors.CheckViolation as exc:
        raise RegistryError(f"site '{site.code}': {_constraint(exc)}") from None
    return _site(row)


def get_site(conn: psycopg.Connection, key: int | str) -> SiteRecord:
    """A site by id or code."""
    column = "id" if isinstance(key, int) else "code"
    row = conn.execute(f"SELECT {SITE_COLUMNS} FROM sites WHERE {column} = %s", (key,)).fetchone()
    if row is None:
        raise NotFound(f"no site {key!r}")
    return _site(row)


def list_sites(conn: psycopg.Connection) -> list[SiteRecord]:
    return [_site(r) for r in conn.execute(f"SELECT {SITE_COLUMNS} FROM sites ORDER BY code").fetchall()]


def delete_site(conn: psycopg.Connection, code: str) -> None:
    """Delete a site that has no cameras any more (its counters go with it)."""
    site = get_site(conn, code)
    try:
        conn.execute("DELETE FROM sites WHERE id = %s", (site.id,))
    except psycopg.errors.ForeignKeyViolation:
        raise RegistryError(f"site '{code}' still has cameras: remove them first") from None


# -- cameras ---------------------------------------------------------------------------------------------
def _camera(row: dict[str, Any]) -> CameraRecord:
    names = {f.name for f in fields(CameraRecord)}
    data = {k: v for k, v in row.items() if k in names}
    data["source_kind"] = SourceKind(row["source_kind"])
    data["info"] = row["info"] or {}
    return CameraRecord(**data)


def _camera_values(camera: CameraRecord) -> dict[str, Any]:
    if not camera.name.strip():
        raise RegistryError("a camera needs a name")
    if camera.source_kind == SourceKind.ONVIF and not camera.onvif_host:
        raise RegistryError(f"camera '{camera.name}': an ONVIF camera needs its host")
    if camera.source_kind != SourceKind.ONVIF and not camera.main_uri:
        raise RegistryError(f"camera '{camera.name}': a {camera.source_kind.value} camera needs its URI or file")
    return {"site_id": camera.site_id, "name": camera.name, "source_kind": SourceKind(camera.source_kind).value,
            "onvif_host": camera.onvif_host, "onvif_port": camera.onvif_port, "username": camera.username,
            "main_uri": camera.main_uri, "sub_uri": camera.sub_uri, "snapshot_uri": camera.snapshot_uri,
            "analytics_fps": camera.analytics_fps, "enabled": camera.enabled,
            "position": Jsonb(camera.position) if camera.position is not None else None,
            "info": Jsonb(camera.info or {}), "snapshot_path": camera.snapshot_path}


def save_camera(conn: psycopg.Connection, camera: CameraRecord, password: str | None = KEEP_PASSWORD,
                box: SecretBox | None = None) -> CameraRecord:
    """Create the camera or update the one with the same site and name.

    ``password``: a clear password to encrypt and store (needs ``box``), None to clear it, or left out to
    keep the stored one. A stored ``snapshot_path`` that is the worker's live picture (``core.media.live_picture``)
    is kept: the worker sets it only when it starts the camera, so a re-add or a config import would leave the
    console's tiles without it until the worker restarts.
    """
    values = _camera_values(camera)
    if password is not KEEP_PASSWORD:
        if password is not None and box is None:
            raise RegistryError("storing a camera password needs the key (SecretBox)")
        values["password_enc"] = box.encrypt(password) if password is not None and box is not None else None
    columns = ", ".join(values)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c not in ("site_id", "name", "snapshot_path"))
    updates += (", snapshot_path = CASE WHEN starts_with(cameras.snapshot_path, %(live)s) THEN cameras.snapshot_path"
                " ELSE EXCLUDED.snapshot_path END")
    try:
        row = conn.execute(
            f"INSERT INTO cameras ({columns}) VALUES ({', '.join(f'%({c})s' for c in values)})"
            f" ON CONFLICT (site_id, name) DO UPDATE SET {updates}, updated_at = now() RETURNING {CAMERA_COLUMNS}",
            {**values, "live": media.LIVE_PICTURES}).fetchone()
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"camera '{camera.name}': no site with id {camera.site_id}") from None
    except psycopg.errors.CheckViolation as exc:
        raise RegistryError(f"camera '{camera.name}': {_constraint(exc)}") from None
    return _camera(row)


def get_camera(conn: psycopg.Connection, key: int | str) -> CameraRecord:
    """A camera by id, or by ``site_code/name``."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        row = conn.execute(f"SELECT {CAMERA_COLUMNS} FROM cameras WHERE id = %s", (int(key),)).fetchone()
    else:
        site_code, _, name = key.partition("/")
        if not name:
            raise NotFound(f"camera {key!r}: give it as SITE/NAME or by id")
        row = conn.execute(f"SELECT {', '.join('c.' + c.strip() for c in CAMERA_COLUMNS.split(','))}"
                           " FROM cameras c JOIN sites s ON s.id = c.site_id WHERE s.code = %s AND c.name = %s",
                           (site_code, name)).fetchone()
    if row is None:
        raise NotFound(f"no camera {key!r}")
    return _camera(row)


def list_cameras(conn: psycopg.Connection, site: str | int | None = None,
                 enabled: bool | None = None) -> list[CameraRecord]:
    clauses, params = [], []
    if site is not None:
        clauses.append("site_id = %s")
        params.append(get_site(conn, site).id)
    if enabled is not None:
        clauses.append("enabled = %s")
        params.append(enabled)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(f"SELECT {CAMERA_COLUMNS} FROM cameras{where} ORDER BY site_id, name", params).fetchall()
    return [_camera(r) for r in rows]


def delete_camera(conn: psycopg.Connection, key: int | str) -> None:
    camera = get_camera(conn, key)
    conn.execute("DELETE FROM cameras WHERE id = %s", (camera.id,))


def set_password(conn: psycopg.Connection, key: int | str, password: str | None, box: SecretBox) -> None:
    camera = get_camera(conn, key)
    token = box.encrypt(password) if password is not None else None
    conn.execute("UPDATE cameras SET password_enc = %s, updated_at = now() WHERE id = %s", (token, camera.id))


def camera_source(conn: psycopg.Connection, key: int | str, box: SecretBox | None) -> CameraSource:
    """What a reader needs for this camera: the analytics stream (or file) with its credentials decrypted."""
    camera = get_camera(conn, key)
    row = conn.execute("SELECT password_enc FROM cameras WHERE id = %s", (camera.id,)).fetchone()
    return _source(camera, row["password_enc"], box)


def camera_sources(conn: psycopg.Connection, box: SecretBox | None, enabled_only: bool = True) -> list[CameraSource]:
    rows = conn.execute(f"SELECT {CAMERA_COLUMNS}, password_enc FROM cameras"
                        f"{' WHERE enabled' if enabled_only else ''} ORDER BY id").fetchall()
    return [_source(_camera(r), r["password_enc"], box) for r in rows]


def _source(camera: CameraRecord, token: bytes | None, box: SecretBox | None) -> CameraSource:
    uri = camera.analytics_uri
    if not uri:
        raise RegistryError(f"camera '{camera.name}' has no stream URI yet (probe or add it again)")
    if camera.source_kind == SourceKind.FILE:
        return dataclasses.replace(CameraSource.from_file(camera.id or 0, uri, analytics_fps=camera.analytics_fps,
                                                          name=camera.name), site_id=camera.site_id)
    password = None
    if token is not None:
        if box is None:
            raise RegistryError(f"camera '{camera.name}' has a stored password: the key is needed to use it")
        try:
            password = box.decrypt(token)
        except CredentialError as exc:
            raise RegistryError(f"camera '{camera.name}': {exc}") from None
    source = CameraSource.from_rtsp(camera.id or 0, uri, analytics_fps=camera.analytics_fps, name=camera.name,
                                    kind=camera.source_kind)
    return dataclasses.replace(source, site_id=camera.site_id, username=camera.username or source.username,
                               password=password if camera.username else source.password)


def set_camera_state(conn: psycopg.Connection, camera_id: int, state: str) -> None:
    """Record a camera's current state (online, offline, ...) for the console; ``state_since`` moves on change
    (an unchanged state writes nothing)."""
    conn.execute("UPDATE cameras SET state = %s, state_since = now() WHERE id = %s AND state IS DISTINCT FROM %s",
                 (state, camera_id, state))


# -- counters --------------------------------------------------------------------------------------------
def _counter(row: dict[str, Any]) -> CounterRecord:
    return CounterRecord(**{f.name: row[f.name] for f in fields(CounterRecord)})


def save_counter(conn: psycopg.Connection, counter: CounterRecord) -> CounterRecord:
    """Create the counter or update the one with the same number in its site."""
    values = {f.name: getattr(counter, f.name) for f in fields(CounterRecord) if f.name != "id"}
    columns = ", ".join(values)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c not in ("site_id", "number"))
    try:
        row = conn.execute(
            f"INSERT INTO counters ({columns}) VALUES ({', '.join(f'%({c})s' for c in values)})"
            f" ON CONFLICT (site_id, number) DO UPDATE SET {updates}, updated_at = now() RETURNING {COUNTER_COLUMNS}",
            values).fetchone()
    except psycopg.errors.CheckViolation as exc:
        raise RegistryError(f"counter {counter.number}: {_constraint(exc)}") from None
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"counter {counter.number}: its site, camera or zone does not exist") from None
    return _counter(row)


def list_counters(conn: psycopg.Connection, site: str | int | None = None) -> list[CounterRecord]:
    if site is None:
        rows = conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters ORDER BY site_id, number").fetchall()
    else:
        rows = conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters WHERE site_id = %s ORDER BY number",
                            (get_site(conn, site).id,)).fetchall()
    return [_counter(r) for r in rows]


def counters_watched(conn: psycopg.Connection, camera_id: int) -> list[CounterRecord]:
    """The counters this camera watches (its zones are their staff and customer zones)."""
    rows = conn.execute(f"SELECT {COUNTER_COLUMNS} FROM counters WHERE camera_id = %s ORDER BY number",
                        (camera_id,)).fetchall()
    return [_counter(r) for r in rows]


def delete_counter(conn: psycopg.Connection, site: str | int, number: int) -> None:
    result = conn.execute("DELETE FROM counters WHERE site_id = %s AND number = %s", (get_site(conn, site).id, number))
    if result.rowcount == 0:
        raise NotFound(f"no counter {number} in site {site!r}")


# -- zones -----------------------------------------------------------------------------------------------
def _zone(row: dict[str, Any]) -> ZoneSpec:
    spec = make_zone(row["name"], row["kind"], row["geometry"], row["direction"], row["classes"], None,
                     row["schedule"], id=row["id"])
    # Thresholds stored before they were checked stay as they are: a worker keeps its camera, and the zone
    # editor shows them and asks for a fix at the next save.
    return dataclasses.replace(spec, thresholds=row["thresholds"] or {})


def save_zone(conn: psycopg.Connection, camera_id: int, zone: ZoneSpec) -> ZoneSpec:
    """Create the zone or update the camera's zone of the same name; returns it with its id."""
    if zone.schedule:
        WorkingCalendar.from_dict(zone.schedule, field=f"zone '{zone.name}'.schedule")
    values = {"camera_id": camera_id, "name": zone.name, "kind": zone.kind.value,
              "geometry": Jsonb([list(p) for p in zone.points]),
              "direction": Jsonb(list(zone.direction)) if zone.direction else None,
              "classes": sorted(zone.classes) if zone.classes is not None else None,
              "thresholds": Jsonb(dict(zone.thresholds)),
              "schedule": Jsonb(dict(zone.schedule)) if zone.schedule else None}
    columns = ", ".join(values)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c not in ("camera_id", "name"))
    try:
        row = conn.execute(
            f"INSERT INTO zones ({columns}) VALUES ({', '.join(f'%({c})s' for c in values)})"
            f" ON CONFLICT (camera_id, name) DO UPDATE SET {updates}, updated_at = now() RETURNING {ZONE_COLUMNS}",
            values).fetchone()
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound(f"zone '{zone.name}': no camera with id {camera_id}") from None
    return _zone(row)


def list_zones(conn: psycopg.Connection, camera_id: int) -> list[ZoneSpec]:
    rows = conn.execute(f"SELECT {ZONE_COLUMNS} FROM zones WHERE camera_id = %s ORDER BY name", (camera_id,))
    return [_zone(r) for r in rows.fetchall()]


def delete_zone(conn: psycopg.Connection, camera_id: int, name: str) -> None:
    result = conn.execute("DELETE FROM zones WHERE camera_id = %s AND name = %s", (camera_id, name))
    if result.rowcount == 0:
        raise NotFound(f"no zone '{name}' on camera {camera_id}")


def _constraint(exc: psycopg.Error) -> str:
    diag = exc.diag
    return f"a value breaks the rule {diag.constraint_name}" if diag.constraint_name else str(exc).splitlines()[0]
