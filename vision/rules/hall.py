"""Counter monitoring for one camera of a service hall: officers, queues, waits, sessions and alerts.

``HallRule(camera_id, counters, queue_zones, calendar)`` is fed the camera's tracks each frame. Only
``person`` tracks count; a person in a staff zone is an officer, anyone else a citizen. It produces:

- observations every ``observe_every_s`` (10): ``officer_present`` (1/0, zone = staff zone) per counter,
  ``queue_length`` (median of the interval's samples, zone = queue zone) per queue zone, counting the waiting
  citizens out of sight where they were last seen (``waits.py``), ``hall_count``;
- ``CounterSession`` rows when a citizen leaves a counter after being served (see ``counter.py``), with
  ``queue_enter`` = the citizen's first entry into a queue zone, so ``wait_s`` = service start - that; when the
  tracker keeps the served one's identity at the desk on the next citizen (who came up as they got up, and whose
  own identity is lost there, while the one served walks off under an identity that never queued, or one first
  seen beside the desk, or one that took a lost citizen's wait there and left again), the session
  ends there and the next one's starts under the same identity, with the next one's wait (``_swapped_at_desk``),
  and the lost identity is forgotten (a track of it that comes back is someone new);
- events: ``officer_absent`` (absence during working hours over ``absence_min_s`` = 300 s; snapshots at
  start and end; outside working hours nothing, and an absence is cut at closing time),
  ``counter_unattended_with_queue`` (officer absent and the counter's queues hold at least
  ``unattended_queue_min`` = 3 people for ``unattended_hold_s`` = 60 s, in working hours),
  ``long_wait`` (a citizen queueing over ``long_wait_s`` = 900 s), ``hall_overcrowded`` (more citizens
  than ``capacity`` for ``overcrowded_hold_s`` = 30 s; only when a capacity is given).

Identities survive track breaks (``identity.py``: ``reassoc_gap_s`` = 30, ``reassoc_distance`` = 0.06), so
a wait does not restart when the tracker loses someone: people sitting in a hall stay put, and a detector
can miss someone half hidden by their neighbours for tens of seconds. Queue entries, turns and long waits are
kept by ``waits.Queues``: a newcomer at a counter who was never seen queueing takes over the wait of the
queueing citizen the tracker lost most recently (the walk from a seat to the desk is where trackers lose
people), citizens are served in the order they came, and a waiting citizen lost for good leaves their entry
for whoever is found again standing in the queue, while someone first seen mid-queue with nobody lost or missing
is a second box on someone waiting and holds none, so identities swapped, lost or doubled in a long queue do not
move the waits (an entry left behind lapses after ``lost_entry_s`` = 600, or once the queues stood empty for
``reassoc_gap_s``). A citizen lost for less than ``queue_hold_s`` (3) still counts in the queue where they were
last seen; one joins a queue (and can raise a long wait) once seen in a queue zone for ``queue_confirm_s`` (5),
the wait counting from the first sight there. Thresholds come from the counters' zones and the queue zones
(``thresholds`` mapping), then the ``thresholds`` argument, then these defaults.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cameras.geometry import ZoneSpec
from core.types import Event, EventType, Observation, Severity, Track

from .base import AlwaysOpen, IncidentLatch, OpenHours, RuleOutput, anchor_point, emit, live_tracks, setting
from .counter import COUNTER_DEFAULTS, CounterSpec, OfficerPresence, ServiceDesk
from .identity import Identities, Identity
from .long_waits import Taken
from .waits import Queues

HALL_DEFAULTS: dict[str, float] = {
    **COUNTER_DEFAULTS,
    "observe_every_s": 10.0,
    "queue_hold_s": 3.0,
    "queue_confirm_s": 5.0,
    "unattended_queue_min": 3.0,
    "unattended_hold_s": 60.0,
    "long_wait_s": 900.0,
    "overcrowded_hold_s": 30.0,
    "update_every_s": 30.0,
    "cooldown_s": 60.0,
    "reassoc_gap_s": 30.0,
    "reassoc_distance": 0.06,
    "lost_entry_s": 600.0,
}


class _Counter:
    """Per-counter state inside the hall rule."""

    def __init__(self, spec: CounterSpec, t: Mapping[str, Any]) -> None:
        self.spec = spec
        self.anchor = str(t.get("anchor", "foot"))
        self.presence = OfficerPresence(setting(t, "present_after_s", 3.0), setting(t, "absent_after_s", 20.0))
        self.desk = ServiceDesk(spec.counter_id, setting(t, "enter_confirm_s", 2.0), setting(t, "leave_after_s", 8.0),
                                setting(t, "service_min_s", 20.0))
        self.absence = IncidentLatch(setting(t, "absence_min_s", 300.0),
                                     update_every_s=setting(t, "update_every_s", 30))
        self.last_sample: datetime | None = None  # time of the last periodic presence observation
        self.turn_of: int | None = None  # the citizen of the session last started
        self.taken: Taken | None = None  # the queue entry that session took (``Queues.settle_turn``)
        self.unattended = IncidentLatch(setting(t, "unattended_hold_s", 60.0), clear_s=5.0,
                                        cooldown_s=setting(t, "cooldown_s", 60.0),
                                        update_every_s=setting(t, "update_every_s", 30))


class HallRule:
    """Counters, queues and the hall of one camera (see the module docstring)."""

    name = "hall"

    def __init__(self, camera_id: int | None, counters: Sequence[CounterSpec], queue_zones: Sequence[ZoneSpec] = (),
                 calendar: OpenHours | None = None, site_id: int | None = None,
                 thresholds: Mapping[str, Any] | None = None, capacity: int | None = None) -> None:
        self.camera_id, self.site_id = camera_id, site_id
        self.calendar = calendar or AlwaysOpen()
        self.queue_zones = list(queue_zones)
        hall: dict[str, Any] = dict(HALL_DEFAULTS)
        for zone in self.queue_zones:
            hall.update(zone.thresholds)
        hall.update(thresholds or {})
        self.t = hall
        self.capacity = capacity if capacity is not None else hall.get("capacity")
        self.counters = [_Counter(c, {**hall, **c.staff_zone.thresholds, **c.customer_zone.thresholds,
                                      **(thresholds or {})}) for c in counters]
        self.identities = Identities(setting(hall, "reassoc_gap_s", 30), setting(hall, "reassoc_distance", 0.06),
                                     refound_within_reach=True)
        self.observe_every_s = setting(hall, "observe_every_s", 10)
        self.queue_hold_s = setting(hall, "queue_hold_s", 3)
        self.long_wait_s = setting(hall, "long_wait_s", 900)
        update_every_s = setting(hall, "update_every_s", 30)
        self.queues = Queues(self.queue_zones, self.identities, self.queue_hold_s,
                             lambda: IncidentLatch(self.long_wait_s, update_every_s=update_every_s),
                             setting(hall, "lost_entry_s", 600), setting(hall, "queue_confirm_s", 5))
        self.overcrowded = IncidentLatch(setting(hall, "overcrowded_hold_s", 30), clear_s=10.0,
                                         cooldown_s=setting(hall, "cooldown_s", 60),
                                         update_every_s=setting(hall, "update_every_s", 30))
        self._samples: dict[str, list[int]] = {z.name: [] for z in self.queue_zones}
        self._hall_samples: list[int] = []
        self._last_observed: datetime | None = None
        self._open_since: datetime | None = None

    @property
    def queue_enter(self) -> dict[int, datetime]:
        """Waiting citizen (identity, or a lost one's entry: < 0) -> first entry into a queue zone."""
        return self.queues.enter

    @property
    def arrived(self) -> dict[int, datetime]:
        """Citizen identity -> first confirmed arrival at a counter."""
        return self.queues.arrived

    @property
    def queue_lengths(self) -> dict[str, int]:
        return self.queues.lengths

    # -- the frame --------------------------------------------------------------------------------------
    def update(self, tracks: Sequence[Track], now: datetime) -> RuleOutput:
        out = RuleOutput()
        ts = now.timestamp()
        people = [t for t in live_tracks(tracks, ts) if t.class_name == "person"]
        visible = self.identities.update(people, ts)
        is_open = self.calendar.is_open(now)
        self._open_since = (self._open_since or now) if is_open else None
        officers: set[int] = set()
        for counter in self.counters:
            there = [i for i in visible if counter.spec.staff_zone.contains(anchor_point(i.track, counter.anchor))]
            officers.update(i.id for i in there)
            if counter.presence.update(bool(there), now) is not None:
                out.observations.append(self._presence_obs(counter, now))
        citizens = [i for i in visible if i.id not in officers]
        self._follow_queues(citizens, now, ts)
        for counter in self.counters:
            self._serve(counter, citizens, now, out)
        for counter in self.counters:
            self._absence(counter, now, is_open, out)
        self._long_waits(now, ts, out)
        self._crowding(citizens, now, out)
        self._observe(now, len(citizens), out)
        return out

    def _follow_queues(self, citizens: list[Identity], now: datetime, ts: float) -> None:
        for name, count in self.queues.follow(citizens, now, ts).items():
            self._samples[name].append(count)

    def _serve(self, counter: _Counter, citizens: list[Identity], now: datetime, out: RuleOutput) -> None:
        zone = counter.spec.customer_zone
        inside = [i for i in citizens if zone.contains(anchor_point(i.track, "foot"))]
        for citizen in inside:
            self.queues.hand_over(citizen, now.timestamp())
        for citizen in inside:
            self.queues.take_turn(citizen)
        desk = counter.desk
        handed = None
        if (swap := self._swapped_at_desk(counter, inside, citizens)) is not None and desk.citizen is not None:
            (to, walkers), served = swap, desk.citizen
            handed = desk.pass_on(to, self.queues.enter.get(to))
            self.queues.take_over(to, served)  # the next one is the desk's identity now
            for walker in walkers:
                self.queues.leave_behind(walker, now.timestamp())  # the one served took no one's wait
        session = desk.update([i.id for i in inside], now, bool(counter.presence.present), counter.presence.since,
                              self.queues.enter)
        if handed is not None:
            out.sessions.append(handed)
        if counter.taken is not None and desk.citizen != counter.turn_of:
            if session is None:  # a passer-by or a short stop: not served, so not their turn either
                self.queues.give_back(counter.taken, now.timestamp())
            counter.taken = None
        if desk.citizen is not None and desk.citizen != counter.turn_of:
            counter.turn_of = desk.citizen  # a session just started: settle whose turn it was, once
            if desk.unserved is not None and (entry := self.queues.carry_on(desk.unserved, desk.citizen)) is not None:
                desk.queue_enter = entry  # the one there a moment ago, under a second box
            elif desk.queue_enter is None and desk.service_start is not None:
                # Their first arrival at a desk: someone who came up to the desk before (the tracker's
                # identities at the head of a line wander) was not walking in past the queue.
                arrival = self.queues.arrived.get(desk.citizen) or desk.arrivals().get(desk.citizen,
                                                                                       desk.service_start)
                counter.taken = self.queues.settle_turn(desk.citizen, arrival)
                desk.queue_enter = counter.taken.entry if counter.taken else None
        for identity_id, arrival in desk.arrivals().items():
            self.queues.arrive(identity_id, arrival)
        if session is not None:
            out.sessions.append(session)

    def _swapped_at_desk(self, counter: _Counter, inside: list[Identity],
                         citizens: list[Identity]) -> tuple[int, list[int]] | None:
        """The identity the tracker swapped with the citizen being served, as the next one came up to the desk:
        the identity served stays at the desk on the next one, the one served walks off under an identity that
        never queued (one that came to the desk, or a track first seen beside it), and the next one's own
        identity, which had come to the desk from a queue, is lost there. Returns that lost identity, with the
        identities the one served walked off under that took a lost citizen's wait at the desk (``hand_over``:
        the walk-off looked like someone coming up); None: no such swap."""
        desk = counter.desk
        if desk.citizen is None or desk.service_start is None or not any(i.id == desk.citizen for i in inside):
            return None
        seen = {i.id for i in inside}
        came = {k: since for k, since in desk.stays.since.items() if k != desk.citizen and since >= desk.service_start}
        lost = sorted((k for k in came if k not in seen and k in self.queues.enter),
                      key=lambda k: desk.stays.last_in[k], reverse=True)
        if not lost:
            return None
        # Never queued: no queue entry, or one taken at the desk by an identity gone from it again.
        handed = [k for k in came if k in self.queues.handed and k not in seen]
        walked_off = [(k, since) for k, since in came.items() if k not in self.queues.enter or k in handed]
        walked_off += [(i.id, datetime.fromtimestamp(i.since, desk.service_start.tzinfo)) for i in citizens
                       if i.id not in self.queues.enter and i.id not in came and
                       self._born_beside(i, counter.spec.customer_zone)]
        to = next((a for a in lost if any(k != a and when >= came[a] for k, when in walked_off)), None)
        return None if to is None else (to, [k for k in handed if k != to and came[k] >= came[to]])

    def _born_beside(self, citizen: Identity, zone: ZoneSpec) -> bool:
        """Whether ``citizen``'s track was first seen within re-association reach of ``zone`` (someone split off
        from a group there, not someone coming into the picture)."""
        first = next(((x, y) for t, x, y in citizen.history if t >= citizen.since), None)
        return first is not None and zone.distance(first) <= self.identities.max_distance

    def _absence(self, counter: _Counter, now: datetime, is_open: bool, out: RuleOutput) -> None:
        presence = counter.presence
        absent = presence.present is False and is_open
        since = None
        if absent and presence.since is not None and self._open_since is not None:
            since = max(presence.since, self._open_since)
        spec = counter.spec

        def make(start: datetime, kind: EventType = EventType.OFFICER_ABSENT) -> Event:
            return Event(type=kind, camera_id=self.camera_id, start=start, severity=Severity.MEDIUM,
                         zone_id=spec.staff_zone.id, counter_id=spec.counter_id, site_id=self.site_id)

        if counter.absence.is_open and presence.present and presence.since is not None:
            event = counter.absence.close(presence.since)  # back since then (the hysteresis confirmed it later)
        else:
            event = counter.absence.step(absent, now, make, since=since)
        if event is not None:
            event.attributes["absent_s"] = round(((event.end or now) - event.start).total_seconds(), 1)
        emit(out, event, now)
        queued = sum(n for name, n in self.queue_lengths.items()
                     if spec.queue_zones is None or name in spec.queue_zones)
        waiting = absent and queued >= setting(self.t, "unattended_queue_min", 3)
        event = counter.unattended.step(waiting, now, lambda s: make(s, EventType.COUNTER_UNATTENDED_WITH_QUEUE),
                                        {"queue_length": queued})
        if event is not None:
            event.severity = Severity.HIGH
        emit(out, event, now)

    def _long_waits(self, now: datetime, ts: float, out: RuleOutput) -> None:
        def make(start: datetime, track_id: int | None) -> Event:
            return Event(type=EventType.LONG_WAIT, camera_id=self.camera_id, start=start,
                         severity=Severity.LOW, site_id=self.site_id, track_id=track_id)

        self.queues.alarms(now, out, make)

    def _crowding(self, citizens: list[Identity], now: datetime, out: RuleOutput) -> None:
        if not self.capacity:
            return
        count = len(citizens)

        def make(start: datetime) -> Event:
            return Event(type=EventType.HALL_OVERCROWDED, camera_id=self.camera_id, start=start,
                         severity=Severity.MEDIUM, site_id=self.site_id)

        emit(out, self.overcrowded.step(count > float(self.capacity), now, make,
                                        {"people": count, "capacity": self.capacity}), now)

    # -- observations ------------------------------------------------------------------------------------
    def _presence_obs(self, counter: _Counter, now: datetime) -> Observation:
        """The officer's state; a change is stamped when it really began (the hysteresis backdates it)."""
        changed = counter.presence.since
        when = changed if changed is not None and changed != counter.last_sample else now
        return Observation(when, self.camera_id or 0, "officer_present", float(bool(counter.presence.present)),
                           counter.spec.staff_zone.id)

    def _observe(self, now: datetime, hall_count: int, out: RuleOutput) -> None:
        self._hall_samples.append(hall_count)
        if self._last_observed is not None and (now - self._last_observed).total_seconds() < self.observe_every_s:
            return
        self._last_observed = now
        camera = self.camera_id or 0
        for zone in self.queue_zones:
            samples = self._samples[zone.name] or [0]
            out.observations.append(Observation(now, camera, "queue_length", float(statistics.median(samples)),
                                                zone.id))
            self._samples[zone.name] = []
        out.observations.append(Observation(now, camera, "hall_count", float(statistics.median(self._hall_samples))))
        self._hall_samples = []
        for counter in self.counters:
            # Whether a citizen is being served at the desk now (the console's floor strip shows it).
            out.observations.append(Observation(now, camera, "citizen_served", float(counter.desk.citizen is not None),
                                                counter.spec.customer_zone.id))
        for counter in self.counters:
            # While a change is being confirmed the current state may be backdated: a sample now would
            # contradict the change observation stamped at its true start.
            if counter.presence.pending:
                continue
            if not any(o.metric == "officer_present" and o.zone_id == counter.spec.staff_zone.id
                       for o in out.observations):
                out.observations.append(Observation(now, camera, "officer_present",
                                                    float(bool(counter.presence.present)), counter.spec.staff_zone.id))
                counter.last_sample = now

    def close(self, now: datetime) -> RuleOutput:
        """Stop: end sessions in progress and close open events at ``now``."""
        out = RuleOutput()
        for counter in self.counters:
            session = counter.desk.close()
            if session is not None:
                out.sessions.append(session)
            for latch in (counter.absence, counter.unattended):
                emit(out, latch.close(now), now)
        self.queues.long_waits.close(now, out)
        emit(out, self.overcrowded.close(now), now)
        return out
