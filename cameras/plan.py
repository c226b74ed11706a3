"""A camera's plan: everything analytics needs to know about one camera to build its rules and run it.

Built once from wherever the camera is defined — the registry (``store.plans.load_camera_plan``, for the
vision worker), a YAML file (``vision.camera_config.CameraConfig.plan``, for ``vigil analyze``) or a scripted
scenario (``scenarios.evaluate``) — and read by ``vision.rules.build_rules(plan)`` and the engine's set-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.calendar import WorkingCalendar
from core.settings import IngestSettings
from core.types import ZoneKind

COUNTER_ZONES = frozenset({ZoneKind.COUNTER_STAFF, ZoneKind.COUNTER_CUSTOMER, ZoneKind.QUEUE})


class CameraRole(StrEnum):
    """What a camera watches, which sets its default analytics rate (``ingest.counter_fps``/``street_fps``)."""

    COUNTER = "counter"  # service counters, their queues: people standing and walking indoors
    STREET = "street"  # roads, lanes, lawns, plazas: vehicles and walkers crossing the view
    OTHER = "other"  # no zones: tracks only (``ingest.analytics_fps``)


def camera_role(zones: tuple[ZoneSpec, ...] | list[ZoneSpec], counters: tuple[object, ...] = ()) -> CameraRole:
    """A camera with counters or counter/queue zones watches counters; one with any other zone a street."""
    if counters or any(z.kind in COUNTER_ZONES for z in zones):
        return CameraRole.COUNTER
    return CameraRole.STREET if zones else CameraRole.OTHER


def role_fps(role: CameraRole, ingest: IngestSettings) -> float:
    """The default analytics rate of a camera of this role."""
    return {CameraRole.COUNTER: ingest.counter_fps, CameraRole.STREET: ingest.street_fps}.get(
        role, ingest.analytics_fps)


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

    @property
    def role(self) -> CameraRole:
        return camera_role(self.zones, self.counters)

    def analytics_fps(self, ingest: IngestSettings) -> float:
        """The camera's own rate when it has one, else its role's default."""
        own = self.source.analytics_fps if self.source is not None else None
        return own or role_fps(self.role, ingest)

    def __post_init__(self) -> None:
        # Callers hand lists; a plan is a value and keeps tuples.
        object.__setattr__(self, "zones", tuple(self.zones))
        object.__setattr__(self, "counters", tuple(self.counters))
