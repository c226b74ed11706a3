"""One camera and its zones from a YAML file, for ``vigil analyze --camera-config FILE``.

The file is the YAML that ``vigil config export`` writes (store/config_io.py), cut to one camera: its
``sites`` list holds one site with one camera (cameras are keyed by name there; zone ids are their order,
from 1). A short form for hand-written files is accepted too::

    camera:
      id: 7                 # optional (default 1)
      name: gate-north      # optional
      analytics_fps: 5      # optional
      zones:                # or a top-level "zones:" list
        - name: road
          kind: no_stopping           # a core.types.ZoneKind
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
from cameras.plan import CameraPlan, CounterPlan
from core.calendar import WorkingCalendar


class CameraConfigError(ValueError):
    """The file cannot be used; the message names the file and the zone or key at fault."""


@dataclass
class CameraConfig:
    camera_id: int = 1
    name: str = ""
    analytics_fps: float | None = None
    zones: list[ZoneSpec] = field(default_factory=list)
    site: dict[str, Any] = field(default_factory=dict)

    def plan(self) -> CameraPlan:
        """The camera's plan: its zones, the counters of its site whose ``camera`` is this one (zones by name;
        id: the registry's, else the counter number) and the site's working hours and capacity.
        Raises ValueError (a ``CalendarError`` for the working hours) naming what is wrong."""
        by_name = {z.name: z.id for z in self.zones}
        counters = []
        for row in self.site.get("counters") or []:
            if not isinstance(row, dict) or row.get("camera") != self.name:
                continue
            try:
                number = int(row.get("id", row.get("number")))
            except (TypeError, ValueError):
                raise ValueError(f"counter {row.get('id', row.get('number'))!r}: needs a number") from None
            counters.append(CounterPlan(number, by_name.get(row.get("staff_zone")),
                                        by_name.get(row.get("customer_zone"))))
        calendar = WorkingCalendar.from_dict(self.site.get("working_hours"),
                                             default_timezone=self.site.get("timezone", "Asia/Ho_Chi_Minh"))
        return CameraPlan(self.camera_id, tuple(self.zones), tuple(counters), calendar, name=self.name,
                          capacity=self.site.get("capacity"))


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
    site: dict[str, Any] = {}
    if isinstance(document.get("sites"), list):  # `vigil config export`: exactly one camera is expected
        found = [(s, c) for s in document["sites"] if isinstance(s, dict)
                 for c in (s.get("cameras") or []) if isinstance(c, dict)]
        if len(found) != 1:
            names = ", ".join(str(c.get("name")) for _, c in found) or "none"
            raise CameraConfigError(f"{path}: holds {len(found)} cameras ({names}); give a file with one")
        site, camera = found[0]
        site = {k: v for k, v in site.items() if k != "cameras"}
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
    if not site and isinstance(document.get("site"), dict):
        site = document["site"]
    return CameraConfig(camera_id, str(camera.get("name", "")), fps, zones, site)


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
