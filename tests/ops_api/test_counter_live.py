"""The floor strip's live counter state: whether a citizen is being served, and the queue the counter's
camera sees — from the rule's observations to the API that the console reads."""

from datetime import UTC, datetime, timedelta

from cameras.geometry import make_zone
from cameras.plan import CameraPlan, CounterPlan
from core.types import Track
from tests.support.api import ApiHarness, seed_sites
from vision.rules import build_rules


def test_the_hall_rule_says_when_a_citizen_is_being_served() -> None:
    staff = make_zone("staff", "counter_staff", [[0.6, 0.2], [0.9, 0.2], [0.9, 0.4], [0.6, 0.4]], id=1)
    customer = make_zone("customer", "counter_customer", [[0.6, 0.5], [0.9, 0.5], [0.9, 0.7], [0.6, 0.7]], id=2,
                         thresholds={})
    queue = make_zone("queue", "queue", [[0.0, 0.5], [0.4, 0.5], [0.4, 0.9], [0.0, 0.9]], id=3,
                      thresholds={"observe_every_s": 5})
    (rule,) = build_rules(CameraPlan(7, (staff, customer, queue), (CounterPlan(1, 1, 2),)))
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    served = []
    for second in range(0, 120):
        now = start + timedelta(seconds=second)
        tracks = [Track(1, "person", 0.9, (0.70, 0.25, 0.76, 0.35), start.timestamp(), now.timestamp())]
        if 30 <= second < 90:  # a citizen stands at the desk for a minute
            tracks.append(Track(2, "person", 0.9, (0.70, 0.52, 0.76, 0.65), start.timestamp(), now.timestamp()))
        out = rule.update(tracks, now)
        served += [(second, o.value) for o in out.observations if o.metric == "citizen_served" and o.zone_id == 2]
    assert served, "no citizen_served observation"
    assert all(value == 0 for second, value in served if second < 30 or second >= 100)
    assert any(value == 1 for second, value in served if 40 <= second < 90)


def test_live_counters_show_the_citizen_and_the_hall_queue(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    camera, (staff, customer, queue), counter = seeded.cameras[0], seeded.zones, seeded.counters[0]
    now = datetime.now(UTC)
    rows = [(now - timedelta(seconds=30), camera, staff, "officer_present", 1.0),
            (now - timedelta(seconds=20), camera, customer, "citizen_served", 1.0),
            (now - timedelta(seconds=20), camera, queue, "queue_length", 4.0)]
    for row in rows:
        api.conn.execute("INSERT INTO observations (time, camera_id, zone_id, metric, value) VALUES (%s,%s,%s,%s,%s)",
                         row)
    manager = api.user("manager")
    (live,) = [c for c in api.client.get("/api/counters/live", headers=manager.headers).json()
               if c["counter_id"] == counter]
    assert live["officer_present"] is True
    assert live["citizen_served"] is True
    assert live["queue_length"] == 4.0
