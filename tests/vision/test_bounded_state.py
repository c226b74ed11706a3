"""A camera runs for weeks: what the tracker and the rules remember stays bounded however many tracks come
and go (track ids keep increasing for the whole run: looping footage, a busy street, a day of citizens)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from cameras.geometry import make_zone
from core.types import CLASS_ID, Detections, EventType, Track
from scenarios.timeline import Actor, play
from vision.rules import CounterSpec, HallRule
from vision.rules.identity import MAX_TRACK_IDS
from vision.rules.street import StoppedVehicleRule
from vision.tracking import CameraTracker

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=HCM)
PERSON, CAR, TRUCK = CLASS_ID["person"], CLASS_ID["car"], CLASS_ID["truck"]


def detections(boxes: list[tuple[float, float, float, float, int]]) -> Detections:
    if not boxes:
        return Detections.empty()
    array = np.asarray(boxes, dtype=np.float32)
    return Detections(array[:, :4], np.full(len(array), 0.9, np.float32), array[:, 4].astype(np.int16))


def hall(**thresholds: float) -> HallRule:
    """One counter (desk at the top middle) and seats on the left of the picture, where citizens queue."""
    staff = make_zone("staff 1", "counter_staff", [[0.4, 0.05], [0.6, 0.05], [0.6, 0.3], [0.4, 0.3]], id=11)
    customer = make_zone("customer 1", "counter_customer", [[0.4, 0.35], [0.6, 0.35], [0.6, 0.55], [0.4, 0.55]],
                         id=12)
    seats = make_zone("seats", "queue", [[0.0, 0.5], [0.3, 0.5], [0.3, 1.0], [0.0, 1.0]], id=13)
    return HallRule(7, [CounterSpec(1, staff, customer)], [seats], thresholds=thresholds)


def test_a_tracker_fed_ten_thousand_frames_of_passers_by_remembers_only_the_tracks_it_holds() -> None:
    tracker = CameraTracker()
    rng = random.Random(8)
    walkers: list[list[float]] = []  # x, y, frames left
    most = held = 0
    for frame in range(10_000):
        now = 1000.0 + frame * 0.5  # 2 analytics frames/s: 83 minutes
        if frame % 3 == 0:
            walkers.append([rng.uniform(0, 700), rng.uniform(0, 480), rng.randint(4, 12)])
        boxes = [(x, y, x + 40, y + 90, PERSON) for x, y, _ in walkers]
        # A van the detector boxes twice (car and truck) for a few frames of every ten: ByteTrack drops one of
        # the pair as a duplicate without marking it removed.
        van_x = (frame // 10) * 3 % 600
        boxes.append((van_x, 300, van_x + 120, 380, CAR))
        if frame % 10 < 4:
            boxes.append((van_x + 2, 301, van_x + 122, 381, TRUCK))
        for walker in walkers:
            walker[0] += 4
            walker[2] -= 1
        walkers = [w for w in walkers if w[2] > 0]
        tracker.update(detections(boxes), now)
        tracks = tracker.tracks(768, 576, now)
        most, held = max(most, tracker.remembered), max(held, tracker.held)
    assert any(t.class_name in ("car", "truck") for t in tracks), "the van is still tracked"
    assert most < 100, f"{most} tracks remembered at once"
    assert held < 100, f"ByteTrack held {held} tracks at once"


def test_a_parked_car_the_tracker_keeps_losing_stays_one_event_and_its_old_track_ids_are_forgotten() -> None:
    zone = make_zone("bus stop", "no_stopping", [[0.5, 0.5], [0.9, 0.5], [0.9, 0.8], [0.5, 0.8]], id=21)
    rule = StoppedVehicleRule(1, zone, thresholds={"still_s": 30})
    start = MONDAY_9AM
    opened: set = set()
    for k in range(10_000):  # 2 frames/s for 83 minutes; a new track id every 2 s
        now = start + timedelta(seconds=k * 0.5)
        ts = now.timestamp()
        out = rule.update([Track(1 + k // 4, "car", 0.9, (0.65, 0.55, 0.77, 0.65), ts, ts)], now)
        opened |= {e.id for e in out.events if e.type == EventType.STOPPED_VEHICLE}
    assert len(opened) == 1, "one stop, however often the tracker renamed the car"
    assert rule.latches and next(iter(rule.latches.values())).is_open
    assert rule.identities.remembered_tracks <= MAX_TRACK_IDS


def test_citizens_walking_straight_to_a_counter_all_day_leave_nothing_behind() -> None:
    rule = hall()
    served = 300
    day = served * 80 + 100
    actors = [Actor("officer", [(0.0, 0.5, 0.2), (day, 0.5, 0.2)], track_id=1, role="officer")]
    for k in range(served):  # one every 80 s, never seen queueing: straight from the door to the desk
        at = 10 + 80 * k
        actors.append(Actor(f"citizen {k}", [(at, 0.9, 0.99), (at + 5, 0.5, 0.45), (at + 35, 0.5, 0.45),
                                             (at + 40, 0.9, 0.99)], track_id=100 + k, role="citizen"))
    outputs = play(rule, actors, MONDAY_9AM, day)
    assert sum(len(out.sessions) for out in outputs) == served
    assert len(rule.arrived) <= 2 and len(rule.queue_enter) <= 2
    assert len(rule.queues.walked_in) <= 2 and len(rule.queues.where) <= 2 and len(rule.queues.came_in) <= 2


def test_false_boxes_flickering_in_the_queue_all_day_leave_nothing_behind() -> None:
    # A detector's false box on the seats for a second, every 80 s for a working day: none is a citizen joining
    # (queue_confirm_s), none raises a long wait, and none stays on the books.
    rule = hall(long_wait_s=60)
    flickers = 300
    day = flickers * 80 + 100
    actors = [Actor("officer", [(0.0, 0.5, 0.2), (day, 0.5, 0.2)], track_id=1, role="officer")]
    for k in range(flickers):
        at = 10 + 80 * k
        spot = (0.05 + 0.2 * (k % 2), 0.6 + 0.03 * (k % 10))
        actors.append(Actor(f"false box {k}", [(at, *spot), (at + 1, *spot)], track_id=100 + k))
    outputs = play(rule, actors, MONDAY_9AM, day)
    assert not [e for out in outputs for e in out.events if e.type == EventType.LONG_WAIT]
    assert len(rule.queues.first_in) <= 2 and len(rule.queue_enter) <= 2
    assert len(rule.queues.walked_in) <= 2  # who was seen where, forgotten too
    assert len(rule.queues.where) <= 2


def test_citizens_the_tracker_loses_on_the_walk_to_the_desk_all_day_leave_nothing_behind() -> None:
    # Each citizen sits in the queue, is lost on the walk to the desk and found there under a new track: they take
    # their own wait over (``hand_over``), and the identities that took one are forgotten with them.
    rule = hall()
    served = 200
    day = served * 90 + 100
    actors = [Actor("officer", [(0.0, 0.5, 0.2), (day, 0.5, 0.2)], track_id=1, role="officer")]
    for k in range(served):
        at = 10 + 90 * k
        actors.append(Actor(f"citizen {k}", [(at, 0.05, 0.99), (at + 3, 0.15, 0.7), (at + 30, 0.15, 0.7),
                                             (at + 33, 0.5, 0.45), (at + 60, 0.5, 0.45), (at + 63, 0.9, 0.99)],
                            track_id=1000 + k, hidden=[(at + 30, at + 33)], id_changes=[(at + 33, 5000 + k)]))
    outputs = play(rule, actors, MONDAY_9AM, day)
    found = [s for out in outputs for s in out.sessions]
    assert len(found) == served and all(s.wait_s is not None and abs(s.wait_s - 33) <= 2 for s in found)
    assert len(rule.queues.handed) <= 2 and len(rule.queue_enter) <= 2 and len(rule.arrived) <= 2
