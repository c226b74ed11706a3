"""Analytics rules: each is fed one camera's tracks and the wall clock, and returns events, observations
and counter sessions (see ``base.py`` for the interface, the event lifecycle and the evidence contract).

``build_rules`` makes a camera's rules from its zones: which rules a zone kind gets by default is in
``DEFAULT_RULES``; a zone's ``thresholds["rules"]`` (a list of rule names) overrides it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cameras.geometry import ZoneSpec
from core.types import ZoneKind

from .base import AlwaysOpen, OpenHours, Rule, RuleOutput, SnapshotRequest
from .counter import CounterSpec
from .hall import HallRule
from .street import CongestionRule, StoppedVehicleRule, WrongWayRule
from .zones import CrowdRule, IntrusionRule, LineCountRule, LoiteringRule

__all__ = ["AlwaysOpen", "CounterSpec", "HallRule", "OpenHours", "Rule", "RuleOutput", "SnapshotRequest",
           "build_rules"]

ZoneRuleClass = Callable[[int | None, ZoneSpec, int | None], Rule]  # (camera id, zone, site id) -> the rule
ZONE_RULES: dict[str, ZoneRuleClass] = {
    "stopped_vehicle": StoppedVehicleRule,
    "wrong_way": WrongWayRule,
    "congestion": CongestionRule,
    "crowd": CrowdRule,
    "intrusion": IntrusionRule,
    "loitering": LoiteringRule,
    "line_count": LineCountRule,
}
DEFAULT_RULES: dict[ZoneKind, tuple[str, ...]] = {
    ZoneKind.NO_STOPPING: ("stopped_vehicle",),
    ZoneKind.LANE: ("wrong_way", "congestion"),
    ZoneKind.CROWD: ("crowd",),
    ZoneKind.RESTRICTED: ("intrusion", "loitering"),
    ZoneKind.LINE: ("line_count",),
}


def build_rules(camera_id: int | None, zones: Sequence[ZoneSpec], counters: Sequence[Mapping[str, Any]] = (),
                calendar: OpenHours | None = None, site_id: int | None = None,
                capacity: int | None = None) -> list[Rule]:
    """The rules of one camera.

    ``counters`` are rows with ``id``, ``staff_zone_id`` and ``customer_zone_id`` (as in the ``counters``
    table); their zones and the camera's queue zones make one ``HallRule`` driven by ``calendar`` (the
    site's working hours). Street zones get their kind's rules (``DEFAULT_RULES``).
    """
    rules: list[Rule] = []
    by_id = {z.id: z for z in zones if z.id is not None}
    specs = []
    for row in counters:
        staff, customer = by_id.get(row.get("staff_zone_id")), by_id.get(row.get("customer_zone_id"))
        if staff is None or customer is None:
            raise ValueError(f"counter {row.get('id')}: its staff and customer zones must be zones of "
                             f"camera {camera_id}")
        specs.append(CounterSpec(int(row["id"]), staff, customer, row.get("queue_zones")))
    queues = [z for z in zones if z.kind == ZoneKind.QUEUE]
    if specs or queues:
        rules.append(HallRule(camera_id, specs, queues, calendar, site_id, capacity=capacity))
    for zone in zones:
        names = zone.thresholds.get("rules", DEFAULT_RULES.get(zone.kind, ()))
        for name in names:
            if name not in ZONE_RULES:
                raise ValueError(f"zone '{zone.name}': unknown rule {name!r} (one of {', '.join(ZONE_RULES)})")
            rules.append(ZONE_RULES[name](camera_id, zone, site_id))
    return rules
