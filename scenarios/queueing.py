"""A standing queue as people really stand in a hall: one behind the other on the floor, each moving up a place
when the citizen in front is called, the nearer partly hiding the farther.

Places are laid on the floor in metres and projected into the picture with the footage's own perspective
(``scenarios.sprites``: person height in pixels = 0.254 * foot_y + 12.6 on vtest.avi, 768x576), read as a
pinhole camera over a flat floor: the horizon lies where that height would be 0, a person 1.7 m tall at
depth Z is ``FOCAL_PX * 1.7 / Z`` pixels tall, and a step of ``dz`` metres away and ``dx`` metres sideways moves
the foot point accordingly. People in a queue stand about 0.65 m apart (front to back): the queue recedes
diagonally, so each person covers a third or so of the one behind, not all of them and not none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .timeline import Actor, Waypoint

FRAME = (768, 576)  # the footage's size: the perspective below is in its pixels
HEIGHT_AT = (0.254, 12.6)  # person height in px = a * foot_y_px + b (fitted on the footage's own people)
FOCAL_PX = 665.0  # a 60-degree horizontal field of view over 768 pixels
PERSON_M = 1.7


def floor_step(foot: tuple[float, float], dx_m: float, dz_m: float) -> tuple[float, float]:
    """The normalized foot point ``dx_m`` metres to the right and ``dz_m`` metres farther than ``foot``."""
    width, height = FRAME
    a, b = HEIGHT_AT
    x, y = foot[0] * width, foot[1] * height
    horizon = -b / a
    depth = FOCAL_PX * PERSON_M / (a * y + b)
    farther = depth + dz_m
    cx = width / 2
    new_y = horizon + (y - horizon) * depth / farther
    new_x = cx + (x - cx) * depth / farther + dx_m * FOCAL_PX / farther
    return (new_x / width, new_y / height)


def queue_places(front: tuple[float, float], count: int, spacing_m: float = 0.65,
                 heading_deg: float = 32.0) -> list[tuple[float, float]]:
    """``count`` places on the floor, the first at ``front``, each ``spacing_m`` behind the one before, along a
    line turned ``heading_deg`` to the left of straight away from the camera."""
    dx = -spacing_m * math.sin(math.radians(heading_deg))
    dz = spacing_m * math.cos(math.radians(heading_deg))
    places = [front]
    for _ in range(count - 1):
        places.append(floor_step(places[-1], dx, dz))
    return places


@dataclass
class _Citizen:
    index: int
    path: list[Waypoint]
    service_s: float
    place: int = -1
    ready_at: float = 0.0  # when the citizen stands at their place (may be called from then on)
    served: bool = False


@dataclass
class StandingQueue:
    """A counter's standing queue, simulated on a fixed clock: arrivals join at the back, the first is called
    when the desk is free and the officer is there, the rest each walk up one place."""

    places: list[tuple[float, float]]
    entrance: tuple[float, float]
    desk: tuple[float, float]
    exit: tuple[float, float]
    away: tuple[float, float]  # the officer's absence: nobody is called from 5 s before it until 2 s after
    walk: float = 0.05
    step: float = 0.5
    citizens: list[_Citizen] = field(default_factory=list)

    def run(self, arrivals: tuple[float, ...], services: tuple[float, ...], until: float) -> list[Actor]:
        """Every citizen's path through the queue, the desk and out, as actors (track ids 100, 101...)."""
        pending = sorted(zip(arrivals, services, strict=True))
        line: list[_Citizen] = []
        free_at, t = 0.0, 0.0
        while t <= until:
            while pending and pending[0][0] <= t:
                arrive, service = pending.pop(0)
                citizen = _Citizen(len(self.citizens), [(arrive, *self.entrance)], service)
                self.citizens.append(citizen)
                self._move(citizen, len(line), arrive)
                line.append(citizen)
            leave, back = self.away
            present = not (leave - 5 <= t < back + 2)
            if line and present and t >= free_at and t >= line[0].ready_at:
                first = line.pop(0)
                free_at = self._serve(first, t)
                for k, citizen in enumerate(line):
                    self._move(citizen, k, t)
            t += self.step
        if line:
            raise ValueError(f"{len(line)} citizens still queue when the scenario ends: make it longer")
        return [Actor(f"citizen {c.index + 1}", c.path, track_id=100 + c.index, role="citizen")
                for c in self.citizens]

    def _go(self, path: list[Waypoint], to: tuple[float, float], speed: float) -> float:
        t, x, y = path[-1]
        arrive = t + math.hypot(to[0] - x, to[1] - y) / speed
        path.append((arrive, *to))
        return arrive

    def _move(self, citizen: _Citizen, place: int, now: float) -> None:
        """Walk to ``place`` (from the back, coming in: along the side of the queue, not through it)."""
        if place >= len(self.places):
            raise ValueError(f"the queue holds {len(self.places)} places: more citizens wait than that")
        path = citizen.path
        if path[-1][0] < now:
            path.append((now, *path[-1][1:]))
        if citizen.place < 0:  # coming in: to the back of the line first, then into place
            back = self.places[-1]
            self._go(path, (back[0] - 0.06, back[1] - 0.02), self.walk)
        citizen.place = place
        citizen.ready_at = self._go(path, self.places[place], self.walk)

    def _serve(self, citizen: _Citizen, now: float) -> float:
        """Called: to the desk, served, out; returns when the desk is free for the next (as the counter
        scenario: the next is called as this one walks off)."""
        path = citizen.path
        if path[-1][0] < now:
            path.append((now, *path[-1][1:]))
        at_desk = self._go(path, self.desk, 0.06)
        path.append((at_desk + citizen.service_s, *self.desk))
        citizen.served = True
        return self._go(path, self.exit, 0.06) - 8
