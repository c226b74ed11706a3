"""Ground truth of a scripted scenario, from the script itself (not from the rules' code).

Per second: whether each counter's officer is in the staff zone, how many citizens are in each queue
zone and in view. Per citizen: first entry into a queue zone, arrival at a counter (first stay of at least
2 s in a customer zone) and departure from it. Per incident: when the situation truly began and ended,
and ``due`` — when a perfect rule with the scenario's thresholds would raise it (start + the threshold;
for wrong_way, when the object has really moved the threshold distance against the lane). Times are
scenario seconds from ``start``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cameras.geometry import ZoneSpec, line_crossing
from core.calendar import WorkingCalendar
from core.types import ZoneKind
from vision.rules import DEFAULT_RULES, ZONE_RULES
from vision.rules.hall import HALL_DEFAULTS
from vision.rules.street import LIFECYCLE_DEFAULTS

from .compose import Scenario, zone_record
from .timeline import Actor

STEP = 0.1


def _times(duration: float) -> list[float]:
    return [round(k * STEP, 3) for k in range(int(duration / STEP) + 1)]


def _intervals(times: list[float], flags: list[bool], merge_gap: float = 0.0) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for t, on in zip(times, flags, strict=True):
        if not on:
            continue
        if out and t - out[-1][1] <= STEP + merge_gap + 1e-9:
            out[-1][1] = t
        else:
            out.append([t, t])
    return [(a, b) for a, b in out]


def _inside(zone: ZoneSpec, actor: Actor, t: float) -> bool:
    foot = actor.position(t)
    return foot is not None and 0 <= foot[0] <= 1 and 0 <= foot[1] <= 1 and _contains(zone.points, foot)


def _contains(polygon: tuple[tuple[float, float], ...], point: tuple[float, float]) -> bool:
    """Even-odd rule, as ``cameras.geometry.points_in_polygon`` (plain Python: called a million times here)."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _officer_of(actor: Actor, counters: list[dict[str, Any]]) -> int | None:
    if not actor.role.startswith("officer") or not counters:
        return None
    parts = actor.role.split()
    return int(parts[1]) if len(parts) > 1 else int(counters[0]["id"])


def _incident(kind: str, zone: ZoneSpec | None, start: float, end: float | None, due: float,
              **extra: Any) -> dict[str, Any]:
    return {"type": kind, "zone": zone.name if zone else None, "zone_id": zone.id if zone else None,
            "start": round(start, 1), "end": None if end is None else round(end, 1), "due": round(due, 1), **extra}


def ground_truth(s: Scenario) -> dict[str, Any]:
    """The scenario's ground truth as a JSON-ready dict (also records zones, counters and settings)."""
    times = _times(s.duration_s)
    calendar = WorkingCalendar.from_dict(s.working_hours)
    is_open = [calendar.is_open(s.start + timedelta(seconds=t)) for t in times]
    truth: dict[str, Any] = {
        "scenario": s.name, "description": s.description, "start": s.start.isoformat(),
        "duration_s": s.duration_s, "seconds_per_frame": s.seconds_per_frame, "video_fps": s.video_fps,
        "playback_speedup": s.playback_speedup,
        "time_factor": s.time_factor, "frames": s.frames, "zones": [zone_record(z) for z in s.zones],
        "counters": s.counters, "working_hours": s.working_hours, "capacity": s.capacity,
        "seconds": [], "citizens": [], "incidents": [], "line_counts": {},
    }
    _counters(s, times, is_open, truth)
    _street(s, times, truth)
    truth["incidents"].sort(key=lambda i: i["start"])
    return truth


def _counters(s: Scenario, times: list[float], is_open: list[bool], truth: dict[str, Any]) -> None:
    by_id = {z.id: z for z in s.zones}
    queues = [z for z in s.zones if z.kind == ZoneKind.QUEUE]
    customers = [by_id[c["customer_zone_id"]] for c in s.counters]
    people = [a for a in s.actors if a.class_name == "person"]
    officers = {a.name: _officer_of(a, s.counters) for a in people}
    citizens = [a for a in people if officers[a.name] is None]
    if not s.counters and not queues:
        return
    hall = {**HALL_DEFAULTS}
    for zone in queues:
        hall.update(zone.thresholds)
    present = {c["id"]: [any(officers[a.name] == c["id"] and _inside(by_id[c["staff_zone_id"]], a, t) for a in people)
                         for t in times] for c in s.counters}
    queue_len = {z.name: [sum(_inside(z, a, t) for a in citizens) for t in times] for z in queues}
    in_view = [sum(1 for a in citizens if _inside(ZoneSpec("view", ZoneKind.CROWD, ((0, 0), (1, 0), (1, 1), (0, 1))),
                                                         a, t)) for t in times]
    for k, t in enumerate(times):
        if abs(t - round(t)) < 1e-6:
            truth["seconds"].append({"t": round(t), "open": is_open[k],
                                     "officer_present": {str(c): present[c][k] for c in present},
                                     "queue": {z: queue_len[z][k] for z in queue_len}, "citizens_in_view": in_view[k]})
    for actor in citizens:
        record: dict[str, Any] = {"name": actor.name}
        in_queue = [t for t in times if any(_inside(z, actor, t) for z in queues)]
        record["queue_enter"] = in_queue[0] if in_queue else None
        for counter, zone in zip(s.counters, customers, strict=True):
            stays = [(a, b) for a, b in _intervals(times, [_inside(zone, actor, t) for t in times]) if b - a >= 2.0]
            if stays:
                record.update(counter=counter["id"], service_start=stays[0][0], service_end=stays[0][1])
                break
        truth["citizens"].append(record)
    for counter in s.counters:
        staff = by_id[counter["staff_zone_id"]]
        t_ = {**hall, **staff.thresholds, **by_id[counter["customer_zone_id"]].thresholds}
        absent = [not p and o for p, o in zip(present[counter["id"]], is_open, strict=True)]
        for a, b in _intervals(times, absent):
            if b - a >= t_["absence_min_s"]:
                truth["incidents"].append(_incident("officer_absent", staff, a, b, a + t_["absence_min_s"],
                                                    counter=counter["id"]))
        total = [sum(q[k] for q in queue_len.values()) for k in range(len(times))]
        unattended = [ab and n >= t_["unattended_queue_min"] for ab, n in zip(absent, total, strict=True)]
        for a, b in _intervals(times, unattended):
            if b - a >= t_["unattended_hold_s"]:
                truth["incidents"].append(_incident("counter_unattended_with_queue", staff, a, b,
                                                    a + t_["unattended_hold_s"], counter=counter["id"]))
    for record in truth["citizens"]:
        enter, served = record.get("queue_enter"), record.get("service_start")
        if enter is not None and served is not None and served - enter > hall["long_wait_s"]:
            truth["incidents"].append(_incident("long_wait", None, enter, served, enter + hall["long_wait_s"],
                                                citizen=record["name"]))
    if s.capacity:
        for a, b in _intervals(times, [n > s.capacity for n in in_view]):
            if b - a >= hall["overcrowded_hold_s"]:
                truth["incidents"].append(_incident("hall_overcrowded", None, a, b, a + hall["overcrowded_hold_s"]))


def _street(s: Scenario, times: list[float], truth: dict[str, Any]) -> None:
    for zone in s.zones:
        for rule in zone.thresholds.get("rules", DEFAULT_RULES.get(zone.kind, ())):
            t_ = {**LIFECYCLE_DEFAULTS, **getattr(ZONE_RULES[rule], "DEFAULTS", {}), **zone.thresholds}
            classes = zone.classes or getattr(ZONE_RULES[rule], "default_classes", frozenset())
            actors = [a for a in s.actors if a.class_name in classes]
            handler = _STREET.get(rule)
            if handler is not None:
                handler(zone, actors, times, t_, truth)


def _stopped(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    for actor in actors:
        still = [_inside(zone, actor, t) and _speed(actor, t) < 1e-4 for t in times]
        for a, b in _intervals(times, still):
            if b - a >= t_["still_s"]:
                truth["incidents"].append(_incident("stopped_vehicle", zone, a, b, a + t_["still_s"], actor=actor.name))


def _wrong_way(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    dx_lane, dy_lane = zone.direction or (0.0, 0.0)
    cos_limit = math.cos(math.radians(t_["max_angle_deg"]))
    for actor in actors:
        against = []
        for t in times:
            v = _velocity(actor, t)
            speed = math.hypot(*v)
            against.append(_inside(zone, actor, t) and speed > 1e-4 and -(v[0] * dx_lane + v[1] * dy_lane) / speed
                           >= cos_limit)
        for a, b in _intervals(times, against):
            due = next((t for t in times if a <= t <= b and _moved(actor, max(a, t - t_["window_s"]), t)
                        >= t_["min_distance"]), None)
            if due is not None:
                truth["incidents"].append(_incident("wrong_way", zone, a, b, due, actor=actor.name))


def _crowd(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    counts = [sum(_inside(zone, a, t) for a in actors) for t in times]
    for a, b in _intervals(times, [n > t_["max_people"] for n in counts]):
        if b - a >= t_["hold_s"]:
            truth["incidents"].append(_incident("crowd", zone, a, b, a + t_["hold_s"]))


def _intrusion(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    flags = [any(_inside(zone, a, t) for a in actors) for t in times]
    for a, b in _intervals(times, flags, merge_gap=t_["clear_s"]):
        if b - a >= t_["hold_s"]:
            truth["incidents"].append(_incident("intrusion", zone, a, b, a + t_["hold_s"]))


def _loitering(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    for actor in actors:
        for a, b in _intervals(times, [_inside(zone, actor, t) for t in times], merge_gap=t_["away_s"]):
            if b - a >= t_["loiter_s"]:
                truth["incidents"].append(_incident("loitering", zone, a, b, a + t_["loiter_s"], actor=actor.name))


def _line_count(zone: ZoneSpec, actors: list[Actor], times: list[float], t_: dict, truth: dict) -> None:
    counts = truth["line_counts"].setdefault(zone.name, {})
    for actor in actors:
        for t0, t1 in itertools.pairwise(times):
            p0, p1 = actor.position(t0), actor.position(t1)
            if p0 is None or p1 is None:
                continue
            sign = line_crossing(zone, p0, p1)
            if sign:
                key = f"{actor.class_name}:{'in' if sign > 0 else 'out'}"
                counts[key] = counts.get(key, 0) + 1


_STREET: dict[str, Callable[..., None]] = {"stopped_vehicle": _stopped, "wrong_way": _wrong_way, "crowd": _crowd,
                                           "intrusion": _intrusion, "loitering": _loitering,
                                           "line_count": _line_count}


def _velocity(actor: Actor, t: float) -> tuple[float, float]:
    a, b = actor.position(t - STEP / 2), actor.position(t + STEP / 2)
    if a is None or b is None:
        return (0.0, 0.0)
    return ((b[0] - a[0]) / STEP, (b[1] - a[1]) / STEP)


def _speed(actor: Actor, t: float) -> float:
    return math.hypot(*_velocity(actor, t))


def _moved(actor: Actor, t0: float, t1: float) -> float:
    a, b = actor.position(t0), actor.position(t1)
    return 0.0 if a is None or b is None else math.hypot(b[0] - a[0], b[1] - a[1])
