"""Scripted timelines: actors moving along waypoints, as the rules' tests and the compositor use them.

An actor is a person or vehicle whose *foot point* follows waypoints ``(t, x, y)`` in seconds and
normalized image coordinates (linear in between; absent before the first and after the last). The same
script drives the scenario compositor (pixels) and the rule tests (``Track`` values as a perfect tracker
would give them), with optional occlusions (``hidden``) and tracker id switches (``id_changes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.types import Track
from vision.rules.base import RuleOutput

Waypoint = tuple[float, float, float]  # t, x, y


@dataclass
class Actor:
    """One scripted object. ``role`` is free text for ground truth (officer, citizen, vehicle...)."""

    name: str
    path: list[Waypoint]
    class_name: str = "person"
    track_id: int = 1
    size: tuple[float, float] = (0.05, 0.2)  # box width, height (normalized) at y = 1; scaled by perspective
    role: str = ""
    hidden: list[tuple[float, float]] = field(default_factory=list)  # [t0, t1): the detector misses it
    id_changes: list[tuple[float, int]] = field(default_factory=list)  # from t on, the tracker calls it id

    @property
    def start(self) -> float:
        return self.path[0][0]

    @property
    def end(self) -> float:
        return self.path[-1][0]

    def position(self, t: float) -> tuple[float, float] | None:
        """The scripted foot point at ``t`` (None: not in the scene)."""
        if t < self.start or t > self.end:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(self.path, self.path[1:], strict=False):
            if t0 <= t <= t1:
                share = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (x0 + (x1 - x0) * share, y0 + (y1 - y0) * share)
        return (self.path[-1][1], self.path[-1][2])

    def is_hidden(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.hidden)

    def tracker_id(self, t: float) -> tuple[int, float]:
        """The tracker's id for this actor at ``t`` and since when it has used it."""
        current, since = self.track_id, self.start
        for when, new_id in sorted(self.id_changes):
            if t >= when:
                current, since = new_id, when
        for a, b in self.hidden:  # a tracker that lost it restarts the track's age
            if a <= t and b <= t and b > since:
                since = b
        return current, since

    def box_at(self, t: float, perspective: float = 0.0) -> tuple[float, float, float, float] | None:
        """Normalized box standing on the foot point; ``perspective`` shrinks far (high) objects."""
        foot = self.position(t)
        if foot is None:
            return None
        scale = 1.0 - perspective * (1.0 - foot[1])
        w, h = self.size[0] * scale, self.size[1] * scale
        x, y = foot
        return (x - w / 2, y - h, x + w / 2, y)

    def track_at(self, t: float, perspective: float = 0.0) -> Track | None:
        """The track a perfect detector and tracker would report at ``t`` (None: absent or hidden)."""
        box = self.box_at(t, perspective)
        if box is None or self.is_hidden(t):
            return None
        track_id, since = self.tracker_id(t)
        return Track(track_id, self.class_name, 0.9, box, since, t)


def tracks_at(actors: Iterable[Actor], t: float, t0: float = 0.0, perspective: float = 0.0) -> list[Track]:
    """Every visible actor's track at script time ``t``; ``t0`` (unix seconds) is added to track times."""
    out = []
    for actor in actors:
        track = actor.track_at(t, perspective)
        if track is not None:
            track.first_seen += t0
            track.last_seen += t0
            out.append(track)
    return out


def walk(points: Sequence[tuple[float, float, float]], speed: float | None = None) -> list[Waypoint]:
    """Waypoints from ``(t, x, y)`` keyframes; with ``speed``, a keyframe's t < 0 means "walk there"."""
    out: list[Waypoint] = []
    for t, x, y in points:
        if t < 0 and out and speed:
            _, px, py = out[-1]
            t = out[-1][0] + ((x - px) ** 2 + (y - py) ** 2) ** 0.5 / speed
        out.append((t, x, y))
    return out


def play(rule: object, actors: Sequence[Actor], start: datetime, seconds: float, step: float = 1.0,
         perspective: float = 0.0) -> list[RuleOutput]:
    """Feed a rule the scripted tracks every ``step`` seconds from ``start``; return each update's output."""
    outputs = []
    n = round(seconds / step)
    for k in range(n + 1):
        t = k * step
        now = start + timedelta(seconds=t)
        outputs.append(rule.update(tracks_at(actors, t, start.timestamp(), perspective), now))  # type: ignore[attr-defined]
    return outputs
