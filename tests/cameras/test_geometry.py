"""Zones and lines: invalid geometry is refused with a message naming the zone; containment and crossings."""

import pytest

from cameras.geometry import GeometryError, line_crossing, make_zone
from core.types import ZoneKind


def test_a_valid_zone_and_its_foot_point_test() -> None:
    zone = make_zone("queue A", "queue", [[0.1, 0.5], [0.6, 0.5], [0.6, 0.95], [0.1, 0.95]])
    assert zone.kind is ZoneKind.QUEUE
    assert zone.contains((0.3, 0.7))
    assert not zone.contains((0.7, 0.7))
    assert not zone.contains((0.3, 0.3))


def test_how_far_a_foot_point_lies_outside_a_zone() -> None:
    zone = make_zone("queue A", "queue", [[0.1, 0.5], [0.6, 0.5], [0.6, 0.95], [0.1, 0.95]])
    assert zone.distance((0.3, 0.7)) == 0.0  # inside
    assert zone.distance((0.7, 0.7)) == pytest.approx(0.1)  # beside an edge
    assert zone.distance((0.3, 0.45)) == pytest.approx(0.05)
    assert zone.distance((0.9, 0.1)) == pytest.approx(0.5)  # off the corner (0.6, 0.5): 0.3 across, 0.4 up
    slanted = make_zone("slanted", "queue", [[0.71, 0.62], [0.43, 0.34], [0.38, 0.39], [0.66, 0.67]])
    assert 0 < slanted.distance((0.6, 0.505)) < 0.005  # by the long edge, just outside


def test_how_deep_a_foot_point_lies_inside_a_zone() -> None:
    zone = make_zone("queue A", "queue", [[0.1, 0.5], [0.6, 0.5], [0.6, 0.95], [0.1, 0.95]])
    assert zone.depth((0.3, 0.7)) == pytest.approx(0.2)  # nearest the top edge
    assert zone.depth((0.58, 0.9)) == pytest.approx(0.02)  # by the right edge
    assert zone.depth((0.3, 0.45)) == 0.0  # outside


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
    from cameras.draw import plain_label

    # OpenCV's fonts draw ASCII only: without this the operator sees "b?i xe ??ng c?a" on the picture.
    assert plain_label("bãi xe đóng cửa") == "bai xe dong cua"
    assert plain_label("Quầy 3 - Tư pháp") == "Quay 3 - Tu phap"


SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


@pytest.mark.parametrize(("thresholds", "message"), [
    ({"dwell_s": 20}, "unknown threshold 'dwell_s'"),
    ({"max_people": -1}, "threshold 'max_people': Input should be greater than or equal to 0"),
    ({"loiter_s": 1e308}, "threshold 'loiter_s': Input should be less than or equal to 86400"),
    ({"hold_s": float("nan")}, "threshold 'hold_s': Input should be a finite number"),
    ({"every_s": 0}, "threshold 'every_s': Input should be greater than 0"),
    ({"severity": "urgent"}, "threshold 'severity'"),
    ({"rules": ["crowd", "fireworks"]}, "threshold 'rules'"),
])
def test_thresholds_no_rule_reads_or_can_use_are_refused_naming_the_key(thresholds: dict, message: str) -> None:
    with pytest.raises(GeometryError) as error:
        make_zone("sân", "crowd", SQUARE, thresholds=thresholds)
    assert str(error.value).startswith("zone 'sân': ") and message in str(error.value)
    assert error.value.params["key"] == next(iter(thresholds))


def test_known_thresholds_are_kept_as_the_rules_read_them() -> None:
    zone = make_zone("sân", "restricted", SQUARE, thresholds={
        "loiter_s": 45, "max_people": 4, "severity": "high", "rules": ["intrusion"], "hold_s": None})
    assert zone.thresholds == {"loiter_s": 45.0, "max_people": 4.0, "severity": "high", "rules": ["intrusion"]}


def rule_threshold_keys() -> set[str]:
    """Every threshold name the analytics rules read: their DEFAULTS tables, setting(t, "key", ...), value("key")
    and thresholds.get("key") / t.get("key")."""
    import ast
    from pathlib import Path

    keys: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "vision" / "rules").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any("DEFAULTS" in ast.unparse(t) for t in targets):
                    keys |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in ("setting", "value") and args:
                keys.add(args[0])
            if name == "get" and args and ast.unparse(node.func.value).split(".")[-1] in ("thresholds", "t", "hall"):
                keys.add(args[0])
    return keys


def test_every_threshold_the_rules_read_is_a_known_key() -> None:
    from cameras.thresholds import RULE_NAMES, ZoneThresholds
    from vision.rules import ZONE_RULES

    read = rule_threshold_keys()
    assert {"absent_after_s", "still_s", "every_s", "anchor", "rules", "severity", "capacity"} <= read
    assert sorted(read - set(ZoneThresholds.model_fields)) == []
    assert set(RULE_NAMES) == set(ZONE_RULES)
