"""What every analytics rule shares: the interface, its output, and the incident lifecycle.

A rule is a small object fed with one camera's tracks and the wall clock::

    output = rule.update(tracks, now)   # tracks: this frame's core.types.Track, now: aware datetime

and returns a ``RuleOutput``: events (``core.types.Event``), observations, counter sessions and
snapshot requests. It needs no video, so every rule is tested on scripted tracks.

Event lifecycle (one incident is one event, not a flood):

- an event is *opened* (``end`` None) once its condition has held for the rule's threshold; ``start`` is
  the moment the condition began (a vehicle stopped, an officer left), and ``attributes["raised_at"]``
  is when the rule raised it, so ``raised_at - start`` is the threshold plus the detection delay;
- while it lasts it is re-sent with the same ``id`` at most every ``update_every_s`` seconds;
- it is *closed* (``end`` set to the moment the condition stopped) once the condition has been false for
  ``clear_s`` seconds, so a short occlusion does not close and reopen it;
- after closing, the same rule and key raise nothing for ``cooldown_s`` seconds.

Evidence (the contract with the vision engine's evidence writer): rules never write images. When an
event opens or closes, the output carries a ``SnapshotRequest(event_id, label="start"|"end", ...)``.
The evidence writer saves the current frame of that camera with the request's track boxes and zone
drawn, and records the path in the event's ``attributes["evidence"][label]`` (the first saved one also
goes to ``evidence_path``). A "start" snapshot is taken when the event is raised, i.e. it shows the
situation after the threshold (the empty desk, the vehicle still stopped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable
from uuid import UUID

from core.types import CounterSession, Event, Observation, Severity, Track

SnapshotLabel = Literal["start", "end"]


@dataclass(slots=True)
class SnapshotRequest:
    """Ask the evidence writer to save the camera's current frame for an event."""

    event_id: UUID
    label: SnapshotLabel
    time: datetime
    camera_id: int | None
    track_ids: tuple[int, ...] = ()
    zone_id: int | None = None


@dataclass(slots=True)
class RuleOutput:
    """Everything a rule produced from one update."""

    events: list[Event] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    sessions: list[CounterSession] = field(default_factory=list)
    snapshots: list[SnapshotRequest] = field(default_factory=list)

    def extend(self, other: RuleOutput) -> RuleOutput:
        self.events.extend(other.events)
        self.observations.extend(other.observations)
        self.sessions.extend(other.sessions)
        self.snapshots.extend(other.snapshots)
        return self

    def __bool__(self) -> bool:
        return bool(self.events or self.observations or self.sessions or self.snapshots)


@runtime_checkable
class Rule(Protocol):
    """One analytics rule of one camera."""

    name: str

    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        """Feed this frame's tracks (normalized coordinates) at wall-clock ``now`` (aware)."""
        ...


class OpenHours(Protocol):
    """The part of ``core.calendar.WorkingCalendar`` the rules need."""

    def is_open(self, moment: datetime) -> bool: ...


class AlwaysOpen:
    """Working hours of a place that never closes (street cameras, tests)."""

    def is_open(self, moment: datetime) -> bool:
        return True


def setting(thresholds: Mapping[str, Any], key: str, default: float) -> float:
    """A numeric threshold from a zone's ``thresholds``, or the rule's documented default."""
    value = thresholds.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"threshold {key!r} must be a number (got {value!r})") from None


def severity_of(thresholds: Mapping[str, Any], default: Severity) -> Severity:
    return Severity(thresholds.get("severity", default))


def anchor_point(track: Track, anchor: str = "foot") -> tuple[float, float]:
    """Where a track stands: its foot (default) or its box centre (a seated officer behind a desk)."""
    if anchor == "center":
        x1, y1, x2, y2 = track.box
        return ((x1 + x2) / 2, (y1 + y2) / 2)
    return track.foot


def live_tracks(tracks: Iterable[Track], now_ts: float, max_age_s: float = 1.5) -> list[Track]:
    """Tracks seen recently enough to count as present (an engine may hand over coasting tracks)."""
    return [t for t in tracks if now_ts - t.last_seen <= max_age_s]


@dataclass
class IncidentLatch:
    """The lifecycle of one incident key: hold before opening, debounce before closing, cooldown after.

    ``step`` is called every update with whether the condition holds; it returns the event to emit
    (opened, updated or closed) or None.
    """

    hold_s: float
    clear_s: float = 0.0
    cooldown_s: float = 0.0
    update_every_s: float = 30.0
    onset: datetime | None = None
    off_since: datetime | None = None
    event: Event | None = None
    last_sent: datetime | None = None
    closed_at: datetime | None = None
    last_closed: Event | None = None

    def step(self, active: bool, now: datetime, make_event: Callable[[datetime], Event],
             attributes: Mapping[str, Any] | None = None, since: datetime | None = None) -> Event | None:
        """Advance the lifecycle; ``since`` backdates the condition's onset (known from the rule)."""
        if self.event is None:
            return self._maybe_open(active, now, make_event, attributes, since)
        if active:
            self.off_since = None
            if attributes:
                self.event.attributes.update(attributes)
            if self.last_sent is None or (now - self.last_sent).total_seconds() >= self.update_every_s:
                self.last_sent = now
                return self.event
            return None
        self.off_since = self.off_since or now
        if (now - self.off_since).total_seconds() >= self.clear_s:
            return self.close(self.off_since)
        return None

    def _maybe_open(self, active: bool, now: datetime, make_event: Callable[[datetime], Event],
                    attributes: Mapping[str, Any] | None, since: datetime | None) -> Event | None:
        if not active:
            self.onset = None
            return None
        if since is not None:
            self.onset = since  # the rule knows when the condition began (it may move, e.g. a re-anchored vehicle)
        self.onset = self.onset or now
        if (now - self.onset).total_seconds() < self.hold_s:
            return None
        if self.closed_at is not None and (now - self.closed_at).total_seconds() < self.cooldown_s:
            return None
        self.event = make_event(self.onset)
        self.event.attributes["raised_at"] = now.isoformat()
        if attributes:
            self.event.attributes.update(attributes)
        self.last_sent = now
        self.off_since = None
        return self.event

    def close(self, end: datetime) -> Event | None:
        """Close the open event at ``end`` (returns it), or None when nothing is open."""
        event = self.event
        if event is None:
            return None
        event.end = max(end, event.start)
        self.event, self.last_closed = None, event
        self.onset = None
        self.off_since = None
        self.closed_at = end
        return event

    def reopen(self) -> None:
        """The condition never ended after all (the rule had taken someone for another): the event closed last
        goes on, and is sent again, open, at the next step."""
        if self.event is None and self.last_closed is not None:
            self.event, self.last_closed = self.last_closed, None
            self.event.end = None
            self.closed_at = self.off_since = self.last_sent = None

    @property
    def is_open(self) -> bool:
        return self.event is not None


def emit(output: RuleOutput, event: Event | None, now: datetime, snapshot_tracks: tuple[int, ...] = ()) -> None:
    """Add an event from a latch to the output, with a snapshot request when it opened or closed.

    The event is copied, so a later update of the live event does not alter what was emitted.
    """
    if event is None:
        return
    label: SnapshotLabel | None = None
    if event.end is not None:
        label = "end"
    elif event.attributes.get("raised_at") and not event.attributes.get("_opened_sent"):
        label = "start"
    emitted = Event(type=event.type, camera_id=event.camera_id, start=event.start, severity=event.severity,
                    end=event.end, zone_id=event.zone_id, counter_id=event.counter_id, site_id=event.site_id,
                    track_id=event.track_id, attributes={k: v for k, v in event.attributes.items()
                                                         if not k.startswith("_")},
                    evidence_path=event.evidence_path, id=event.id)
    event.attributes["_opened_sent"] = True
    output.events.append(emitted)
    if label is not None:
        output.snapshots.append(SnapshotRequest(event.id, label, now, event.camera_id, snapshot_tracks,
                                                event.zone_id))
