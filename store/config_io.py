"""YAML export and import of a city's set-up: sites, their cameras (with zones) and counters.

The file mirrors the registry one to one, keyed by human names, so it reads well in a git diff::

    version: 1
    sites:
    - code: q1-center
      name: Trung tâm Phục vụ hành chính công Quận 1
      kind: service_center
      working_hours: {weekly: {mon: [["07:30", "11:30"], ["13:30", "17:00"]]}}
      record_days: 30                 # footage kept (optional: record.days); record_event_days likewise
      cameras:
      - name: hall-1
        source: onvif                 # onvif | rtsp | file
        record: continuous            # off | continuous | events (optional, default continuous)
        onvif: {host: 10.0.0.21, port: 80}
        username: admin
        password_env: Q1_HALL1_PASSWORD   # import reads the password from this variable
        zones:
        - {name: counter-1-staff, kind: counter_staff, points: [[0.1, 0.2], [0.3, 0.2], [0.3, 0.5]]}
      counters:
      - {number: 1, department: Tư pháp, camera: hall-1, staff_zone: counter-1-staff}

Passwords are never exported: a camera with a stored password is written with ``password: null`` and
a comment. On import, ``password_env: NAME`` takes it from the environment, a clear ``password`` is
accepted (discouraged), and neither keeps the stored one. A camera whose address moves to another host or
port needs its password given again (``cameras.addresses``): the stored one is never sent to a new address.
Import creates or updates by key and never deletes; it runs in one transaction and every error names its
place (``sites[0].cameras[1].zones[2]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from cameras.addresses import URI_FIELDS, new_addresses
from cameras.crypto import SecretBox
from cameras.geometry import GeometryError, make_zone
from cameras.models import CameraRecord, CounterRecord, SiteKind, SiteRecord, SourceKind, split_credentials
from core.calendar import CalendarError, WorkingCalendar, check_timezone
from store import recordings, registry

FORMAT_VERSION = 1
HEADER = ("# Vigil set-up: sites, cameras, zones and counters (vigil config export).\n"
          "# Camera passwords are never exported. Before `vigil config import`, give each camera that needs\n"
          "# one `password_env: VARIABLE` (read from the environment at import); without it the stored\n"
          "# password is kept, as long as the camera's addresses stay on their hosts and ports.\n")


class ConfigError(ValueError):
    """The file cannot be imported; ``errors`` lists every problem with its place."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ImportReport:
    sites: int = 0
    cameras: int = 0
    zones: int = 0
    counters: int = 0
    passwords_set: int = 0
    warnings: list[str] = field(default_factory=list)


def export_config(conn: psycopg.Connection) -> dict[str, Any]:
    """The whole registry as a plain dict ready for YAML (no passwords)."""
    sites = []
    for site in registry.list_sites(conn):
        cameras = registry.list_cameras(conn, site.id)
        names = {c.id: c.name for c in cameras}
        zone_names: dict[int, str] = {}
        site_out: dict[str, Any] = {"code": site.code, "name": site.name, "kind": site.kind.value}
        for key in ("level", "address", "latitude", "longitude", "capacity"):
            if getattr(site, key) is not None:
                site_out[key] = getattr(site, key)
        keeping = recordings.recording_columns(conn, site.id or 0)
        site_out.update(keeping.pop(None, {}))
        site_out["timezone"] = site.timezone
        if site.working_hours:
            site_out["working_hours"] = site.working_hours
        site_out["cameras"] = []
        for camera in cameras:
            zones = registry.list_zones(conn, camera.id or 0)
            zone_names.update({z.id: z.name for z in zones if z.id is not None})
            site_out["cameras"].append({**_export_camera(camera, zones), **keeping.get(camera.id, {})})
        site_out["counters"] = [_export_counter(c, names, zone_names) for c in registry.list_counters(conn, site.id)]
        sites.append(site_out)
    return {"version": FORMAT_VERSION, "sites": sites}


def _export_camera(camera: CameraRecord, zones: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": camera.name, "source": camera.source_kind.value}
    if camera.onvif_host:
        out["onvif"] = {"host": camera.onvif_host, "port": camera.onvif_port or 80}
    if camera.username:
        out["username"] = camera.username
    if camera.has_password:
        out["password"] = None  # stored encrypted; never exported (see the header)
    for key in ("main_uri", "sub_uri", "snapshot_uri", "analytics_fps", "position"):
        if getattr(camera, key) is not None:
            out[key] = getattr(camera, key)
    out["enabled"] = camera.enabled
    out["zones"] = []
    for zone in zones:
        item: dict[str, Any] = {"name": zone.name, "kind": zone.kind.value, "points": [list(p) for p in zone.points]}
        if zone.direction:
            item["direction"] = list(zone.direction)
        if zone.classes is not None:
            item["classes"] = sorted(zone.classes)
        if zone.thresholds:
            item["thresholds"] = dict(zone.thresholds)
        if zone.schedule:
            item["schedule"] = dict(zone.schedule)
        out["zones"].append(item)
    return out


def _export_counter(counter: CounterRecord, cameras: dict[int | None, str], zones: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"number": counter.number, "department": counter.department}
    if counter.officer:
        out["officer"] = counter.officer
    if counter.camera_id is not None:
        out["camera"] = cameras.get(counter.camera_id)
    if counter.staff_zone_id is not None:
        out["staff_zone"] = zones.get(counter.staff_zone_id)
    if counter.customer_zone_id is not None:
        out["customer_zone"] = zones.get(counter.customer_zone_id)
    return out


def import_config(conn: psycopg.Connection, data: Any, box: SecretBox | None,
                  env: Mapping[str, str] | None = None) -> ImportReport:
    """Create or update everything in ``data`` in one transaction; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    errors = validate_config(data, env)
    if errors:
        raise ConfigError(errors)
    report = ImportReport()
    try:
        with conn.transaction():
            for i, site_data in enumerate(data.get("sites") or []):
                _import_site(conn, site_data, f"sites[{i}]", box, env, report)
    except registry.RegistryError as exc:
        raise ConfigError([str(exc)]) from None
    return report


def _import_site(conn: psycopg.Connection, data: dict[str, Any], where: str, box: SecretBox | None,
                 env: Mapping[str, str], report: ImportReport) -> None:
    site = registry.save_site(conn, SiteRecord(
        code=data["code"], name=data["name"], kind=SiteKind(data.get("kind", "service_center")),
        level=data.get("level"), address=data.get("address"), latitude=data.get("latitude"),
        longitude=data.get("longitude"), timezone=data.get("timezone", "Asia/Ho_Chi_Minh"),
        working_hours=data.get("working_hours") or {}, capacity=data.get("capacity")))
    recordings.set_site_recording(conn, site.id or 0, **{key: data[f"record_{key}"] for key in ("days", "event_days")
                                                          if f"record_{key}" in data})
    report.sites += 1
    camera_ids: dict[str, int] = {}
    zone_ids: dict[tuple[str, str], int] = {}
    for j, cam in enumerate(data.get("cameras") or []):
        onvif = cam.get("onvif") or {}
        record = CameraRecord(
            site_id=site.id or 0, name=cam["name"], source_kind=SourceKind(cam.get("source", "onvif")),
            onvif_host=onvif.get("host"), onvif_port=onvif.get("port"), username=cam.get("username"),
            main_uri=cam.get("main_uri"), sub_uri=cam.get("sub_uri"), snapshot_uri=cam.get("snapshot_uri"),
            analytics_fps=cam.get("analytics_fps"), enabled=cam.get("enabled", True), position=cam.get("position"))
        password: Any = registry.KEEP_PASSWORD
        url_password = _credentials_out_of_uris(record, f"{where}.cameras[{j}]", report)
        if url_password is not None:
            password = url_password
        if cam.get("password_env"):
            password = env[cam["password_env"]]
        elif cam.get("password") is not None:
            password = str(cam["password"])
            report.warnings.append(f"{where}.cameras[{j}]: clear password in the file; prefer password_env")
        if password is not registry.KEEP_PASSWORD:
            if box is None:
                raise ConfigError([f"{where}.cameras[{j}]: a password is given but no key is available"])
            report.passwords_set += 1
        existing = _existing(conn, site.id, record.name)
        if existing:
            record.info = existing["info"]
            if password is registry.KEEP_PASSWORD and existing["has_password"]:
                _check_addresses(existing, record, f"{where}.cameras[{j}]")
        saved = registry.save_camera(conn, record, password, box)
        recordings.set_camera_recording(conn, saved.id or 0, mode=cam.get("record"),
                                        **{key: cam[f"record_{key}"] for key in ("days", "event_days")
                                           if f"record_{key}" in cam})
        camera_ids[saved.name] = saved.id or 0
        report.cameras += 1
        for zone_data in cam.get("zones") or []:
            zone = registry.save_zone(conn, saved.id or 0, _zone_spec(zone_data))
            zone_ids[(saved.name, zone.name)] = zone.id or 0
            report.zones += 1
    for counter in data.get("counters") or []:
        camera_name = counter.get("camera")
        registry.save_counter(conn, CounterRecord(
            site_id=site.id or 0, number=int(counter["number"]), department=counter["department"],
            officer=counter.get("officer"), camera_id=camera_ids.get(camera_name) if camera_name else None,
            staff_zone_id=zone_ids.get((camera_name, counter.get("staff_zone"))) if counter.get("staff_zone") else None,
            customer_zone_id=(zone_ids.get((camera_name, counter.get("customer_zone")))
                              if counter.get("customer_zone") else None)))
        report.counters += 1


def _credentials_out_of_uris(record: CameraRecord, where: str, report: ImportReport) -> str | None:
    """Move ``user:password@`` and ``?pwd=`` out of the camera's URIs (the password is stored encrypted);
    the password found, if any."""
    found = None
    for key in ("main_uri", "sub_uri", "snapshot_uri"):
        uri = getattr(record, key)
        if not uri or record.source_kind == SourceKind.FILE:
            continue
        clean, username, password = split_credentials(uri)
        setattr(record, key, clean)
        record.username = record.username or username
        if password is not None and found is None:
            found = password
            report.warnings.append(f"{where}.{key}: a password inside the URL was moved to the encrypted store;"
                                   " prefer password_env")
    return found


def _existing(conn: psycopg.Connection, site_id: int | None, name: str) -> dict[str, Any] | None:
    return conn.execute("SELECT info, main_uri, sub_uri, snapshot_uri, onvif_host, onvif_port,"
                        " password_enc IS NOT NULL AS has_password FROM cameras WHERE site_id = %s AND name = %s",
                        (site_id, name)).fetchone()


def _check_addresses(existing: dict[str, Any], record: CameraRecord, where: str) -> None:
    """The stored password stays only with the addresses it was entered for: moving one needs password_env."""
    change = {key: getattr(record, key) for key in (*URI_FIELDS, "onvif_host", "onvif_port")}
    moved = new_addresses(existing, change)
    if moved:
        key, (host, port) = next(iter(moved.items()))
        raise ConfigError([f"{where}.{key}: moves to {host}:{port}, and the camera has a stored password: give"
                           " password_env for it (the stored password is only sent to the addresses it was entered"
                           " for)"])


def _zone_spec(data: dict[str, Any]) -> Any:
    return make_zone(data.get("name", ""), data.get("kind", ""), data.get("points", []), data.get("direction"),
                     data.get("classes"), data.get("thresholds"), data.get("schedule"))


def validate_config(data: Any, env: Mapping[str, str]) -> list[str]:
    """Every problem in the file, each with its place; empty when it can be imported."""
    if not isinstance(data, Mapping):
        return ["the file must hold a mapping with 'version' and 'sites'"]
    errors: list[str] = []
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        errors.append(f"version: {data.get('version')!r} is not supported (this Vigil reads {FORMAT_VERSION})")
    unknown = sorted(set(data) - {"version", "sites"})
    errors += [f"{key}: unknown key" for key in unknown]
    codes: set[str] = set()
    for i, site in enumerate(data.get("sites") or []):
        where = f"sites[{i}]"
        if not isinstance(site, Mapping):
            errors.append(f"{where}: must be a mapping")
            continue
        for key in ("code", "name"):
            if not site.get(key):
                errors.append(f"{where}.{key}: missing")
        if site.get("code") in codes:
            errors.append(f"{where}.code: '{site['code']}' appears twice")
        codes.add(site.get("code"))
        if site.get("kind", "service_center") not in {k.value for k in SiteKind}:
            errors.append(f"{where}.kind: {site.get('kind')!r} (one of {', '.join(k.value for k in SiteKind)})")
        try:
            check_timezone(site.get("timezone", "Asia/Ho_Chi_Minh"))
        except CalendarError as exc:
            errors.append(f"{where}.timezone: {exc}")
        try:
            WorkingCalendar.from_dict(site.get("working_hours") or {}, field=f"{where}.working_hours")
        except CalendarError as exc:
            errors.append(str(exc))
        errors += _validate_recording(site, where)
        errors += _validate_cameras(site, where, env)
    return errors


def _validate_recording(site: Mapping[str, Any], where: str) -> list[str]:
    """``record``, ``record_days`` and ``record_event_days`` of the site and its cameras."""
    errors = []
    places = [(where, site)] + [(f"{where}.cameras[{j}]", c) for j, c in enumerate(site.get("cameras") or [])
                                if isinstance(c, Mapping)]
    for at, item in places:
        try:
            recordings.check_recording(item.get("record") if at != where else None,
                                       item.get("record_days"), item.get("record_event_days"))
        except recordings.RecordingPolicyError as exc:
            errors.append(f"{at}.{exc.field}: {exc}")
    return errors


def _validate_cameras(site: Mapping[str, Any], where: str, env: Mapping[str, str]) -> list[str]:
    errors: list[str] = []
    zones_by_camera: dict[str, set[str]] = {}
    for j, cam in enumerate(site.get("cameras") or []):
        at = f"{where}.cameras[{j}]"
        if not isinstance(cam, Mapping) or not cam.get("name"):
            errors.append(f"{at}.name: missing")
            continue
        source = cam.get("source", "onvif")
        if source not in {k.value for k in SourceKind}:
            errors.append(f"{at}.source: {source!r} (one of onvif, rtsp, file)")
        elif source == "onvif" and not (cam.get("onvif") or {}).get("host"):
            errors.append(f"{at}.onvif.host: missing (an ONVIF camera needs its address)")
        elif source != "onvif" and not cam.get("main_uri"):
            errors.append(f"{at}.main_uri: missing (a {source} camera needs its URL or file)")
        if cam.get("password_env") and cam["password_env"] not in env:
            errors.append(f"{at}.password_env: the variable {cam['password_env']} is not set")
        names = zones_by_camera.setdefault(cam["name"], set())
        for k, zone in enumerate(cam.get("zones") or []):
            try:
                spec = _zone_spec(zone if isinstance(zone, Mapping) else {})
                names.add(spec.name)
            except GeometryError as exc:
                errors.append(f"{at}.zones[{k}]: {exc}")
    for k, counter in enumerate(site.get("counters") or []):
        at = f"{where}.counters[{k}]"
        if not isinstance(counter, Mapping) or not isinstance(counter.get("number"), int) or not counter.get(
                "department"):
            errors.append(f"{at}: needs a number and a department")
            continue
        camera = counter.get("camera")
        if camera is not None and camera not in zones_by_camera:
            errors.append(f"{at}.camera: no camera '{camera}' in this site")
        for key in ("staff_zone", "customer_zone"):
            if counter.get(key) and counter[key] not in zones_by_camera.get(camera or "", set()):
                errors.append(f"{at}.{key}: no zone '{counter[key]}' on camera '{camera}'")
    return errors
