"""What a person box in a queue is: someone, a part of someone (head and shoulders), or around two people.

The queues (``waits.py``) read these before they let a box join, leave or take a wait: at a busy queue the
detector boxes half-hidden people in pieces and, for a frame, two neighbours as one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cameras.geometry import ZoneSpec

from .identity import Identity

SHADOW_SHARE = 0.5  # a box this much inside another person's is a part of them (head and shoulders), not someone
PART_HEIGHT = 0.75  # a box shorter than this share of the nearest one waiting is a part of someone, not someone
SEVERAL_HEIGHT = 1.5  # a box taller than this share of the nearest one waiting is around more than one person


def part_of_someone(citizen: Identity, citizens: Sequence[Identity], queued: Sequence[Identity]) -> bool:
    """Whether ``citizen``'s box is a part of a person (head and shoulders): mostly inside another one's box, or
    much shorter than the nearest one standing in a queue (``queued``: as tall as them, at that distance from the
    camera)."""
    if any(share_inside(citizen.track.box, c.track.box) > SHADOW_SHARE for c in citizens if c is not citizen):
        return True
    return height_share(citizen, queued) < PART_HEIGHT


def in_queues(citizens: Sequence[Identity], zones: Sequence[ZoneSpec]) -> list[Identity]:
    """The ones of ``citizens`` standing in one of the queue ``zones``."""
    return [c for c in citizens if any(z.contains(c.foot) for z in zones)]


def height_share(citizen: Identity, others: Sequence[Identity]) -> float:
    """``citizen``'s box height over that of the nearest one of ``others`` (the ones standing in a queue: about
    as far from the camera), 1.0 with nobody there."""
    others = [c for c in others if c is not citizen]
    if not others:
        return 1.0
    nearest = min(others, key=lambda c: math.dist(c.foot, citizen.foot)).track.box
    return (citizen.track.box[3] - citizen.track.box[1]) / max(nearest[3] - nearest[1], 1e-6)


def share_inside(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> float:
    """The share of ``box``'s area that lies inside ``other``."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return max(width, 0.0) * max(height, 0.0) / area if area > 0 else 0.0


def at_edge(box: tuple[float, float, float, float], margin: float = 0.06) -> bool:
    """Whether a box (normalized) is within ``margin`` of the picture's border: someone coming into view."""
    x1, y1, x2, y2 = box
    return x1 <= margin or y1 <= margin or x2 >= 1 - margin or y2 >= 1 - margin
