"""A camera's plan: everything analytics needs to know about one camera to build its rules and run it.

Built once from wherever the camera is defined — the registry (``store.plans.load_camera_plan``, for the
vision worker), a YAML file (``vision.camera_config.CameraConfig.plan``, for ``vigil analyze``) or a scripted
scenario (``scenarios.evaluate``) — and read by ``vision.rules.build_rules(plan)`` and the engine's set-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.calendar import WorkingCalendar


@dataclass(frozen=True)
class CounterPlan:
    """A service counter the camera watches: the ids of its officer's and its citizens' zones on this camera."""

    id: int
    staff_zone_id: int | None
    customer_zone_id: int | None
    queue_zones: tuple[str, ...] | None = None  # names of the queue zones that feed it; None: all of the hall


@dataclass(frozen=True)
class CameraPlan:
    """One camera, its zones and counters, and its site's working calendar and capacity."""

    camera_id: int
    zones: tuple[ZoneSpec, ...] = ()
    counters: tuple[CounterPlan, ...] = ()
    calendar: WorkingCalendar | None = None  # the site's working hours; None: always open
    site_id: int | None = None
    name: str = ""
    source: CameraSource | None = None  # where frames come from; None when the caller feeds them (a video file)
    capacity: int | None = None  # people the site's hall holds (the hall rule's overcrowding threshold)

    def __post_init__(self) -> None:
        # Callers hand lists; a plan is a value and keeps tuples.
        object.__setattr__(self, "zones", tuple(self.zones))
        object.__setattr__(self, "counters", tuple(self.counters))
