"""What a zone's ``thresholds`` may hold: the keys the analytics rules read (vision/rules/), each in a range
that makes sense, so a typo or a value no rule can use is refused where zones come in (the API, the zone
editor, YAML) instead of being ignored or breaking the camera's worker.

Durations are seconds (at most a day); the intervals a rule repeats at must be above 0. Distances and
radii are in image widths (zones use normalized 0..1 coordinates), speeds in image widths per second.
``severity`` is an event severity, ``anchor`` where an officer counts as standing (``foot`` or ``center``
of the box), ``rules`` the street rules a zone runs instead of its kind's defaults. A key left out (or null)
takes the rule's default. ``tests/cameras/test_geometry.py`` holds this list to every key the rules read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DAY_S = 86_400.0
Seconds = Annotated[float, Field(ge=0, le=DAY_S)]
Interval = Annotated[float, Field(gt=0, le=DAY_S)]  # how often a rule repeats something: 0 would be every frame
Distance = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[float, Field(ge=0, le=10_000)]
RuleName = Literal["stopped_vehicle", "wrong_way", "congestion", "crowd", "intrusion", "loitering", "line_count"]
RULE_NAMES: tuple[str, ...] = get_args(RuleName)  # vision.rules.ZONE_RULES, which cameras/ cannot import


class ZoneThresholds(BaseModel):
    """The thresholds of one zone; every key is optional."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # counters and the hall (vision/rules/counter.py, hall.py)
    present_after_s: Seconds | None = None
    absent_after_s: Seconds | None = None
    enter_confirm_s: Seconds | None = None
    leave_after_s: Seconds | None = None
    service_min_s: Seconds | None = None
    absence_min_s: Seconds | None = None
    queue_hold_s: Seconds | None = None
    queue_confirm_s: Seconds | None = None
    lost_entry_s: Seconds | None = None
    unattended_queue_min: Count | None = None
    unattended_hold_s: Seconds | None = None
    long_wait_s: Seconds | None = None
    overcrowded_hold_s: Seconds | None = None
    capacity: int | None = Field(None, ge=1, le=100_000)
    anchor: Literal["foot", "center"] | None = None
    # every incident's lifecycle (vision/rules/base.py, street.py)
    hold_s: Seconds | None = None
    clear_s: Seconds | None = None
    cooldown_s: Seconds | None = None
    update_every_s: Interval | None = None
    observe_every_s: Interval | None = None
    reassoc_gap_s: Seconds | None = None
    reassoc_distance: Distance | None = None
    severity: Literal["info", "low", "medium", "high", "critical"] | None = None
    rules: list[RuleName] | None = Field(None, max_length=7)
    # streets (vision/rules/street.py, zones.py)
    still_s: Seconds | None = None
    still_radius: Distance | None = None
    min_distance: Distance | None = None
    window_s: Seconds | None = None
    max_angle_deg: float | None = Field(None, ge=0, le=180)
    max_vehicles: Count | None = None
    max_speed: float | None = Field(None, ge=0, le=10)
    max_people: Count | None = None
    group_distance: Distance | None = None
    hidden_keep_s: Seconds | None = None
    loiter_s: Seconds | None = None
    away_s: Seconds | None = None
    every_s: Interval | None = None
    band: Distance | None = None


class ThresholdError(ValueError):
    """A threshold no rule reads or no rule can use; ``key`` names it, ``unknown`` says which of the two."""

    def __init__(self, key: str, message: str, unknown: bool) -> None:
        self.key, self.unknown = key, unknown
        super().__init__(message)


def check_thresholds(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The thresholds as the rules will read them (keys left null dropped), or ThresholdError on the first
    key at fault."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ThresholdError("thresholds", "thresholds must be a mapping of name to value", unknown=False)
    try:
        checked = ZoneThresholds.model_validate(dict(values))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "thresholds"
        if error["type"] == "extra_forbidden":
            known = ", ".join(ZoneThresholds.model_fields)
            raise ThresholdError(key, f"unknown threshold {key!r} (known: {known})", unknown=True) from None
        raise ThresholdError(key, f"threshold {key!r}: {error['msg']}", unknown=False) from None
    return checked.model_dump(exclude_none=True)
