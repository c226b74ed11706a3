"""One camera and its zones from a YAML file, for ``vigil analyze --camera-config FILE``.

The file is the YAML that ``vigil config export`` writes for one camera. Until the cameras engineer's
exporter lands, this reads the documented shape below; the parsing lives in this one function so it can
switch to theirs::

    camera:
      id: 7                 # optional (default 1)
      name: gate-north      # optional
      analytics_fps: 5      # optional
      zones:                # or a top-level "zones:" list
        - name: road
          kind: no_stopping           # a vigil.types.ZoneKind
          points: [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]
          classes: [car, truck]       # optional
          thresholds: {stop_s: 30}    # optional, per rule
        - name: door
          kind: line
          points: [[0.2, 0.6], [0.8, 0.6]]
          direction: [0, 1]           # the "in" direction

Every zone goes through ``cameras.geometry.make_zone``: invalid geometry is refused with the zone named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cameras.geometry import GeometryError, ZoneSpec, make_zone


class CameraConfigError(ValueError):
    """The file cannot be used; the message names the file and the zone or key at fault."""


@dataclass
class CameraConfig:
    camera_id: int = 1
    name: str = ""
    analytics_fps: float | None = None
    zones: list[ZoneSpec] = field(default_factory=list)
    site: dict[str, Any] = field(default_factory=dict)


def load_camera_config(path: Path) -> CameraConfig:
    """Read and validate one camera and its zones; raise CameraConfigError naming what is wrong."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CameraConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CameraConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(document, dict):
        raise CameraConfigError(f"{path}: the top level must be a mapping")
    camera = document.get("camera") or {}
    if isinstance(document.get("cameras"), list):  # an export of several cameras: exactly one is expected
        if len(document["cameras"]) != 1:
            raise CameraConfigError(f"{path}: holds {len(document['cameras'])} cameras; give a file with one")
        camera = document["cameras"][0]
    if not isinstance(camera, dict):
        raise CameraConfigError(f"{path}: 'camera' must be a mapping")
    raw_zones = camera.get("zones", document.get("zones", [])) or []
    if not isinstance(raw_zones, list):
        raise CameraConfigError(f"{path}: 'zones' must be a list")
    zones = [_zone(path, i, item) for i, item in enumerate(raw_zones)]
    names = [z.name for z in zones]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise CameraConfigError(f"{path}: zone '{duplicate}' is defined twice")
    try:
        camera_id = int(camera.get("id", 1))
        fps = camera.get("analytics_fps")
        fps = None if fps is None else float(fps)
    except (TypeError, ValueError):
        raise CameraConfigError(f"{path}: camera.id must be an integer and analytics_fps a number") from None
    site = document.get("site") if isinstance(document.get("site"), dict) else {}
    return CameraConfig(camera_id, str(camera.get("name", "")), fps, zones, site or {})


def _zone(path: Path, index: int, item: Any) -> ZoneSpec:
    if not isinstance(item, dict):
        raise CameraConfigError(f"{path}: zones[{index}] must be a mapping")
    unknown = set(item) - {"name", "kind", "points", "direction", "classes", "thresholds", "schedule", "id"}
    if unknown:
        raise CameraConfigError(f"{path}: zone '{item.get('name', index)}': unknown key {sorted(unknown)[0]!r}")
    try:
        return make_zone(item.get("name", ""), item.get("kind", ""), item.get("points") or [],
                         direction=item.get("direction"), classes=item.get("classes"),
                         thresholds=item.get("thresholds"), schedule=item.get("schedule"),
                         id=item.get("id", index + 1))
    except GeometryError as exc:
        raise CameraConfigError(f"{path}: {exc}") from None
