"""One service counter: is the officer there (with hysteresis), and which citizen is being served.

Both parts are plain state machines fed once per frame by ``vision.rules.hall.HallRule``; times are
aware datetimes. Thresholds (keys of the zones' ``thresholds``, defaults in ``COUNTER_DEFAULTS``):

- ``present_after_s`` (3): someone must be in the staff zone this long before the officer counts present;
- ``absent_after_s`` (20): the staff zone must be empty this long before the officer counts absent, so a
  short occlusion or detector miss does not flip presence; the absence is backdated to when it began. The
  first state is confirmed the same way (unknown until then): an officer found within ``absent_after_s`` of
  the camera's start was there from the start;
- ``enter_confirm_s`` (2): a citizen must stay this long in the customer zone to count as arrived there
  (passers-by do not end a wait); the arrival is backdated to the first moment in the zone;
- ``leave_after_s`` (8): a citizen out of the customer zone (or unseen) this long has left the counter;
  the session ends at the last moment they were seen in it;
- ``service_min_s`` (20): a shorter stay at the desk is not a service session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cameras.geometry import ZoneSpec
from core.types import CounterSession

COUNTER_DEFAULTS: dict[str, float] = {
    "present_after_s": 3.0,
    "absent_after_s": 20.0,
    "enter_confirm_s": 2.0,
    "leave_after_s": 8.0,
    "service_min_s": 20.0,
    "absence_min_s": 300.0,
}


@dataclass(frozen=True)
class CounterSpec:
    """A counter as the camera sees it: the officer's side of the desk and the citizen's side."""

    counter_id: int
    staff_zone: ZoneSpec
    customer_zone: ZoneSpec
    queue_zones: tuple[str, ...] | None = None  # names of the queue zones that feed it; None: all of the hall


@dataclass
class OfficerPresence:
    """Officer present/absent with hysteresis on the raw "someone is in the staff zone" signal."""

    present_after_s: float = 3.0
    absent_after_s: float = 20.0
    present: bool | None = None  # None until the first state is confirmed
    since: datetime | None = None  # when the current state began (backdated)
    _change_since: datetime | None = None
    _started: datetime | None = None  # the first frame
    _seen_at: datetime | None = None  # while unknown: the last frame someone was there

    @property
    def pending(self) -> bool:
        """A change (or the first state) is being confirmed: the state as of now may yet be backdated."""
        return self._change_since is not None or self.present is None

    def update(self, someone_there: bool, now: datetime) -> bool | None:
        """Feed the raw signal; return the new state when it flipped this frame, else None."""
        if self.present is None:
            return self._first_state(someone_there, now)
        if someone_there == self.present:
            self._change_since = None
            return None
        self._change_since = self._change_since or now
        needed = self.present_after_s if someone_there else self.absent_after_s
        if (now - self._change_since).total_seconds() < needed:
            return None
        self.present, self.since, self._change_since = someone_there, self._change_since, None
        return someone_there

    def _first_state(self, someone_there: bool, now: datetime) -> bool | None:
        """The first state, confirmed as a change is: someone there for ``present_after_s``, or nobody for
        ``absent_after_s``. An empty desk at the camera's start, shorter than ``absent_after_s``, is a detector
        still finding the officer, not an absence: presence then dates from the start."""
        self._started = self._started or now
        if not someone_there:
            self._change_since = None
            empty_since = self._seen_at or self._started
            if (now - empty_since).total_seconds() >= self.absent_after_s:
                self.present, self.since = False, empty_since
                return False
            return None
        self._seen_at = now
        self._change_since = self._change_since or now
        if (now - self._change_since).total_seconds() < self.present_after_s:
            return None
        first = self._change_since
        self.present, self._change_since = True, None
        self.since = self._started if (first - self._started).total_seconds() < self.absent_after_s else first
        return True


@dataclass
class ZoneStays:
    """When each identity's current stay in one zone began and when it was last seen in it."""

    leave_after_s: float
    since: dict[int, datetime] = field(default_factory=dict)
    last_in: dict[int, datetime] = field(default_factory=dict)

    def update(self, inside: Iterable[int], now: datetime) -> None:
        for identity in inside:
            last = self.last_in.get(identity)
            if last is None or (now - last).total_seconds() > self.leave_after_s:
                self.since[identity] = now
            self.last_in[identity] = now
        for identity in [i for i, t in self.last_in.items() if (now - t).total_seconds() > self.leave_after_s]:
            del self.last_in[identity]
            del self.since[identity]


@dataclass
class ServiceDesk:
    """Which citizen is at the counter, and the sessions that result (one citizen at a time)."""

    counter_id: int
    enter_confirm_s: float = 2.0
    leave_after_s: float = 8.0
    service_min_s: float = 20.0
    stays: ZoneStays = field(init=False)
    citizen: int | None = None
    service_start: datetime | None = None
    queue_enter: datetime | None = None
    last_in: datetime | None = None
    free_since: datetime | None = None  # end of the previous session: the next one cannot start before
    unserved: int | None = None  # the citizen whose last stop here was too short to be a session

    def __post_init__(self) -> None:
        self.stays = ZoneStays(self.leave_after_s)

    def arrivals(self) -> dict[int, datetime]:
        """Identities confirmed in the customer zone (seen there ``enter_confirm_s``), with their arrival."""
        return {i: since for i, since in self.stays.since.items()
                if (self.stays.last_in[i] - since).total_seconds() >= self.enter_confirm_s}

    def update(self, inside: Iterable[int], now: datetime, officer_present: bool, officer_since: datetime | None,
               queue_enter_of: dict[int, datetime]) -> CounterSession | None:
        """Advance with the identities in the customer zone; return a session when one just ended."""
        self.stays.update(inside, now)
        finished = None
        if self.citizen is not None:
            if self.citizen in self.stays.last_in:
                self.last_in = self.stays.last_in[self.citizen]
            else:
                finished = self.close()
        if self.citizen is None and officer_present:
            arrived = self.arrivals()
            if arrived:
                citizen = min(arrived, key=lambda i: arrived[i])
                # Service begins when the citizen, the officer and a free desk are all there.
                starts = [arrived[citizen], officer_since, self.free_since]
                self.service_start = max(t for t in starts if t is not None)
                self.citizen = citizen
                self.queue_enter = queue_enter_of.get(citizen)
                self.last_in = self.stays.last_in[citizen]
        return finished

    def pass_on(self, to: int, queue_enter: datetime | None) -> CounterSession | None:
        """The citizen served left under a new identity and the tracker kept theirs on ``to``, the next one, who
        had come up to the desk (and was lost there): end the session, and start the next one's under the same
        identity, from the moment the desk is free, with ``to``'s queue entry. Returns the session ended."""
        citizen, arrived = self.citizen, self.stays.since.get(to)
        finished = self.close()
        if citizen is not None and arrived is not None and self.free_since is not None:
            self.citizen, self.queue_enter = citizen, queue_enter
            self.service_start = self.last_in = max(arrived, self.free_since)
        return finished

    def close(self) -> CounterSession | None:
        """End the session in progress at the citizen's last moment at the desk (None: none, or too short)."""
        if self.citizen is None or self.service_start is None or self.last_in is None:
            return None
        session = None
        if (self.last_in - self.service_start).total_seconds() >= self.service_min_s:
            session = CounterSession(counter_id=self.counter_id, service_start=self.service_start,
                                     service_end=self.last_in, track_id=self.citizen, queue_enter=self.queue_enter)
        self.free_since = self.last_in
        self.unserved = self.citizen if session is None else None
        self.citizen, self.service_start, self.queue_enter, self.last_in = None, None, None, None
        return session
