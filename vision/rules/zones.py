"""Street incidents on people in a zone: crowd, intrusion (with a schedule) and loitering; line counts.

Thresholds (keys of the zone's ``thresholds``; defaults in each class's ``DEFAULTS``) as in street.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cameras.geometry import ZoneSpec, line_crossing
from core.types import CLASSES, EventType, Observation, Severity, Track

from .base import AlwaysOpen, OpenHours, RuleOutput, emit, live_tracks, setting
from .identity import Identities, Identity
from .street import ZoneRule

PEOPLE = frozenset({"person"})


class CrowdRule(ZoneRule):
    """More than ``max_people`` in the zone for ``hold_s``; also a ``zone_count`` observation every N s.

    People in a crowd hide one another, and a lamp post or a sign can hide one of them for minutes. Someone lost
    while standing still (``still_radius`` over 2 s) beside others standing in the zone (``group_distance``) still
    stands there while those others do, and counts, like a citizen hidden in a queue: until a new track comes up
    where they stood (they are back), one of those others moves off or is gone (one the detector misses for a
    moment counts as hidden there too), or ``hidden_keep_s`` passes.
    """

    name = "crowd"
    event_type = EventType.CROWD
    default_classes = PEOPLE
    DEFAULTS: ClassVar[dict[str, float]] = {"max_people": 10.0, "hold_s": 10.0, "clear_s": 5.0,
                                            "cooldown_s": 60.0, "observe_every_s": 10.0, "still_radius": 0.02,
                                            "group_distance": 0.15, "hidden_keep_s": 60.0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_observed: datetime | None = None
        self._inside: dict[int, Identity] = {}  # who stood in the zone last frame
        self._hidden: dict[int, _Hidden] = {}

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        visible = self.follow(tracks, now)
        inside = {i.id: i for i in visible if self.zone.contains(i.foot)}
        count = len(inside) + self._out_of_sight(inside, {i.id for i in visible}, now.timestamp())
        active = {"zone": {"people": count}} if count > self.value("max_people") else {}
        self.step_keys(active, now, self.value("hold_s"), out)
        if self._last_observed is None or (now - self._last_observed).total_seconds() >= self.value("observe_every_s"):
            self._last_observed = now
            out.observations.append(Observation(now, self.camera_id or 0, "zone_count", float(count), self.zone.id))
        return out

    def _out_of_sight(self, inside: dict[int, Identity], seen: set[int], ts: float) -> int:
        """How many people lost standing in the group still stand there hidden (see the class docstring)."""
        standing = {k for k, i in inside.items() if self._standing(i)}
        near = self.value("group_distance")
        for k, was in self._inside.items():
            if k not in seen and self._standing(was):
                group = frozenset(n for n in standing if math.dist(inside[n].foot, was.foot) <= near)
                if group:
                    self._hidden[k] = _Hidden(was.foot, ts, group)
        self._inside = inside
        reach = self.identities.max_distance
        around = standing | set(self._hidden)  # one of the group missed for a moment is hidden there too
        for k, hidden in list(self._hidden.items()):
            back = k in seen or any(i.since >= hidden.lost_at and math.dist(i.foot, hidden.foot) <= reach
                                    for i in inside.values())
            if back or ts - hidden.lost_at > self.value("hidden_keep_s") or not hidden.group <= around:
                del self._hidden[k]
        return len(self._hidden)

    def _standing(self, identity: Identity) -> bool:
        history = identity.history
        if not history or history[-1][0] - history[0][0] < STANDING_S:
            return False
        return math.hypot(*identity.displacement(STANDING_S)) <= self.value("still_radius")


STANDING_S = 2.0  # seconds of history that show someone standing still


@dataclass(frozen=True)
class _Hidden:
    foot: tuple[float, float]  # where they stood
    lost_at: float
    group: frozenset[int]  # the ones standing beside them then


class IntrusionRule(ZoneRule):
    """An object of the zone's classes (default: person) inside a restricted zone while it is armed.

    The zone's ``schedule`` (same form as a site's working hours) says when it is armed; none: always.
    One event per zone while intruders are inside, listing them; ``hold_s`` (1) filters detector blips.
    """

    name = "intrusion"
    event_type = EventType.INTRUSION
    default_classes = PEOPLE
    default_severity = Severity.HIGH
    DEFAULTS: ClassVar[dict[str, float]] = {"hold_s": 1.0, "clear_s": 5.0, "cooldown_s": 30.0}

    def __init__(self, camera_id: int | None, zone: ZoneSpec, site_id: int | None = None,
                 thresholds: Mapping[str, Any] | None = None, armed: OpenHours | None = None) -> None:
        super().__init__(camera_id, zone, site_id, thresholds)
        if armed is None and zone.schedule:
            from core.calendar import WorkingCalendar

            armed = WorkingCalendar.from_dict(zone.schedule, field=f"zone '{zone.name}'.schedule")
        self.armed = armed or AlwaysOpen()

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        inside = [i for i in self.follow(tracks, now) if self.zone.contains(i.foot)]
        active = {}
        if inside and self.armed.is_open(now):
            active = {"zone": {"intruders": sorted(i.id for i in inside),
                               "classes": sorted({i.class_name for i in inside})}}
        self.step_keys(active, now, self.value("hold_s"), out)
        return out


class LoiteringRule(ZoneRule):
    """A person in the zone for more than ``loiter_s`` (time counted across track breaks)."""

    name = "loitering"
    event_type = EventType.LOITERING
    default_classes = PEOPLE
    default_severity = Severity.LOW
    DEFAULTS: ClassVar[dict[str, float]] = {"loiter_s": 120.0, "away_s": 10.0, "clear_s": 0.0,
                                            "cooldown_s": 120.0, "reassoc_gap_s": 15.0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered: dict[int, datetime] = {}
        self.last_in: dict[int, datetime] = {}

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        for identity in self.follow(tracks, now):
            if self.zone.contains(identity.foot):
                last = self.last_in.get(identity.id)
                if last is None or (now - last).total_seconds() > self.value("away_s"):
                    self.entered[identity.id] = now
                self.last_in[identity.id] = now
        for identity_id in [i for i, t in self.last_in.items() if (now - t).total_seconds() > self.value("away_s")]:
            latch = self.latches.get(identity_id)
            if latch is not None:  # gone: the loitering ended when they were last seen in the zone
                emit(out, latch.close(self.last_in[identity_id]), now, (identity_id,))
            del self.last_in[identity_id]
            del self.entered[identity_id]
        # Time counts only as far as someone was really seen in the zone; once over the threshold, someone
        # hidden for a moment (up to away_s) is still loitering where they were last seen.
        loiter_s = self.value("loiter_s")
        loitering = {i: {"dwell_s": round((self.last_in[i] - self.entered[i]).total_seconds())}
                     for i in self.last_in if (self.last_in[i] - self.entered[i]).total_seconds() >= loiter_s}
        self.step_keys(loitering, now, 0.0, out, since=self.entered)
        return out


class LineCountRule:
    """Counts crossings of a line by class and direction; ``line_count:<class>:in|out`` every ``every_s``.

    A track's side of the line only changes once its foot is more than ``band`` (0.01) beyond the line,
    so jitter on the line is not counted. Counts are per interval (traffic volume), zeros included for
    the line's classes (default: all classes).
    """

    name = "line_count"

    def __init__(self, camera_id: int | None, line: ZoneSpec, site_id: int | None = None,
                 thresholds: Mapping[str, Any] | None = None) -> None:
        self.camera_id, self.line, self.site_id = camera_id, line, site_id
        t = {**line.thresholds, **(thresholds or {})}
        self.every_s = setting(t, "every_s", 60.0)
        self.band = setting(t, "band", 0.01)
        self.classes = sorted(line.classes or CLASSES)
        self.identities = Identities(setting(t, "reassoc_gap_s", 3.0), setting(t, "reassoc_distance", 0.04))
        self.side: dict[int, tuple[int, tuple[float, float]]] = {}  # identity -> (side, foot when it was set)
        self.counts = {(c, d): 0 for c in self.classes for d in ("in", "out")}
        self.totals = dict(self.counts)
        self._since: datetime | None = None

    def _side_of(self, point: tuple[float, float]) -> int:
        (ax, ay), (bx, by) = self.line.points
        dx, dy = bx - ax, by - ay
        signed = ((point[0] - ax) * dy - (point[1] - ay) * dx) / max((dx * dx + dy * dy) ** 0.5, 1e-9)
        return 0 if abs(signed) <= self.band else (1 if signed > 0 else -1)

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        ts = now.timestamp()
        self._since = self._since or now
        for identity in self.identities.update([t for t in live_tracks(tracks, ts) if t.class_name in self.classes],
                                               ts):
            side = self._side_of(identity.foot)
            if side == 0:
                continue
            previous = self.side.get(identity.id)
            if previous is not None and previous[0] != side:
                direction = line_crossing(self.line, previous[1], identity.foot)
                if direction:
                    key = (identity.class_name, "in" if direction > 0 else "out")
                    self.counts[key] += 1
                    self.totals[key] += 1
            self.side[identity.id] = (side, identity.foot)
        for identity_id in [i for i in self.side if self.identities.get(i) is None]:
            del self.side[identity_id]
        if (now - self._since).total_seconds() >= self.every_s:
            self._flush(now, out)
        return out

    def _flush(self, now: datetime, out: RuleOutput) -> None:
        for (class_name, direction), n in self.counts.items():
            out.observations.append(Observation(now, self.camera_id or 0, f"line_count:{class_name}:{direction}",
                                                float(n), self.line.id))
        self.counts = dict.fromkeys(self.counts, 0)
        self._since = now

    def close(self, now: datetime) -> RuleOutput:
        """Stop: the counts of the interval in progress are written (a shorter interval)."""
        out = RuleOutput()
        if self._since is not None and now > self._since:
            self._flush(now, out)
        return out
