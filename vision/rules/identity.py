"""Identities that survive track breaks: a lost track's identity passes to a new track nearby.

Trackers lose people behind a pillar, under a detector miss or at an id switch, and come back with a
new ``track_id``. Wait times and loitering must not restart then, so the rules see *identities*: when a
track id appears that was never seen, it inherits the identity of a recently lost track of the same
kind (person / vehicle) whose last foot point is within ``max_distance`` (normalized units, plus what
the object could have walked at ``max_speed`` in the gap, counting at most ``walk_s`` of it: someone
missed for a long time is found again where they were, not anywhere) and whose loss is at most
``max_gap_s`` old. The nearest candidate wins. An identity unseen for longer than ``max_gap_s`` is forgotten.
When the track an identity was lost from comes back while the track that inherited it is still seen, the
inheritance was wrong (a neighbour or a second box took it while the detector missed the one it belongs to):
the older track keeps the identity, and the newer one is treated as new (re-associated or given its own), so
one identity is never seen twice in a frame. With ``refound_within_reach`` (the hall's rule), a track the
tracker finds again after more than ``walk_s`` keeps its identity only within that same reach of where the
track was last seen: ByteTrack carries a lost track's box on at its last velocity, and people in a hall stop.
An identity taken up again after ``walk_s`` unseen starts a new sighting (``in_view_since``): what it did before
may have been someone else's.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from core.types import VEHICLE_CLASSES, Track

Point = tuple[float, float]
# Track ids remembered per identity. A parked car or a seated officer keeps one identity for hours while the
# tracker loses and re-finds them under new ids; their older ids are long gone and need not be kept.
MAX_TRACK_IDS = 16


# Normalized picture widths a second: faster than anyone walks in a hall, on a close camera too (the composed
# halls' people walk 0.05-0.06, a scripted hall's 0.15): how far someone lost may have gone since.
WALK_REACH = 0.3


def kind_of(class_name: str) -> str:
    """People and vehicles never swap identities; vehicles of different classes may (detector flicker)."""
    return "vehicle" if class_name in VEHICLE_CLASSES else class_name


@dataclass
class Identity:
    """One object as the rules follow it across track breaks."""

    id: int
    class_name: str
    first_seen: float
    last_seen: float
    foot: Point
    track: Track
    track_ids: list[int] = field(default_factory=list)
    history: deque[tuple[float, float, float]] = field(default_factory=deque)  # (t, x, y)
    since: float = -math.inf  # when the track that follows it now took it over (its first sight: ``first_seen``)
    in_view_since: float = -math.inf  # when it came into view this time: after ``walk_s`` unseen, a new sighting

    def __post_init__(self) -> None:
        self.since = max(self.since, self.first_seen)
        self.in_view_since = max(self.in_view_since, self.first_seen)

    def speed(self, window_s: float = 2.0) -> float | None:
        """Foot speed in normalized units per second over the last ``window_s`` (None: too short a history)."""
        if len(self.history) < 2:
            return None
        t1, x1, y1 = self.history[-1]
        for t0, x0, y0 in self.history:
            if t1 - t0 <= window_s:
                if t1 - t0 <= 0:
                    return None
                return math.hypot(x1 - x0, y1 - y0) / (t1 - t0)
        return None

    def displacement(self, window_s: float) -> tuple[float, float]:
        """Foot movement (dx, dy) over the last ``window_s`` seconds of history."""
        if not self.history:
            return (0.0, 0.0)
        t1, x1, y1 = self.history[-1]
        for t0, x0, y0 in self.history:
            if t1 - t0 <= window_s:
                return (x1 - x0, y1 - y0)
        return (0.0, 0.0)


class Identities:
    """Follows identities of one camera's tracks; call ``update`` once per frame."""

    def __init__(self, max_gap_s: float = 6.0, max_distance: float = 0.06, max_speed: float = 0.03,
                 history_s: float = 15.0, walk_s: float = 5.0, refound_within_reach: bool = False) -> None:
        self.max_gap_s = max_gap_s
        self.refound_within_reach = refound_within_reach
        self.walk_s = walk_s
        self.max_distance = max_distance
        self.max_speed = max_speed
        self.history_s = history_s
        self._by_track: dict[int, Identity] = {}
        self._track_seen: dict[int, tuple[float, Point]] = {}  # track id -> when and where it was last seen
        self._all: dict[int, Identity] = {}
        self._ids = itertools.count(1)
        self.visible: list[Identity] = []

    def update(self, tracks: Sequence[Track], now_ts: float) -> list[Identity]:
        """Map this frame's tracks to identities (re-associating new track ids); return the visible ones."""
        self._forget(now_ts)
        keeper: dict[int, Track] = {}  # identity -> the one track that follows it this frame
        for track in tracks:
            identity = self._by_track.get(track.track_id)
            if identity is None or kind_of(identity.class_name) != kind_of(track.class_name):
                continue
            if self._jumped(track, now_ts):
                self._release(identity, track.track_id)  # not the one it was: a new track to this frame
                continue
            held = keeper.get(identity.id)
            if held is None or identity.track_ids.index(track.track_id) < identity.track_ids.index(held.track_id):
                keeper[identity.id] = track
        visible: list[Identity] = []
        fresh: list[Track] = []
        for track in tracks:
            identity = self._by_track.get(track.track_id)
            if identity is None or kind_of(identity.class_name) != kind_of(track.class_name):
                fresh.append(track)
            elif keeper[identity.id] is not track:
                # The track it passed to while it was lost is back beside it: that was someone else.
                self._release(identity, track.track_id)
                fresh.append(track)
            else:
                visible.append(identity)
                self._see(identity, track, now_ts)
        taken = {i.id for i in visible}
        for track in fresh:
            identity = self._reassociate(track, now_ts, taken)
            if identity is None:
                identity = Identity(next(self._ids), track.class_name, now_ts, now_ts, track.foot, track)
                self._all[identity.id] = identity
            taken.add(identity.id)
            self._take_track(identity, track.track_id)
            self._see(identity, track, now_ts)
            visible.append(identity)
        self.visible = visible
        return visible

    def lost(self, now_ts: float) -> Iterator[Identity]:
        """Identities not visible now but still remembered (within ``max_gap_s``)."""
        seen = {i.id for i in self.visible}
        for identity in self._all.values():
            if identity.id not in seen and now_ts - identity.last_seen <= self.max_gap_s:
                yield identity

    def forget(self, identity_id: int) -> None:
        """Drop an identity another one turned out to be (its tracks will not be re-associated)."""
        identity = self._all.pop(identity_id, None)
        if identity is not None:
            for track_id in identity.track_ids:
                if self._by_track.get(track_id) is identity:
                    self._unmap(track_id)

    def _jumped(self, track: Track, now_ts: float) -> bool:
        """With ``refound_within_reach``: a track the tracker finds again after more than ``walk_s``, far beyond
        the reach a re-associated one would need from where that track was last seen. ByteTrack carries a lost
        track's box on at its last velocity and can wake it on whoever stands there: a walker who stopped at a
        desk woke up 22 s later on someone in the middle of a queue."""
        seen = self._track_seen.get(track.track_id)
        if not self.refound_within_reach or seen is None or now_ts - seen[0] <= self.walk_s:
            return False
        return math.dist(track.foot, seen[1]) > self._reach(now_ts - seen[0])

    def _reach(self, gap: float) -> float:
        return self.max_distance + self.max_speed * min(gap, self.walk_s)

    def _release(self, identity: Identity, track_id: int) -> None:
        identity.track_ids.remove(track_id)
        self._unmap(track_id)

    def _unmap(self, track_id: int) -> None:
        """The track no longer maps to an identity (nor is it remembered where it was last seen)."""
        del self._by_track[track_id]
        self._track_seen.pop(track_id, None)

    def _take_track(self, identity: Identity, track_id: int) -> None:
        identity.track_ids.append(track_id)
        self._by_track[track_id] = identity
        while len(identity.track_ids) > MAX_TRACK_IDS:  # the oldest: not visible now (the identity was lost)
            old = identity.track_ids.pop(0)
            if self._by_track.get(old) is identity:
                self._unmap(old)

    @property
    def remembered_tracks(self) -> int:
        """Track ids mapped to identities (at most ``MAX_TRACK_IDS`` per identity still remembered)."""
        return len(self._by_track)

    def get(self, identity_id: int) -> Identity | None:
        return self._all.get(identity_id)

    def _see(self, identity: Identity, track: Track, now_ts: float) -> None:
        if identity.track.track_id != track.track_id:
            identity.since = now_ts
        if now_ts - identity.last_seen > self.walk_s:
            # Unseen that long and taken up again: what it did before may have been someone else's (a track woken
            # on whoever stands where it was lost); how long it has been in view counts from now.
            identity.in_view_since = now_ts
        identity.last_seen = now_ts
        identity.foot = track.foot
        self._track_seen[track.track_id] = (now_ts, track.foot)
        identity.track = track
        identity.class_name = track.class_name
        identity.history.append((now_ts, *track.foot))
        while identity.history and now_ts - identity.history[0][0] > self.history_s:
            identity.history.popleft()

    def _reassociate(self, track: Track, now_ts: float, taken: set[int]) -> Identity | None:
        best: Identity | None = None
        best_distance = math.inf
        for identity in self._all.values():
            if identity.id in taken or kind_of(identity.class_name) != kind_of(track.class_name):
                continue
            gap = now_ts - identity.last_seen
            if gap <= 0 or gap > self.max_gap_s:
                continue  # seen this very frame under another track: not lost
            distance = math.hypot(track.foot[0] - identity.foot[0], track.foot[1] - identity.foot[1])
            if distance <= self._reach(gap) and distance < best_distance:
                best, best_distance = identity, distance
        return best

    def _forget(self, now_ts: float) -> None:
        for identity_id in [i for i, identity in self._all.items() if now_ts - identity.last_seen > self.max_gap_s]:
            self.forget(identity_id)


def could_be(lost: Identity, seen: Identity, max_distance: float) -> bool:
    """Whether the one ``lost`` could be ``seen``: lost before ``seen`` came into view, near enough where ``seen``
    was first seen to have walked there since at ``WALK_REACH``; lost after, seen within ``max_distance`` of where
    ``seen`` stood at some moment both were in view (one person, two boxes)."""
    if lost.last_seen < seen.in_view_since:
        t, x, y = next(((t, x, y) for t, x, y in seen.history if t >= seen.in_view_since), (seen.last_seen, *seen.foot))
        return math.dist((x, y), lost.foot) <= max_distance + WALK_REACH * (t - lost.last_seen)
    where = {t: (x, y) for t, x, y in lost.history if t >= seen.in_view_since}
    return any(math.dist((x, y), where[t]) <= max_distance for t, x, y in seen.history if t in where)
