"""``vigil bench gate``: does the motion gate let the detector look at people while they walk?

The composed scenarios know where every person stands at every moment (``scenarios.library``), so each
analysed frame can be checked against them: a person who moved since half a second ago and whom the gate kept
from the detector (the frame "still", or their box in none of the motion regions a counter camera detects) was
not looked at. Counted per person height in pixels (the far end of the hall is 56-65 px), with the share of
frames the detector ran on (its cost) and how long a citizen coming into view waits for a first look. The gate
needs no detector: its decisions depend on the pictures alone, so several thresholds run side by side on the
same frames.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.evaluate import video_frames
from scenarios.timeline import Actor
from vision.gate import MotionGate

MOVED = 0.004  # of the picture's width and height together in half a second: walking, not standing
BUCKETS = ((0, 70, "< 70 px"), (70, 100, "70-100 px"), (100, 10_000, ">= 100 px"))


def _box(foot: tuple[float, float], tall: float, width: int, height: int) -> tuple[float, float, float, float]:
    """A person's box in a width x height picture: ``tall`` pixels high, standing on ``foot`` (normalized)."""
    x, y = foot[0] * width, foot[1] * height
    return x - 0.2 * tall, y - tall, x + 0.2 * tall, y


def _looked_at(box: tuple[float, float, float, float], run: bool, regions: Any, whole: bool) -> bool:
    if not run:
        return False
    if whole or regions is None:
        return True
    x1, y1, x2, y2 = box
    return any(rx1 < x2 and rx2 > x1 and ry1 < y2 and ry2 > y1 for rx1, ry1, rx2, ry2 in regions)


def _visible(actor: Actor, t: float) -> tuple[float, float] | None:
    foot = actor.position(t)
    if foot is None or actor.is_hidden(t) or not (0 <= foot[0] <= 1 and 0 <= foot[1] <= 1):
        return None
    return foot


def measure(truth_file: Path, actors: Sequence[Actor], person_height: Callable[[float], float], fps: float,
            thresholds: Iterable[float], refresh_s: float, whole_frames: bool) -> list[dict[str, Any]]:
    """One row per threshold and height bucket for one rendering analysed at ``fps``."""
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    begins = datetime.fromisoformat(truth["start"])
    start = begins.timestamp()
    gates = {threshold: MotionGate(threshold, refresh_s) for threshold in thresholds}
    people = [a for a in actors if a.class_name == "person"]
    counts = {(th, label): [0, 0] for th in gates for *_, label in BUCKETS}
    runs = dict.fromkeys(gates, 0)
    came, first_look = {}, {th: {} for th in gates}  # actor -> first visible; threshold -> actor -> first look
    frames = 0
    for frame in video_frames(truth_file.with_suffix(".mp4"), 1, begins, truth["seconds_per_frame"], fps):
        t = frame.captured_at - start
        frames += 1
        height_px, width_px = frame.image.shape[:2]
        decisions = {th: gate.check(frame.image, frame.captured_at) for th, gate in gates.items()}
        for th, decision in decisions.items():
            runs[th] += decision.run
        for actor in people:
            foot, before = _visible(actor, t), actor.position(t - 0.5)
            if foot is None:
                continue
            if not actor.role.startswith("officer"):  # (an officer sits from the start: no coming into view)
                came.setdefault(actor.name, t)
            if before is None or abs(foot[0] - before[0]) + abs(foot[1] - before[1]) < MOVED:
                continue
            height = person_height(foot[1] * height_px)
            box = _box(foot, height, width_px, height_px)
            label = next(name for low, high, name in BUCKETS if low <= height < high)
            for th, d in decisions.items():
                seen = _looked_at(box, d.run, d.regions, whole_frames)
                counts[(th, label)][0] += 1
                counts[(th, label)][1] += not seen
                if seen and actor.name in came:
                    first_look[th].setdefault(actor.name, t)
    rows = []
    for th in gates:
        waits = [first_look[th][name] - came[name] for name in first_look[th]]
        for *_, label in BUCKETS:
            moving, unseen = counts[(th, label)]
            rows.append({"threshold": th, "scenario": truth["scenario"], "seed": truth.get("seed", 0),
                         "height": label, "moving": moving, "not_looked_at": unseen,
                         "not_looked_at_pct": round(100 * unseen / moving, 2) if moving else None,
                         "detector_runs_pct": round(100 * runs[th] / max(frames, 1), 1),
                         "first_look_p90_s": round(float(np.percentile(waits, 90)), 2) if waits else None})
    return rows


def totals(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per threshold, scenario and height bucket over every seed."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["threshold"], row["scenario"], row["height"])
        total = out.setdefault(key, {"threshold": key[0], "scenario": key[1], "height": key[2], "renderings": 0,
                                     "moving": 0, "not_looked_at": 0, "runs": [], "looks": []})
        total["renderings"] += 1
        total["moving"] += row["moving"]
        total["not_looked_at"] += row["not_looked_at"]
        total["runs"].append(row["detector_runs_pct"])
        total["looks"] += [row["first_look_p90_s"]] if row["first_look_p90_s"] is not None else []
    return [{**{k: v for k, v in t.items() if k not in ("runs", "looks")},
             "not_looked_at_pct": round(100 * t["not_looked_at"] / t["moving"], 2) if t["moving"] else None,
             "detector_runs_pct": round(float(np.mean(t["runs"])), 1),
             "first_look_p90_s_worst": max(t["looks"], default=None)} for t in out.values()]
