"""The queues of a service hall: who waits, since when, and in what order they are called.

``Queues`` keeps one queue entry per waiting citizen, keyed by identity (``identity.py``). A long queue is
where trackers fail most: people at the back stand half hidden behind the ones in front, so their
identities come and go, and neighbours' identities swap as the line moves up. The entries stay true anyway:

- a citizen joins a queue once seen standing in a queue zone for ``confirm_s`` (the entry dates from the first
  sight): one passing through, or a detector's false box seen for a frame or two, holds no entry and raises no
  long wait;
- a citizen is served in the order they came (the one reaching a desk takes the earliest entry still waiting,
  ``take_turn``; a session starting with someone never seen queueing, while others wait, is the head of the
  queue, ``settle_turn``); when the one arriving had just walked in, the tracker may have swapped them with
  the head as they passed: if the head's identity still stands in the queue ``max_gap_s`` later, someone waits
  under it, and takes a lost entry, a missing citizen's, or else one from when the walk-in joined (``_unswap``);
  one served at a desk right after a stop too short to be a session, by one lost there where both stood, is
  that one under a second box and keeps their entry (``carry_on``);
- a waiting citizen lost for good leaves their entry behind (a *lost entry*, keyed by a negative number) and
  the next citizen first seen already standing in a queue takes the earliest of them: that is someone found
  again, since newcomers walk in and are seen well away from the queue (or coming into the picture at its edge)
  first (``_entry``); with none left behind, they are a waiting citizen the tracker is still looking for, back under
  a new identity, and take that one's entry; with nobody to be, they are a second box on someone already
  waiting (a half-hidden person's shoulder boxed apart, at a busy queue): they hold no entry, and are asked
  again each frame (the one they shadow may be lost later). Only in the camera's first ``max_gap_s`` does
  someone first seen in a queue join it there (they were waiting when it started), and not a box far shorter
  than the nearest person in the picture (``PART_HEIGHT``: a thing the detector took for a person);
- an identity seen in a queue and then well away from every queue zone (``OUTSIDE_MARGIN``) walks in again
  and joins from when it steps back in; one whose box only touches a zone's line has not left, nor has one
  whose box is drawn around two people for a frame (``SEVERAL_HEIGHT``), its foot point far below theirs;
- a newcomer the detector missed crossing the hall is first boxed at the back of a queue, by its line: a track
  first seen outside every queue zone, its box on its own (not mostly inside another one's, ``SHADOW_SHARE``,
  nor far shorter than the nearest one waiting, ``PART_HEIGHT``: that is a head-and-shoulders box of someone
  waiting), that goes on well into a zone walked in, and joins from its first step in;
- a queue's length counts the citizens seen in it (or waiting on its line, ``OUTSIDE_MARGIN``, or seen only from
  the waist up, their foot point above it) and the waiting ones out of sight (hidden behind the ones in front, or
  lost to the tracker), where they were last seen;
- lost entries are dropped once every queue has stood empty for ``max_gap_s``, or ``lost_keep_s`` after the
  loss (someone who gave up and left is lost too, and must not lend a newcomer their wait for long);
- a ``long_wait`` alarm follows the entry, not the identity (``long_waits.py``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cameras.geometry import ZoneSpec
from core.types import Event

from .base import IncidentLatch, RuleOutput
from .boxes import PART_HEIGHT, SEVERAL_HEIGHT, at_edge, height_share, in_queues, part_of_someone
from .identity import Identities, Identity, could_be
from .long_waits import LongWaits, Taken

OUTSIDE_MARGIN = 0.02  # normalized: someone this far outside every queue zone has left the queues


class Queues:
    """Queue entries, turns and long waits of one camera's queue zones."""

    def __init__(self, zones: Sequence[ZoneSpec], identities: Identities, hold_s: float,
                 long_wait: Callable[[], IncidentLatch], lost_keep_s: float = 600.0, confirm_s: float = 0.0) -> None:
        self.zones = list(zones)
        self.identities = identities
        self.hold_s = hold_s  # a citizen lost for less still counts where last seen
        self.confirm_s = confirm_s  # seen in a queue zone this long (since first seen there): joined the queue
        self.first_in: dict[int, datetime] = {}  # identity -> first sight in a queue zone, not yet an entry
        self.enter: dict[int, datetime] = {}  # identity (or lost entry, < 0) -> first entry into a queue zone
        self.arrived: dict[int, datetime] = {}  # citizen identity -> first confirmed arrival at a counter
        self.last: dict[int, tuple[str, float]] = {}  # identity -> (queue zone, last time seen in it)
        self.where: dict[int, str] = {}  # waiting citizen (identity or lost entry) -> the queue zone last seen in
        self.displaced: set[int] = set()  # identities whose entry went to a citizen served (``settle_turn``)
        self.came_in: dict[int, float] = {}  # identity -> when its track was first seen, outside the queues, on its own
        self.handed: set[int] = set()  # identities that took a lost citizen's wait at a counter (``hand_over``)
        self.walked_in: set[int] = set()  # came into view at the picture's edge, or seen well away from the queues
        self.long_waits = LongWaits(long_wait)
        self.lengths: dict[str, int] = {z.name: 0 for z in self.zones}
        self._empty_since: float | None = None
        self.lost_keep_s = lost_keep_s
        self._lost_keys = itertools.count(-1, -1)
        self._lost_at: dict[int, float] = {}  # lost entry -> when its citizen was lost
        self._started: float | None = None  # the first frame seen
        self._displaced_at: dict[int, tuple[float, datetime | None]] = {}  # displaced -> (when, walk-in's joining)
        self._handed_walk_in: tuple[float, datetime] | None = None  # (when, joining) of a walk-in handed a wait

    # -- following citizens ----------------------------------------------------------------------------
    def follow(self, citizens: Sequence[Identity], now: datetime, ts: float) -> dict[str, int]:
        """Update with the citizens seen now; return each queue zone's length."""
        if self._started is None:
            self._started = ts
        self._let_go(ts)
        queued = in_queues(citizens, self.zones)  # once a frame: read for each citizen outside the zones
        for citizen in citizens:
            if citizen.since >= ts and not any(z.contains(citizen.foot) for z in self.zones) and \
                    not part_of_someone(citizen, citizens, queued):
                self.came_in[citizen.id] = ts  # a new track outside the queues, not a part of someone's box
            if citizen.first_seen >= ts and at_edge(citizen.track.box):
                self.walked_in.add(citizen.id)  # came into the picture here: walked in
            zone = next((z for z in self.zones if z.contains(citizen.foot)), None)
            if zone is None:
                # Walked in: coming into the picture, or seen well away from the queues (a box on a queue zone's
                # line, whether first seen there or stepping over it, is someone in the queue, not someone coming
                # or coming back; nor is one box around two people, one in front of the other, for a frame).
                if citizen.id not in self.walked_in and all(
                        z.distance(citizen.foot) > OUTSIDE_MARGIN for z in self.zones) and \
                        height_share(citizen, queued) <= SEVERAL_HEIGHT:
                    self.walked_in.add(citizen.id)
                    self.first_in.pop(citizen.id, None)  # a box that stood in a queue before: they join on coming in
                if citizen.id in self.enter and citizen.id not in self.arrived:
                    self._still_waiting(citizen, queued, ts)
                continue
            if citizen.id not in self.walked_in and self.came_in.get(citizen.id) == citizen.since and \
                    zone.depth(citizen.foot) > OUTSIDE_MARGIN:
                # Walked well into the queue from outside it: missed by the detector until close to the queue.
                self.walked_in.add(citizen.id)
                stepped = next(t for t, x, y in citizen.history if t >= citizen.since and zone.contains((x, y)))
                self.first_in[citizen.id] = now - timedelta(seconds=ts - stepped)
            self.last[citizen.id] = (zone.name, ts)
            self.where[citizen.id] = zone.name
            if citizen.id in self.displaced:
                self._unswap(citizen, ts)
            if citizen.id not in self.arrived and citizen.id not in self.displaced and citizen.id not in self.enter:
                first = self.first_in.setdefault(citizen.id, now)
                if (now - first).total_seconds() >= self.confirm_s:
                    del self.first_in[citizen.id]
                    self._entry(citizen, first, ts)
        counts = {z.name: 0 for z in self.zones}
        for identity_id, (zone_name, seen) in list(self.last.items()):
            if identity_id in self.arrived or ts - seen > self.hold_s:
                del self.last[identity_id]
            else:
                counts[zone_name] += 1
        # Queues seen empty for a while: nobody is hidden there (the last one may still be walking to a desk).
        self._empty_since = None if any(counts.values()) else (self._empty_since or ts)
        empty = self._empty_since is not None and ts - self._empty_since > self.identities.max_gap_s
        for key in [k for k in self.enter if k < 0 and (empty or ts - self._lost_at[k] > self.lost_keep_s)]:
            del self.enter[key]
            del self._lost_at[key]
        self.lengths = self._add_out_of_sight(counts, {c.id for c in citizens})
        return self.lengths

    def _still_waiting(self, citizen: Identity, queued: Sequence[Identity], ts: float) -> None:
        """A waiting citizen seen outside every queue zone who has not left it: standing on a queue's line (their
        foot just over it), or seen only from the waist up (``PART_HEIGHT``: their legs hidden behind someone in
        front, their box's foot point well above where they stand) where they were last seen waiting."""
        if line := next((z for z in self.zones if z.distance(citizen.foot) <= OUTSIDE_MARGIN), None):
            self.last[citizen.id] = (line.name, ts)
        elif (was := self.where.get(citizen.id)) is not None and \
                height_share(citizen, queued) < PART_HEIGHT:
            self.last[citizen.id] = (was, ts)

    def _add_out_of_sight(self, counts: dict[str, int], seen: set[int]) -> dict[str, int]:
        """Waiting citizens out of sight (hidden behind the ones in front, or lost to the tracker) still stand
        where they were last seen: a long queue is longer than the people the detector can see in it."""
        sole = self.zones[0].name if len(self.zones) == 1 else None
        for key in self.waiting():
            zone_name = self.where.get(key, sole)
            if key not in self.last and key not in seen and zone_name in counts:
                counts[zone_name] += 1
        for key in [k for k in self.where if k not in self.enter and k not in self.last]:
            del self.where[key]
        return counts

    def _entry(self, citizen: Identity, now: datetime, ts: float) -> None:
        """Someone who walked in was seen outside the queues first: they join now. Someone first seen standing in
        a queue is a waiting citizen found again: they take the earliest entry the lost ones left behind, or else
        the entry of the nearest waiting citizen the tracker is still looking for (hidden behind the one in
        front and back under a new identity before the old one was given up): a new entry would count them
        twice, and the entry nobody holds would lend its wait to each citizen served after it. With neither, they
        are nobody new (a second box on someone waiting) and hold no entry, unless the camera has only just
        started. See the module's docstring."""
        if citizen.id in self.walked_in:
            self.enter[citizen.id] = now
        elif not self._take_waiting(citizen, ts):
            # In the queue when the camera started: waiting since first seen. Unless the box is far shorter than
            # the nearest person in the picture: a part of someone, or a thing the detector took for a person.
            if self._started is None or (citizen.first_seen - self._started <= self.identities.max_gap_s and
                    height_share(citizen, self.identities.visible) >= PART_HEIGHT):
                self.enter[citizen.id] = now
            elif (joined := self._swapped_walk_in(citizen, ts)) is not None:
                self.enter[citizen.id] = joined
            else:
                self.first_in[citizen.id] = now  # nobody to be: a second box on someone waiting; asked again later

    def _swapped_walk_in(self, citizen: Identity, ts: float) -> datetime | None:
        """When a walk-in who had just stepped into the queue is swapped with the head going up to a desk, the
        walk-in's identity arrives there and takes the head's entry (``settle_turn``); if the head's own identity
        is gone meanwhile (lost on the way, not left standing in the queue for ``_unswap``), the walk-in stands in
        the queue under a new one. ``citizen``, first seen in a queue with nobody else to be, within ``max_gap_s``
        of that, is them: the walk-in's joining time (and the displacement is settled). The same goes when the
        walk-in's identity, new in the hall, was taken at the desk for the head found again (``hand_over``)."""
        if self._handed_walk_in is not None:  # the same swap, the walk-in's identity taken for the head found again
            when, joined = self._handed_walk_in
            self._handed_walk_in = None
            if abs(ts - when) <= self.identities.max_gap_s:
                return joined
        visible = {i.id for i in self.identities.visible}
        for head, (when, joined) in list(self._displaced_at.items()):
            if joined is not None and head not in visible and abs(ts - when) <= self.identities.max_gap_s:
                del self._displaced_at[head]
                self.displaced.discard(head)
                return joined
        return None

    def _take_waiting(self, citizen: Identity, ts: float) -> bool:
        """``citizen`` is someone already waiting: they take the earliest lost entry, or else the entry of the
        nearest waiting citizen the tracker is still looking for (who is then forgotten). False: neither."""
        if lost := [k for k in self.enter if k < 0]:
            self._move(min(lost, key=lambda k: self.enter[k]), citizen.id)
            return True
        missing = [i for i in self.identities.lost(ts) if i.id in self.enter and i.id not in self.arrived
                   and any(z.contains(i.foot) for z in self.zones)]
        if not missing:
            return False
        was = min(missing, key=lambda i: math.dist(i.foot, citizen.foot))
        self._move(was.id, citizen.id)
        self.last.pop(was.id, None)
        self.identities.forget(was.id)
        return True

    def _unswap(self, citizen: Identity, ts: float) -> None:
        """A displaced identity still standing in a queue ``max_gap_s`` after its entry went to the desk is on
        someone waiting: the one the tracker swapped it with, or the neighbour behind. They take a lost entry,
        the entry of a waiting citizen the tracker is looking for, or else a new one from when the walk-in who
        reached the desk in their place joined."""
        when, joined = self._displaced_at.get(citizen.id, (ts, None))
        if ts - when < self.identities.max_gap_s:
            return
        if not self._take_waiting(citizen, ts):
            if joined is None:
                return  # nobody's entry to take yet: stays displaced, and asks again
            self.enter[citizen.id] = joined
        self.displaced.discard(citizen.id)
        self._displaced_at.pop(citizen.id, None)

    def _move(self, key: int, to: int) -> None:
        """Entry ``key`` (and its long-wait alarm) now belongs to ``to``."""
        self.enter[to] = self.enter.pop(key)
        self._lost_at.pop(key, None)
        if key in self.where:
            self.where[to] = self.where.pop(key)
        self.long_waits.move(key, to)

    def _lose(self, entry: datetime, ts: float) -> int:
        """A new lost entry (a citizen lost for good at ``ts``); returns its key."""
        key = next(self._lost_keys)
        self.enter[key] = entry
        self._lost_at[key] = ts
        return key

    def waiting(self) -> list[int]:
        return [k for k in self.enter if k not in self.arrived and (k < 0 or self.identities.get(k) is not None)]

    def head(self) -> int | None:
        """The key of the earliest entry still waiting."""
        return min(self.waiting(), key=lambda k: self.enter[k], default=None)

    # -- at the desk -----------------------------------------------------------------------------------
    def hand_over(self, citizen: Identity, ts: float) -> None:
        """A newcomer at a counter who was never seen queueing is taken to be the waiting citizen the tracker
        lost most recently (people leave the queue for a counter): the wait goes with them. (Not necessarily the
        one who walked up: as the line moves up, the tracker often moves each identity one person forward and
        loses the one at the back, in the very frame the head is boxed anew at the desk; turns taken in the
        order people came, ``take_turn``, put the waits right.)"""
        if citizen.id in self.enter or citizen.id in self.arrived:
            return
        if ts - citizen.in_view_since > self.identities.max_gap_s:
            return  # in view a while and never in a queue: walked in straight to the counter
        waiting = [i for i in self.identities.lost(ts) if i.id in self.enter and i.id not in self.arrived]
        if not waiting:
            return
        # A walk-in who had just stepped into the queue may be the tracker's swap with the head going up (see
        # ``settle_turn``): the wait goes rightly with the identity at the desk, and the walk-in, found again in
        # the queue, joined when they stepped in (``_swapped_walk_in``).
        if citizen.id in self.walked_in and (joined := self.first_in.get(citizen.id)) is not None:
            self._handed_walk_in = (ts, joined)
        self.take_over(max(waiting, key=lambda i: i.last_seen).id, citizen.id)
        self.handed.add(citizen.id)

    def carry_on(self, was: int, citizen_id: int) -> datetime | None:
        """``was`` stopped at a desk too briefly to be served, and ``citizen_id``, never seen queueing, is served
        there next: when ``was`` is lost and could be them (``could_be``: one person, two boxes, the first
        lost at the desk), ``citizen_id`` takes ``was``'s entry, which is returned (None: not so). Otherwise the
        one served next took the turn after the one who was there a moment ago, and every later turn the one
        before theirs. A wait ``citizen_id`` was handed at the desk (``hand_over``: taken for someone who left
        the queue, which was ``was``) goes back to the queue: ``was``, waiting again, holds it until given up."""
        lost, citizen = self.identities.get(was), self.identities.get(citizen_id)
        if lost is None or citizen is None or was not in self.enter or \
                (citizen_id in self.enter and citizen_id not in self.handed) or \
                any(i.id == was for i in self.identities.visible) or \
                not could_be(lost, citizen, self.identities.max_distance):
            return None
        if citizen_id not in self.enter:
            self.take_over(was, citizen_id)
            return self.enter[citizen_id]
        self.enter[was], self.enter[citizen_id] = self.enter[citizen_id], self.enter[was]
        self.long_waits.swap(was, citizen_id)
        self.arrived.pop(was, None)
        self.handed.discard(citizen_id)
        return self.enter[citizen_id]

    def leave_behind(self, identity_id: int, ts: float) -> None:
        """``identity_id`` is not the citizen waiting under their entry, nor one who arrived at a desk: the entry
        (and its alarm) is left behind as a lost entry, for the next citizen found again in a queue (``_entry``),
        or reaching a desk (``take_turn``)."""
        if identity_id in self.enter:
            if identity_id in self.arrived:
                self.long_waits.reopen(identity_id)  # the long wait its arrival ended goes on
            self._move(identity_id, self._lose(self.enter[identity_id], ts))
        self.arrived.pop(identity_id, None)
        self.handed.discard(identity_id)

    def take_over(self, lost_id: int, citizen_id: int) -> None:
        """``lost_id`` was the tracker's name for ``citizen_id`` for a while: its entry goes to them, and it is
        forgotten (its tracks are someone else's, if they come back)."""
        self._move(lost_id, citizen_id)
        self.last.pop(lost_id, None)
        self.identities.forget(lost_id)

    def take_turn(self, citizen: Identity) -> None:
        """Citizens are called in the order they came: the one reaching a counter takes the earliest entry still
        waiting, and whoever held it takes theirs. In a long queue the tracker swaps neighbours' identities as
        the line moves up; the order in which they came stays true."""
        if citizen.id in self.arrived or citizen.id not in self.enter:
            return
        # A lost entry counts too: most are people hidden at the back, still waiting (one who gave up and left
        # lends their wait to the next one served until it lapses, ``lost_keep_s``).
        earliest = min((k for k in self.waiting() if k != citizen.id), key=lambda k: self.enter[k], default=None)
        if earliest is None or self.enter[earliest] >= self.enter[citizen.id]:
            return
        a, b = citizen.id, earliest
        self.enter[a], self.enter[b] = self.enter[b], self.enter[a]
        self.long_waits.swap(a, b)

    def settle_turn(self, citizen_id: int, arrival: datetime) -> Taken | None:
        """The entry a session starting with ``citizen_id`` (who has none) takes: the head of the queue's, when
        citizens wait. Its identity is often still on the books (the tracker gave that person a new identity at
        the desk, or moved the old one to the neighbour behind); it gives the entry up and takes no new one, so
        later turns keep their own. Anyone else seen in the hall for over ``max_gap_s`` before arriving, and not
        standing in a queue on the way (about to join it: the tracker may have swapped them with the head as they
        stepped in), walked in past the queue and keeps no wait. ``give_back`` undoes it (too short a stop)."""
        citizen = self.identities.get(citizen_id)
        if citizen is None:
            return None
        seen_long = arrival.timestamp() - citizen.in_view_since > self.identities.max_gap_s
        if seen_long and citizen_id not in self.displaced and citizen_id not in self.first_in:
            return None
        head = self.head()
        if head is None:
            return None
        entry = self.enter.pop(head)
        if head > 0:
            self.last.pop(head, None)
            self.displaced.add(head)
            # When the one arriving walked in and had just stepped into the queue, the tracker may have swapped them
            # with the head as they passed: the head's identity then stays standing in the queue on the walk-in
            # (``_unswap``). A new identity made at the desk for the head was never in a queue.
            joined = self.first_in.get(citizen_id) if citizen_id in self.walked_in else None
            self._displaced_at[head] = (arrival.timestamp(), joined)
        return Taken(head, entry, self.long_waits.get(head))

    def give_back(self, taken: Taken, ts: float) -> None:
        """Undo ``settle_turn``: the entry waits again, with its holder if the tracker still knows them; the
        long-wait alarm that taking it ended, if one was raised, goes on (one wait, one alarm)."""
        key = taken.key
        if key > 0 and key in self.displaced and self.identities.get(key) is not None:
            self.displaced.discard(key)
            self._displaced_at.pop(key, None)
            self.enter[key] = taken.entry
        else:
            key = self._lose(taken.entry, ts)
        if taken.alarm is not None:
            self.long_waits.keep(taken.alarm, key)

    def arrive(self, identity_id: int, arrival: datetime) -> None:
        if identity_id not in self.arrived:
            self.arrived[identity_id] = arrival
            self.last.pop(identity_id, None)
            self.first_in.pop(identity_id, None)

    # -- forgotten identities, long waits ----------------------------------------------------------------
    def _let_go(self, ts: float) -> None:
        """Forgotten identities never come back: a waiting one leaves its entry (and alarm) behind, counted in the
        queue in the same frame; others drop their arrival (or one who walked straight to a desk stays there)."""
        for identity_id in [i for i in (*self.enter, *self.arrived, *self.displaced, *self.walked_in, *self.first_in,
                                        *self.came_in, *self.handed) if i > 0 and self.identities.get(i) is None]:
            self.first_in.pop(identity_id, None)
            if identity_id in self.enter and identity_id not in self.arrived:
                self.leave_behind(identity_id, ts)
            self.enter.pop(identity_id, None)
            self.arrived.pop(identity_id, None)
            self.handed.discard(identity_id)
            self.displaced.discard(identity_id)
            self._displaced_at.pop(identity_id, None)
            self.came_in.pop(identity_id, None)
            self.walked_in.discard(identity_id)

    def alarms(self, now: datetime, out: RuleOutput, make: Callable[[datetime, int | None], Event]) -> None:
        """Step the long-wait alarms of the entries (``make(start, track_id)`` builds one)."""
        self.long_waits.step(self.waiting(), self.enter, self.handed, now, out, make)
