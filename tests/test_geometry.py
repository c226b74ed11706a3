"""Zones and lines: invalid geometry is refused with a message naming the zone; containment and crossings."""

import pytest

from cameras.geometry import GeometryError, line_crossing, make_zone
from vigil.types import ZoneKind


def test_a_valid_zone_and_its_foot_point_test() -> None:
    zone = make_zone("queue A", "queue", [[0.1, 0.5], [0.6, 0.5], [0.6, 0.95], [0.1, 0.95]])
    assert zone.kind is ZoneKind.QUEUE
    assert zone.contains((0.3, 0.7))
    assert not zone.contains((0.7, 0.7))
    assert not zone.contains((0.3, 0.3))


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[0.1, 0.1], [0.5, 0.5]], "at least 3 points"),
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]], "point 2: (1.2, 0.1) is outside the image"),
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], "point 1: is self-intersecting"),
        ([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], "has no area"),
        ([[0.1, 0.1], ["a", 0.2], [0.3, 0.9]], "point 2: must be a pair of numbers"),
    ],
)
def test_invalid_polygons_are_refused_naming_zone_and_point(points: list, message: str) -> None:
    with pytest.raises(GeometryError) as error:
        make_zone("bàn 3", "counter_customer", points)
    assert str(error.value).startswith("zone 'bàn 3'")
    assert message in str(error.value)


def test_lines_need_two_points_and_a_direction() -> None:
    with pytest.raises(GeometryError, match="needs a direction"):
        make_zone("gate", "line", [[0.1, 0.5], [0.9, 0.5]])
    with pytest.raises(GeometryError, match="exactly 2 points"):
        make_zone("gate", "line", [[0.1, 0.5], [0.9, 0.5], [0.5, 0.9]], direction=[0, 1])
    with pytest.raises(GeometryError, match="unknown kind"):
        make_zone("gate", "fence", [[0.1, 0.5], [0.9, 0.5]], direction=[0, 1])


def test_line_crossing_counts_direction() -> None:
    line = make_zone("stop line", "line", [[0.1, 0.5], [0.9, 0.5]], direction=[0, 1])  # "in" = downwards
    assert line_crossing(line, (0.5, 0.4), (0.5, 0.6)) == 1
    assert line_crossing(line, (0.5, 0.6), (0.5, 0.4)) == -1
    assert line_crossing(line, (0.5, 0.1), (0.5, 0.3)) == 0
    assert line_crossing(line, (0.95, 0.4), (0.95, 0.6)) == 0  # passes beside the line's end


def test_unknown_class_is_named() -> None:
    with pytest.raises(GeometryError, match="unknown class 'tank'"):
        make_zone("no stop", "no_stopping", [[0, 0], [1, 0], [1, 1]], classes=["car", "tank"])


def test_vietnamese_zone_names_are_drawn_legibly_on_evidence() -> None:
    from vision.evidence import plain_label

    # OpenCV's fonts draw ASCII only: without this the operator sees "b?i xe ??ng c?a" on the picture.
    assert plain_label("bãi xe đóng cửa") == "bai xe dong cua"
    assert plain_label("Quầy 3 - Tư pháp") == "Quay 3 - Tu phap"
