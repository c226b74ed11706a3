"""Street incidents on vehicles: stopped_vehicle, wrong_way and congestion.

Each rule watches one zone of one camera. Speeds and distances are in normalized image units (the
image's width and height are 1), so thresholds are set per camera on its own view. Thresholds (keys of
the zone's ``thresholds``) and their defaults are in each class's ``DEFAULTS``; every rule also takes
``severity``, ``clear_s`` (the condition must be gone this long to close), ``cooldown_s`` and
``update_every_s``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from cameras.geometry import ZoneSpec
from core.types import VEHICLE_CLASSES, Event, EventType, Severity, Track

from .base import IncidentLatch, RuleOutput, emit, live_tracks, setting, severity_of
from .identity import Identities, Identity

LIFECYCLE_DEFAULTS: dict[str, float] = {"clear_s": 3.0, "cooldown_s": 30.0, "update_every_s": 30.0,
                                         "reassoc_gap_s": 6.0, "reassoc_distance": 0.06}


class ZoneRule:
    """Shared plumbing: one zone, its classes, identities across track breaks, keyed incident latches."""

    name = "zone"
    event_type: EventType = EventType.INTRUSION
    default_classes: frozenset[str] = VEHICLE_CLASSES
    default_severity: Severity = Severity.MEDIUM
    DEFAULTS: ClassVar[dict[str, float]] = {}

    def __init__(self, camera_id: int | None, zone: ZoneSpec, site_id: int | None = None,
                 thresholds: Mapping[str, Any] | None = None) -> None:
        self.camera_id, self.zone, self.site_id = camera_id, zone, site_id
        self.t: dict[str, Any] = {**LIFECYCLE_DEFAULTS, **self.DEFAULTS, **zone.thresholds, **(thresholds or {})}
        self.classes = zone.classes or self.default_classes
        self.severity = severity_of(self.t, self.default_severity)
        self.identities = Identities(self.value("reassoc_gap_s"), self.value("reassoc_distance"))
        self.latches: dict[Any, IncidentLatch] = {}

    def value(self, key: str) -> float:
        return setting(self.t, key, self.DEFAULTS.get(key, LIFECYCLE_DEFAULTS.get(key, 0.0)))

    def follow(self, tracks: Sequence[Track], now: datetime) -> list[Identity]:
        """Identities of the rule's classes visible this frame."""
        ts = now.timestamp()
        return self.identities.update([t for t in live_tracks(tracks, ts) if t.class_name in self.classes], ts)

    def latch(self, key: Any, hold_s: float) -> IncidentLatch:
        if key not in self.latches:
            self.latches[key] = IncidentLatch(hold_s, self.value("clear_s"), self.value("cooldown_s"),
                                              self.value("update_every_s"))
        return self.latches[key]

    def make_event(self, start: datetime, track_id: int | None = None) -> Event:
        return Event(type=self.event_type, camera_id=self.camera_id, start=start, severity=self.severity,
                     zone_id=self.zone.id, site_id=self.site_id, track_id=track_id,
                     attributes={"zone": self.zone.name})

    def step_keys(self, active: Mapping[Any, Mapping[str, Any]], now: datetime, hold_s: float,
                  out: RuleOutput, since: Mapping[Any, datetime] | None = None) -> None:
        """Advance one latch per key (a track, or the zone itself); forget idle latches."""
        for key in set(active) | set(self.latches):
            latch = self.latch(key, hold_s)
            track_id = key if isinstance(key, int) else None
            event = latch.step(key in active, now, lambda s, k=track_id: self.make_event(s, k),
                               active.get(key), since=(since or {}).get(key))
            emit(out, event, now, (track_id,) if track_id is not None else ())
            if key not in active and not latch.is_open and latch.onset is None and (
                    latch.closed_at is None or (now - latch.closed_at).total_seconds() > self.value("cooldown_s")):
                del self.latches[key]

    def close(self, now: datetime) -> RuleOutput:
        out = RuleOutput()
        for latch in self.latches.values():
            emit(out, latch.close(now), now)
        return out


class StoppedVehicleRule(ZoneRule):
    """A vehicle whose foot point stays within ``still_radius`` for ``still_s`` seconds in a no-stopping zone."""

    name = "stopped_vehicle"
    event_type = EventType.STOPPED_VEHICLE
    # A parked vehicle may be hidden behind passing traffic for a while: identities are kept longer.
    DEFAULTS: ClassVar[dict[str, float]] = {"still_s": 30.0, "still_radius": 0.02, "reassoc_gap_s": 15.0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.anchors: dict[int, tuple[float, float, datetime]] = {}  # identity -> where and since it is still

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        radius = self.value("still_radius")
        stopped: dict[int, dict[str, Any]] = {}
        since: dict[int, datetime] = {}
        for identity in self.follow(tracks, now):
            if not self.zone.contains(identity.foot):
                self.anchors.pop(identity.id, None)
                continue
            x, y = identity.foot
            anchor = self.anchors.get(identity.id)
            if anchor is None or math.hypot(x - anchor[0], y - anchor[1]) > radius:
                anchor = self.anchors[identity.id] = (x, y, now)
                if self.latch(identity.id, self.value("still_s")).is_open:
                    continue  # it drove on: the stop is over
            since[identity.id] = anchor[2]
            stopped[identity.id] = {"class": identity.class_name, "still_s": round((now - anchor[2]).total_seconds())}
        # A vehicle hidden for a moment (a bus passing in front) is still stopped where it was.
        for identity in self.identities.lost(now.timestamp()):
            if identity.id in self.anchors and self.latch(identity.id, self.value("still_s")).is_open:
                stopped[identity.id] = {}
        for identity_id in [i for i in self.anchors if self.identities.get(i) is None]:
            del self.anchors[identity_id]
        self.step_keys(stopped, now, self.value("still_s"), out, since)
        return out


class WrongWayRule(ZoneRule):
    """A track in a lane moving against its direction for ``min_distance`` (over ``window_s``)."""

    name = "wrong_way"
    event_type = EventType.WRONG_WAY
    default_severity = Severity.HIGH
    DEFAULTS: ClassVar[dict[str, float]] = {"min_distance": 0.08, "window_s": 6.0, "max_angle_deg": 60.0,
                                            "clear_s": 3.0}

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        assert self.zone.direction is not None
        dx_lane, dy_lane = self.zone.direction
        cos_limit = math.cos(math.radians(self.value("max_angle_deg")))
        against: dict[int, dict[str, Any]] = {}
        for identity in self.follow(tracks, now):
            if not self.zone.contains(identity.foot):
                continue
            dx, dy = identity.displacement(self.value("window_s"))
            distance = math.hypot(dx, dy)
            if distance >= self.value("min_distance") and -(dx * dx_lane + dy * dy_lane) / distance >= cos_limit:
                against[identity.id] = {"class": identity.class_name, "distance": round(distance, 3)}
        self.step_keys(against, now, 0.0, out)
        return out


class CongestionRule(ZoneRule):
    """More than ``max_vehicles`` in the zone with a median speed under ``max_speed`` for ``hold_s``."""

    name = "congestion"
    event_type = EventType.CONGESTION
    DEFAULTS: ClassVar[dict[str, float]] = {"max_vehicles": 10.0, "max_speed": 0.02, "hold_s": 60.0,
                                            "clear_s": 20.0, "cooldown_s": 120.0}

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        inside = [i for i in self.follow(tracks, now) if self.zone.contains(i.foot)]
        speeds = [s for s in (i.speed() for i in inside) if s is not None]
        median = statistics.median(speeds) if speeds else None
        jammed = len(inside) > self.value("max_vehicles") and median is not None and median < self.value("max_speed")
        active = {"zone": {"vehicles": len(inside), "median_speed": round(median or 0.0, 4)}} if jammed else {}
        self.step_keys(active, now, self.value("hold_s"), out)
        return out
