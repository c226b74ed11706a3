"""Analytics rules: each is fed one camera's tracks and the wall clock, and returns events, observations
and counter sessions (see ``base.py`` for the interface, the event lifecycle and the evidence contract).

``build_rules`` makes a camera's rules from its plan (``cameras.plan.CameraPlan``: zones, counters, calendar):
which rules a zone kind gets by default is in ``DEFAULT_RULES``; a zone's ``thresholds["rules"]`` (a list of
rule names) overrides it.
"""

from __future__ import annotations

from collections.abc import Callable

from cameras.geometry import ZoneSpec
from cameras.plan import CameraPlan
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


def build_rules(plan: CameraPlan) -> list[Rule]:
    """The rules of one camera.

    The plan's counters (their staff and customer zones must be zones of the plan) and the camera's queue
    zones make one ``HallRule`` driven by the plan's calendar (the site's working hours). Street zones get
    their kind's rules (``DEFAULT_RULES``). Raises ValueError naming the counter or zone at fault.
    """
    rules: list[Rule] = []
    by_id = {z.id: z for z in plan.zones if z.id is not None}
    specs = []
    for counter in plan.counters:
        staff, customer = by_id.get(counter.staff_zone_id), by_id.get(counter.customer_zone_id)
        if staff is None or customer is None:
            raise ValueError(f"counter {counter.id}: its staff and customer zones must be zones of "
                             f"camera {plan.camera_id}")
        specs.append(CounterSpec(counter.id, staff, customer, counter.queue_zones))
    queues = [z for z in plan.zones if z.kind == ZoneKind.QUEUE]
    if specs or queues:
        rules.append(HallRule(plan.camera_id, specs, queues, plan.calendar, plan.site_id, capacity=plan.capacity))
    for zone in plan.zones:
        names = zone.thresholds.get("rules", DEFAULT_RULES.get(zone.kind, ()))
        for name in names:
            if name not in ZONE_RULES:
                raise ValueError(f"zone '{zone.name}': unknown rule {name!r} (one of {', '.join(ZONE_RULES)})")
            rules.append(ZONE_RULES[name](plan.camera_id, zone, plan.site_id))
    return rules
