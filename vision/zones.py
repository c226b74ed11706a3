"""Zones applied to tracks: which polygon zones each track's foot point is in, and line crossings.

Geometry (validation, point-in-polygon, crossing with direction) is cameras/geometry.py; this module only
applies it to a camera's tracks frame by frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cameras.geometry import ZoneSpec, line_crossing, points_in_polygon
from core.types import Track


def zone_membership(tracks: Sequence[Track], zones: Sequence[ZoneSpec]) -> dict[int, tuple[str, ...]]:
    """track_id -> names of the polygon zones its foot point lies in (lines are not areas: never listed).

    A zone with a ``classes`` set only counts tracks of those classes.
    """
    membership: dict[int, list[str]] = {t.track_id: [] for t in tracks}
    if not tracks:
        return {}
    feet = np.asarray([t.foot for t in tracks], dtype=np.float64)
    for zone in zones:
        if zone.is_line:
            continue
        inside = points_in_polygon(zone.as_array(), feet)
        for track, hit in zip(tracks, inside, strict=True):
            if hit and (zone.classes is None or track.class_name in zone.classes):
                membership[track.track_id].append(zone.name)
    return {k: tuple(v) for k, v in membership.items()}


class LineWatch:
    """Remembers each track's previous foot point and reports crossings of a camera's lines."""

    def __init__(self, lines: Sequence[ZoneSpec]) -> None:
        self.lines = [z for z in lines if z.is_line]
        self._previous: dict[int, tuple[float, float]] = {}

    def update(self, tracks: Sequence[Track]) -> list[tuple[Track, ZoneSpec, int]]:
        """(track, line, +1 in the line's direction / -1 against it) for each crossing since the last update."""
        crossings = []
        for track in tracks:
            before = self._previous.get(track.track_id)
            if before is not None:
                for line in self.lines:
                    if line.classes is not None and track.class_name not in line.classes:
                        continue
                    sign = line_crossing(line, before, track.foot)
                    if sign:
                        crossings.append((track, line, sign))
        self._previous = {t.track_id: t.foot for t in tracks}
        return crossings
