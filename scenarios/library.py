"""The scripted scenarios: a service counter with an officer's absence and a queue, and a street.

Both are staged on the empty junction of the shipped footage (``vtest.avi``), with real people cut from
it. The "hall" is that junction: the counter's desk is a flat slab drawn on the ground, the officer stands
behind it, citizens wait in a row of places on the road and walk to the desk when called. Distances are
normalized image units; people walk 0.05/s (about 40 px/s near the desk).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cameras.geometry import ZoneSpec, make_zone

from .compose import Scenario, render
from .queueing import StandingQueue, queue_places
from .sprites import SpriteBank
from .timeline import Actor, Waypoint
from .truth import ground_truth

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WORKING_HOURS = {"weekly": {d: [["07:30", "11:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
                 | {"sat": [["07:30", "11:30"]]}, "holidays": ["2026-09-02"], "timezone": "Asia/Ho_Chi_Minh"}
WALK = 0.05

# The camera sees the desk from the side: the citizen at the desk does not stand in front of the officer.
OFFICER_SPOT = (0.84, 0.42)
DESK_SPOT = (0.80, 0.58)
ENTRANCE = (-0.03, 0.33)
AISLE_Y = 0.33  # citizens walk in behind the row of seats, so they do not hide the people sitting there
FRONT_Y = 0.54  # and walk to the desk in front of it
EXIT = (1.04, 0.86)
SEATS = [(0.445 - 0.075 * k, 0.45) for k in range(6)]  # seat 0 is the nearest to the desk
QUEUE_FRONT = (0.66, 0.62)  # the busy scenario's standing queue starts here, just left of the desk


def _go(path: list[Waypoint], to: tuple[float, float], speed: float = WALK) -> float:
    """Append a walk from the path's last point to ``to``; return the arrival time."""
    t, x, y = path[-1]
    arrive = t + math.hypot(to[0] - x, to[1] - y) / speed
    path.append((arrive, *to))
    return arrive


def _wait(path: list[Waypoint], until: float) -> None:
    t, x, y = path[-1]
    if until > t:
        path.append((until, x, y))


def _officer(leave: float, back: float, duration: float) -> Actor:
    """Counter 1's officer: at the desk, away from ``leave`` to ``back`` (scenario seconds), back till the end."""
    officer_path: list[Waypoint] = [(0.0, *OFFICER_SPOT)]
    _wait(officer_path, leave)
    _go(officer_path, (1.04, 0.40))
    officer_path.append((back - (officer_path[-1][0] - leave), 1.04, 0.40))
    _go(officer_path, OFFICER_SPOT)
    _wait(officer_path, duration)
    return Actor("officer", officer_path, track_id=1, role="officer 1")


def _hall_thresholds(factor: float) -> dict[str, float]:
    """The hall rules' thresholds in hall seconds, divided by the scenario's time compression."""
    scaled = {"absence_min_s": 300, "present_after_s": 3, "absent_after_s": 20, "enter_confirm_s": 2,
              "leave_after_s": 8, "service_min_s": 20, "long_wait_s": 300, "unattended_hold_s": 60,
              "overcrowded_hold_s": 30, "observe_every_s": 20, "cooldown_s": 60, "update_every_s": 30,
              "lost_entry_s": 600, "queue_confirm_s": 5}
    return {key: value / factor for key, value in scaled.items()}


def _counter_zones() -> list[ZoneSpec]:
    return [
        make_zone("counter 1 staff", "counter_staff", [[0.76, 0.34], [0.94, 0.34], [0.94, 0.48], [0.76, 0.48]],
                  id=1),
        make_zone("counter 1 customer", "counter_customer", [[0.72, 0.51], [0.90, 0.51], [0.90, 0.66],
                                                             [0.72, 0.66]], id=2),
    ]


def counter_scenario(absence: tuple[float, float] = (240.0, 600.0), arrivals: tuple[float, ...] = (
        20, 70, 150, 260, 330, 400, 470, 560), services: tuple[float, ...] = (
        90, 100, 70, 80, 60, 90, 60, 70), duration: float = 1320.0, factor: float = 4.0,
        seconds_per_frame: float = 0.1, name: str = "counter_absence", start: datetime | None = None) -> Scenario:
    """An officer at counter 1 leaves for ``absence``; citizens arrive, queue, are served in turn, leave.

    Times are given as they would be in the hall and compressed by ``factor``: the scenario (and every
    duration threshold of its rules) runs ``factor`` times faster, while people still walk at walking
    speed. With the defaults: a 6-minute absence lasts 90 scenario seconds and the 5-minute absence
    threshold is 75 s. The wall clock the rules see (``start`` + scenario seconds) is not stretched back:
    working hours apply to it as they are.
    """
    leave, back = (t / factor for t in absence)
    duration /= factor
    actors = [_officer(leave, back, duration)]
    free_at, seat_free = 0.0, [0.0] * len(SEATS)
    for i, (arrive_at, service_s) in enumerate(zip(arrivals, services, strict=True)):
        arrive, service = arrive_at / factor, service_s / factor
        path: list[Waypoint] = [(arrive, *ENTRANCE)]
        seat = min(range(len(SEATS)), key=lambda k: (seat_free[k] > arrive, k))
        _go(path, (SEATS[seat][0], AISLE_Y))
        seated = _go(path, SEATS[seat])
        # Called when the desk is free and the officer is there; walks over; is served; leaves.
        called = max(seated + 2, free_at)
        if leave - 5 <= called < back:
            called = back + 2
        _wait(path, called)
        seat_free[seat] = called + 3
        _go(path, (SEATS[seat][0], FRONT_Y), 0.06)
        at_desk = _go(path, DESK_SPOT, 0.06)
        _wait(path, at_desk + service)
        free_at = _go(path, EXIT, 0.06) - 8
        actors.append(Actor(f"citizen {i + 1}", path, track_id=100 + i, role="citizen"))
    thresholds = _hall_thresholds(factor)
    zones = [*_counter_zones(),
             make_zone("waiting row", "queue", [[0.03, 0.39], [0.50, 0.39], [0.50, 0.50], [0.03, 0.50]],
                       thresholds=thresholds, id=3)]
    return Scenario(name, f"Counter 1: the officer leaves at {absence[0]:.0f} s for {absence[1] - absence[0]:.0f} s "
                    f"(hall time); {len(arrivals)} citizens queue and are served. Hall time is compressed "
                    f"{factor:g} times, thresholds with it.",
                    start or datetime(2026, 11, 23, 8, 0, tzinfo=HCM), duration, actors, zones,
                    counters=[{"id": 1, "staff_zone_id": 1, "customer_zone_id": 2}], working_hours=WORKING_HOURS,
                    capacity=6, desks=[(0.85, 0.47, 0.95, 0.49)], seconds_per_frame=seconds_per_frame,
                    time_factor=factor)


def busy_counter_scenario(absence: tuple[float, float] = (300.0, 1500.0), duration: float = 3000.0,
                          factor: float = 4.0, seconds_per_frame: float = 0.1, name: str = "counter_busy",
                          start: datetime | None = None) -> Scenario:
    """A busy morning at counter 1: the officer is away for 20 minutes (hall time) while citizens keep coming,
    so a standing queue grows to ten, each partly hidden by the one in front; then the officer serves them
    all. Hall time compressed ``factor`` times, as the counter scenario."""
    leave, back = (t / factor for t in absence)
    duration /= factor
    # Hall seconds: two before the absence, then one every ~1.5 minutes, then a few more once it is over.
    arrivals = (30, 150, 380, 470, 560, 650, 760, 850, 960, 1080, 1200, 1330, 1700, 1900)
    services = (80, 70, 90, 60, 70, 80, 60, 90, 70, 60, 80, 70, 60, 90)
    places = queue_places(QUEUE_FRONT, 11)
    queue = StandingQueue(places, ENTRANCE, DESK_SPOT, EXIT, (leave, back))
    citizens = queue.run(tuple(a / factor for a in arrivals), tuple(s / factor for s in services), duration)
    zones = [*_counter_zones(), make_zone("standing queue", "queue", _diagonal_band(places),
                                          thresholds=_hall_thresholds(factor), id=3)]
    return Scenario(name, f"Counter 1 on a busy morning: the officer leaves at {absence[0]:.0f} s for "
                    f"{absence[1] - absence[0]:.0f} s (hall time); {len(arrivals)} citizens come, a standing queue "
                    f"grows to ten, each partly hidden by the one in front. Hall time is compressed {factor:g} "
                    f"times, thresholds with it.",
                    start or datetime(2026, 11, 24, 8, 0, tzinfo=HCM), duration,
                    [_officer(leave, back, duration), *citizens], zones,
                    counters=[{"id": 1, "staff_zone_id": 1, "customer_zone_id": 2}], working_hours=WORKING_HOURS,
                    capacity=14, desks=[(0.85, 0.47, 0.95, 0.49)], seconds_per_frame=seconds_per_frame,
                    time_factor=factor)


def _diagonal_band(places: list[tuple[float, float]], half_width: float = 0.035) -> list[list[float]]:
    """A polygon around the line of places: the queue zone follows the queue, not its bounding box."""
    (x0, y0), (x1, y1) = places[0], places[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length * half_width, (x1 - x0) / length * half_width
    ux, uy = (x1 - x0) / length * 0.03, (y1 - y0) / length * 0.03
    return [[x0 - ux + nx, y0 - uy + ny], [x1 + ux + nx, y1 + uy + ny], [x1 + ux - nx, y1 + uy - ny],
            [x0 - ux - nx, y0 - uy - ny]]


def street_scenario(name: str = "street_incidents", duration: float = 160.0, seconds_per_frame: float = 0.1
                    ) -> Scenario:
    """A van stops in a no-stopping zone; a walker goes against the footpath; one loiters on the lawn; a group
    gathers on the plaza; walkers cross a counting line. Rendered at 10 frames per scenario second, analysed at
    a street camera's rate (``ingest.street_fps``, 5) or whatever ``vigil eval --fps`` asks."""
    # The van is the footage's own, cut out: kept near its native size (the top of the image), where the
    # detector knows it; larger, it is a blurred upscale that the detector misses.
    van = [(0.0, 0.47, 0.42), (12.0, 0.70, 0.235), (72.0, 0.70, 0.235), (80.0, 0.47, 0.42), (92.0, -0.12, 0.40)]
    actors = [Actor("van", van, class_name="truck", track_id=1, role="vehicle")]
    for i, start in enumerate((5.0, 40.0, 125.0)):  # with the lane, eastwards
        y = 0.40 + 0.02 * i
        actors.append(Actor(f"walker {i + 1}", [(start, -0.03, y), (start + 0.6 / WALK, 0.57, y)], track_id=10 + i,
                            role="pedestrian"))
    actors.append(Actor("wrong-way walker", [(80.0, 0.56, 0.42), (80.0 + 0.6 / WALK, -0.04, 0.42)], track_id=20,
                        role="pedestrian"))
    loiter = [(18.0, -0.03, 0.72), (18.0 + 0.15 / WALK, 0.12, 0.74)]
    for k, (x, y) in enumerate([(0.22, 0.80), (0.30, 0.70), (0.18, 0.86), (0.28, 0.78), (0.12, 0.74)]):
        loiter.append((loiter[-1][0] + 10 + 2 * k, x, y))
    loiter.append((loiter[-1][0] + 0.4 / WALK, -0.04, 0.9))
    actors.append(Actor("loiterer", loiter, track_id=30, role="pedestrian"))
    for i, x in enumerate((0.46, 0.53, 0.60, 0.67, 0.74)):
        arrive, y = 100.0 + 3 * i, 0.56 + 0.01 * (i % 2)
        actors.append(Actor(f"group {i + 1}", [(arrive - 0.45 / WALK, x, 1.04), (arrive, x, y), (140.0, x, y),
                                               (140.0 + 0.5 / WALK, x + 0.1, 1.06)], track_id=40 + i,
                            role="pedestrian"))
    zones = [
        make_zone("no stopping", "no_stopping", [[0.60, 0.15], [0.80, 0.15], [0.80, 0.30], [0.60, 0.30]],
                  thresholds={"still_s": 30}, id=11),
        make_zone("footpath eastbound", "lane", [[0.02, 0.34], [0.55, 0.34], [0.55, 0.47], [0.02, 0.47]],
                  direction=[1, 0], classes=["person"], thresholds={"rules": ["wrong_way"]}, id=12),
        make_zone("lawn", "restricted", [[0.05, 0.62], [0.40, 0.62], [0.40, 0.97], [0.05, 0.97]],
                  thresholds={"loiter_s": 45}, id=13),
        make_zone("plaza", "crowd", [[0.42, 0.48], [0.82, 0.48], [0.82, 0.74], [0.42, 0.74]],
                  thresholds={"max_people": 4, "hold_s": 10, "observe_every_s": 10}, id=14),
        make_zone("footpath count", "line", [[0.30, 0.33], [0.30, 0.48]], direction=[1, 0], classes=["person"],
                  thresholds={"every_s": 60}, id=15),
    ]
    return Scenario(name, "A van stops 60 s in a no-stopping zone; a walker goes against the footpath; a person "
                    "loiters on the lawn; five people gather on the plaza; walkers cross the counting line.",
                    datetime(2026, 11, 23, 14, 0, tzinfo=HCM), duration, actors, zones,
                    seconds_per_frame=seconds_per_frame)


SCENARIOS = {"counter_absence": counter_scenario, "counter_busy": busy_counter_scenario,
             "street_incidents": street_scenario}


def build(folder: Path, bank: SpriteBank, names: Sequence[str] | None = None, seed: int = 0,
          force: bool = False) -> list[Path]:
    """Render the named scenarios (default: all) into ``folder`` unless already there from the same script, seed
    and sprite bank (``SpriteBank.digest``: a bank built again, from other footage or by another detector, gives
    other pictures); return the truth files. A rendering whose pictures are current but whose ground truth is not (the
    rules' thresholds or the truth's reckoning changed since) gets its truth file written again: a stale truth
    would score today's rules against yesterday's thresholds."""
    out = []
    pictures = bank.digest()
    for name in names or list(SCENARIOS):
        truth_file = folder / f"{name}.json"
        scenario = SCENARIOS[name]()
        truth = ground_truth(scenario)
        truth["script"], truth["seed"], truth["bank"] = script_digest(scenario), seed, pictures
        saved = _saved(truth_file)
        current = (folder / f"{name}.mp4").is_file() and saved is not None and \
            all(saved.get(key) == truth[key] for key in ("script", "bank")) and saved.get("seed", 0) == seed
        if force or not current:
            render(scenario, bank, folder, truth, seed)
        elif saved != json.loads(json.dumps(truth, default=str)):
            truth_file.write_text(json.dumps(truth, indent=1, default=str) + "\n", encoding="utf-8")
        out.append(truth_file)
    return out


def script_digest(scenario: Scenario) -> str:
    """A digest of what a scenario's video is made from: a rendering of an older script is made again."""
    import hashlib

    fields = (scenario.name, scenario.start.isoformat(), scenario.duration_s, scenario.seconds_per_frame,
              scenario.video_fps, scenario.time_factor, scenario.desks,
              [(a.name, a.path, a.class_name, a.hidden) for a in scenario.actors], [z.points for z in scenario.zones])
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()[:16]


def _saved(truth_file: Path) -> dict[str, Any] | None:
    try:
        return json.loads(truth_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
