"""Render a scripted scenario: real people cut from the footage, composited on its empty background.

Each video frame is one step of ``seconds_per_frame`` scenario seconds; the file is written at
``video_fps``, so the video plays ``seconds_per_frame * video_fps`` times faster than the scenario's clock.
A scenario may also compress the time it stands for (``time_factor``: a 6-minute absence lasting 90 s,
with the rules' duration thresholds divided by the same factor); both are stated in the ground truth.
Actors are drawn far to near (by foot y), scaled by the footage's own perspective (person height as a
function of foot y), with a walk cycle from one real person's consecutive cut-outs while they move and
their clearest cut-out while they stand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cameras.geometry import ZoneSpec
from core.types import VEHICLE_CLASSES

from .sprites import Sprite, SpriteBank
from .timeline import Actor

VEHICLE_SCALE = 1.4  # the footage's van is about 1.4 times a person's height at the same foot y


@dataclass
class Scenario:
    """A scripted scenario: actors, zones, the rules' thresholds and the clock."""

    name: str
    description: str
    start: datetime
    duration_s: float
    actors: list[Actor]
    zones: list[ZoneSpec]
    counters: list[dict[str, Any]] = field(default_factory=list)  # rows: id, staff_zone_id, customer_zone_id
    working_hours: dict[str, Any] = field(default_factory=dict)
    capacity: int | None = None
    seconds_per_frame: float = 1.0
    video_fps: float = 10.0
    time_factor: float = 1.0  # hall/street seconds one scenario second stands for (thresholds scaled with it)
    desks: list[tuple[float, float, float, float]] = field(default_factory=list)  # drawn flat on the floor

    @property
    def frames(self) -> int:
        return int(self.duration_s / self.seconds_per_frame) + 1

    @property
    def playback_speedup(self) -> float:
        """How much faster than the scenario's clock the video plays."""
        return self.seconds_per_frame * self.video_fps


def _paste(canvas: np.ndarray, sprite: Sprite, foot: tuple[float, float], height_px: float) -> None:
    scale = height_px / sprite.height
    w = max(2, round(sprite.image.shape[1] * scale))
    h = max(2, round(sprite.image.shape[0] * scale))
    image = cv2.resize(sprite.image, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.resize(sprite.alpha, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    x0, y0 = round(foot[0] - w / 2), round(foot[1] - h)
    H, W = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sub = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    src = image[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0].astype(np.float32)
    a = alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    canvas[cy0:cy1, cx0:cx1] = (src * a + sub * (1 - a)).astype(np.uint8)


def _sprite_for(actor: Actor, bank: SpriteBank, walker: int, t: float) -> Sprite:
    if actor.class_name in VEHICLE_CLASSES:
        return bank.vehicle
    frames = bank.walkers[walker % len(bank.walkers)]
    before, after = actor.position(max(actor.start, t - 0.5)), actor.position(min(actor.end, t + 0.5))
    moving = before is not None and after is not None and abs(after[0] - before[0]) + abs(after[1] - before[1]) > 1e-3
    cycle = frames[1:] or frames
    return cycle[int(t * 2) % len(cycle)] if moving else frames[0]


def draw_frame(scenario: Scenario, bank: SpriteBank, t: float, walkers: dict[str, int]) -> np.ndarray:
    """The composited image at scenario time ``t``."""
    canvas = bank.background.copy()
    H, W = canvas.shape[:2]
    for x1, y1, x2, y2 in scenario.desks:
        cv2.rectangle(canvas, (int(x1 * W), int(y1 * H)), (int(x2 * W), int(y2 * H)), (60, 90, 140), -1)
    shown = []
    for actor in scenario.actors:
        foot = actor.position(t)
        if foot is None or actor.is_hidden(t):
            continue
        shown.append((foot[1], actor, foot))
    for _, actor, foot in sorted(shown, key=lambda s: s[0]):
        px = (foot[0] * W, foot[1] * H)
        height = bank.person_height(px[1]) * (VEHICLE_SCALE if actor.class_name in VEHICLE_CLASSES else 1.0)
        _paste(canvas, _sprite_for(actor, bank, walkers[actor.name], t), px, height)
    return canvas


def render(scenario: Scenario, bank: SpriteBank, folder: Path, truth: dict[str, Any], seed: int = 0) -> Path:
    """Write ``folder/<name>.mp4`` and ``folder/<name>.json`` (the ground truth); return the video path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bank.walkers)).tolist()
    walkers = {a.name: order[i % len(order)] for i, a in enumerate(scenario.actors)}
    H, W = bank.background.shape[:2]
    video = folder / f"{scenario.name}.mp4"
    tmp = video.with_suffix(".part.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), scenario.video_fps, (W, H))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {tmp}")
    try:
        for k in range(scenario.frames):
            writer.write(draw_frame(scenario, bank, k * scenario.seconds_per_frame, walkers))
    finally:
        writer.release()
    tmp.replace(video)
    (folder / f"{scenario.name}.json").write_text(json.dumps(truth, indent=1, default=str) + "\n", encoding="utf-8")
    return video


def zone_record(zone: ZoneSpec) -> dict[str, Any]:
    return {"id": zone.id, "name": zone.name, "kind": zone.kind.value, "points": [list(p) for p in zone.points],
            "direction": list(zone.direction) if zone.direction else None,
            "classes": sorted(zone.classes) if zone.classes else None, "thresholds": dict(zone.thresholds),
            "schedule": zone.schedule}


def zones_from(records: Sequence[dict[str, Any]]) -> list[ZoneSpec]:
    from cameras.geometry import make_zone

    return [make_zone(r["name"], r["kind"], r["points"], r.get("direction"), r.get("classes"), r.get("thresholds"),
                      r.get("schedule"), r.get("id")) for r in records]
