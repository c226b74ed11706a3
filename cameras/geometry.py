"""Zones and lines drawn on a camera's image, in normalized 0..1 coordinates.

Validation (every message names the zone, and the point when one is at fault), point-in-zone by the
foot point of a box, and line crossings with a direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from cameras.thresholds import ThresholdError, check_thresholds
from core.types import CLASSES, ZoneKind

Point = tuple[float, float]
MAX_POINTS = 64


class GeometryError(ValueError):
    """A zone or line that cannot be used; the message names the zone (and point) at fault. ``code`` and
    ``params`` say the same for a program (the API passes them on): params always hold ``zone`` and, when
    one point is at fault, ``point`` counted from 1 as in the message."""

    def __init__(self, zone: str, message: str, point: int | None = None, *, code: str,
                 params: Mapping[str, Any] | None = None) -> None:
        self.zone = zone
        self.point = point
        self.code = code
        self.params = {"zone": zone, **({"point": point + 1} if point is not None else {}), **(params or {})}
        where = f"zone '{zone}'" + (f", point {point + 1}" if point is not None else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ZoneSpec:
    """A validated zone (polygon) or line (two points) of one camera."""

    name: str
    kind: ZoneKind
    points: tuple[Point, ...]
    direction: Point | None = None  # lanes: travel direction; lines: the "in" direction
    classes: frozenset[str] | None = None  # None: the rule's default classes
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    schedule: Mapping[str, Any] | None = None
    id: int | None = None

    @property
    def is_line(self) -> bool:
        return self.kind == ZoneKind.LINE

    def as_array(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.float64)

    def contains(self, point: Point) -> bool:
        """Whether a normalized point (a track's foot) lies inside this polygon zone."""
        return bool(points_in_polygon(self.as_array(), np.asarray([point], dtype=np.float64))[0])

    def distance(self, point: Point) -> float:
        """How far a normalized point lies outside this polygon zone (0 inside), in normalized units."""
        if self.contains(point):
            return 0.0
        return distance_to_edges(self.as_array(), point)

    def depth(self, point: Point) -> float:
        """How far a normalized point lies inside this polygon zone (0 outside), in normalized units."""
        if not self.contains(point):
            return 0.0
        return distance_to_edges(self.as_array(), point)


def make_zone(
    name: str,
    kind: str | ZoneKind,
    points: Iterable[Sequence[float]],
    direction: Sequence[float] | None = None,
    classes: Iterable[str] | None = None,
    thresholds: Mapping[str, Any] | None = None,
    schedule: Mapping[str, Any] | None = None,
    id: int | None = None,  # the database column's name
) -> ZoneSpec:
    """Validate raw input (YAML, JSON, the zone editor) and build a ZoneSpec, or raise GeometryError; thresholds
    are held to ``cameras.thresholds`` (known keys, sane ranges)."""
    label = str(name).strip() or "(unnamed)"
    if not str(name).strip():
        raise GeometryError(label, "a zone needs a name", code="zone_needs_name")
    try:
        zone_kind = ZoneKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ZoneKind)
        raise GeometryError(label, f"unknown kind {kind!r} (one of: {allowed})", code="zone_unknown_kind",
                            params={"kind": str(kind)}) from None
    pts = _parse_points(label, points)
    if zone_kind == ZoneKind.LINE:
        _validate_line(label, pts)
    else:
        _validate_polygon(label, pts)
    dir_vec = _parse_direction(label, zone_kind, direction)
    class_set = None
    if classes is not None:
        class_set = frozenset(str(c) for c in classes)
        unknown = sorted(class_set - set(CLASSES))
        if unknown:
            raise GeometryError(label, f"unknown class {unknown[0]!r} (one of: {', '.join(CLASSES)})",
                                code="zone_unknown_class", params={"class_name": unknown[0]})
    try:
        checked = check_thresholds(thresholds)
    except ThresholdError as exc:
        if exc.unknown:
            raise GeometryError(label, str(exc), code="zone_unknown_threshold", params={"key": exc.key}) from None
        raise GeometryError(label, str(exc), code="zone_bad_threshold", params={"key": exc.key, "detail": str(exc)}
                            ) from None
    return ZoneSpec(label, zone_kind, tuple(pts), dir_vec, class_set, checked, schedule, id)


def _parse_points(label: str, points: Iterable[Sequence[float]]) -> list[Point]:
    parsed: list[Point] = []
    try:
        raw = list(points)
    except TypeError:
        raise GeometryError(label, "points must be a list of [x, y] pairs", code="zone_points_not_list") from None
    if len(raw) > MAX_POINTS:
        raise GeometryError(label, f"too many points ({len(raw)}; at most {MAX_POINTS})", code="zone_too_many_points",
                            params={"count": len(raw), "max_points": MAX_POINTS})
    for i, item in enumerate(raw):
        try:
            x, y = (float(v) for v in item)
        except (TypeError, ValueError):
            raise GeometryError(label, "must be a pair of numbers [x, y]", i, code="zone_point_not_pair") from None
        if not (np.isfinite(x) and np.isfinite(y)):
            raise GeometryError(label, "coordinates must be finite numbers", i, code="zone_point_not_finite")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise GeometryError(label, f"({x:g}, {y:g}) is outside the image (0..1)", i, code="zone_point_outside",
                                params={"x": x, "y": y})
        parsed.append((x, y))
    return parsed


def _validate_polygon(label: str, pts: list[Point]) -> None:
    if len(pts) < 3:
        raise GeometryError(label, f"a zone needs at least 3 points (got {len(pts)})", code="zone_too_few_points",
                            params={"count": len(pts), "min_points": 3})
    for i in range(len(pts)):
        if pts[i] == pts[(i + 1) % len(pts)]:
            raise GeometryError(label, "repeats the previous point", (i + 1) % len(pts), code="zone_point_repeated")
    crossing = _first_crossing_edge(pts)
    if crossing is not None:
        raise GeometryError(label, "is self-intersecting (its edge crosses another edge)", crossing,
                            code="zone_self_intersecting")
    polygon = Polygon(pts)
    if polygon.area < 1e-6:
        raise GeometryError(label, "has no area (its points lie on one line)", code="zone_no_area")
    if not polygon.is_valid:
        reason = explain_validity(polygon).split("[")[0].strip()
        raise GeometryError(label, f"is not a simple polygon ({reason})", code="zone_not_simple",
                            params={"reason": reason})


def _validate_line(label: str, pts: list[Point]) -> None:
    if len(pts) != 2:
        raise GeometryError(label, f"a line needs exactly 2 points (got {len(pts)})", code="line_needs_two_points",
                            params={"count": len(pts)})
    if np.hypot(pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]) < 1e-3:
        raise GeometryError(label, "the line's two points are the same", code="line_points_same")


def _parse_direction(label: str, kind: ZoneKind, direction: Sequence[float] | None) -> Point | None:
    if direction is None:
        if kind in (ZoneKind.LANE, ZoneKind.LINE):
            raise GeometryError(label, f"a {kind.value} needs a direction [dx, dy]", code="zone_needs_direction",
                                params={"kind": kind.value})
        return None
    try:
        dx, dy = (float(v) for v in direction)
    except (TypeError, ValueError):
        raise GeometryError(label, "direction must be a pair of numbers [dx, dy]", code="direction_not_pair") from None
    norm = float(np.hypot(dx, dy))
    if not np.isfinite(norm) or norm < 1e-9:
        raise GeometryError(label, "direction must be a non-zero vector", code="direction_zero")
    return (dx / norm, dy / norm)


def _first_crossing_edge(pts: list[Point]) -> int | None:
    """Index of the first point whose outgoing edge crosses a non-adjacent edge."""
    n = len(pts)
    for i in range(n):
        a, b = pts[i], pts[(i + 1) % n]
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            c, d = pts[j], pts[(j + 1) % n]
            if _segments_intersect(a, b, c, d):
                return i
    return None


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def points_in_polygon(polygon: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Vectorized even-odd test: (N,) bools for (N, 2) points against an (M, 2) polygon."""
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    x, y = points[:, 0][:, None], points[:, 1][:, None]
    x1, y1 = polygon[:, 0][None, :], polygon[:, 1][None, :]
    x2, y2 = np.roll(polygon[:, 0], -1)[None, :], np.roll(polygon[:, 1], -1)[None, :]
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return np.logical_xor.reduce(straddles & (x < x_cross), axis=1)


def distance_to_edges(polygon: np.ndarray, point: Point) -> float:
    """Distance from a point to the nearest edge of an (M, 2) polygon."""
    a, b = polygon, np.roll(polygon, -1, axis=0)
    p = np.asarray(point, dtype=np.float64)
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(np.where(length2 > 0, np.einsum("ij,ij->i", p - a, ab) / length2, 0.0), 0.0, 1.0)
    nearest = a + share[:, None] * ab
    return float(np.min(np.hypot(*(p - nearest).T)))


def line_crossing(line: ZoneSpec, previous: Point, current: Point) -> int:
    """+1 when a track moved across the line in its direction, -1 against it, 0 when it did not cross."""
    a, b = line.points
    if not _segments_intersect(a, b, previous, current):
        return 0
    movement = (current[0] - previous[0], current[1] - previous[1])
    assert line.direction is not None
    along = movement[0] * line.direction[0] + movement[1] * line.direction[1]
    return 1 if along > 0 else -1 if along < 0 else 0
