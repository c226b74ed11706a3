"""The daily counter audit of what the rules recorded, read back from a real database: staffed minutes within
working hours, absences with the event and its evidence, service and wait statistics, the joins with ticket
machines and rating terminals, and a site's counters answered at once exactly as each counter alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg.types.json import Jsonb

from bench.store import generate_history
from core.settings import StoreSettings
from core.types import CounterSession, Event, EventType, Observation
from scenarios.timeline import play
from store.db import connect
from store.queries import counter_daily_audit, hall_stats, local_day_bounds, site_daily_audit
from store.queries.steps import EPOCH_2000_US, PAIR, staffing, unpack
from store.writer import StoreWriter
from tests.support.api import ApiHarness
from vision.rules.base import RuleOutput

from .test_rules_counter import HCM, citizen, hall, officer

HOURS = {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]]}}
DAY = date(2026, 11, 23)  # a Monday
SITE, CAMERA, STAFF, CUSTOMER, QUEUE, COUNTER = 3, 7, 11, 12, 13, 1  # the ids the hall rule of the tests reports


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 11, 23, hh, mm, ss, tzinfo=HCM)


def presence(*changes: tuple[datetime, float]) -> list[Observation]:
    return [Observation(t, CAMERA, "officer_present", v, STAFF) for t, v in changes]


@dataclass(frozen=True)
class TicketEvent:
    time: datetime
    kind: str  # issued | called | served | skipped
    number: str


@dataclass
class Recorded:
    """What the rules and the counter's devices recorded, written to a fresh database."""

    url: str
    conn: psycopg.Connection
    spool: Path

    def write(self, observations: Iterable[Observation] = (), sessions: Iterable[CounterSession] = (),
              events: Iterable[Event] = (), tickets: Iterable[TicketEvent] = (),
              ratings: Iterable[tuple[datetime, int]] = ()) -> None:
        with StoreWriter(self.url, StoreSettings(), self.spool, registry=CollectorRegistry()) as writer:
            writer.write_observations(observations)
            writer.write_counter_sessions(sessions)
            writer.write_events(events)
            assert writer.flush(30)
        for i, ticket in enumerate(tickets):
            self.conn.execute("INSERT INTO ticket_events (time, site_id, counter_id, device_id, device_event_id, kind,"
                              " ticket_number) VALUES (%s, %s, %s, 'kiosk-1', %s, %s, %s)",
                              (ticket.time, SITE, COUNTER, str(i), ticket.kind, ticket.number))
        for i, (when, score) in enumerate(ratings):
            self.conn.execute("INSERT INTO ratings (time, site_id, counter_id, device_id, device_event_id, score)"
                              " VALUES (%s, %s, %s, 'pad-1', %s, %s)", (when, SITE, COUNTER, str(i), score))


@pytest.fixture
def recorded(db_url: str, tmp_path: Path) -> Iterable[Recorded]:
    """A service center with the hall rule's camera, zones and counter (same ids), open Mondays
    07:30-11:30 and 13:30-17:00."""
    with connect(db_url) as conn:
        conn.execute("INSERT INTO sites (id, code, name, kind, working_hours) OVERRIDING SYSTEM VALUE"
                     " VALUES (%s, 'hcc-1', 'Trung tâm HCC', 'service_center', %s)", (SITE, Jsonb(HOURS)))
        conn.execute("INSERT INTO cameras (id, site_id, name, source_kind) OVERRIDING SYSTEM VALUE"
                     " VALUES (%s, %s, 'Sảnh', 'rtsp')", (CAMERA, SITE))
        for zone, name, kind in ((STAFF, "staff 1", "counter_staff"), (CUSTOMER, "customer 1", "counter_customer"),
                                 (QUEUE, "seats", "queue")):
            conn.execute("INSERT INTO zones (id, camera_id, name, kind, geometry) OVERRIDING SYSTEM VALUE"
                         " VALUES (%s, %s, %s, %s, '[[0,0],[1,0],[1,1]]')", (zone, CAMERA, name, kind))
        conn.execute("INSERT INTO counters (id, site_id, number, department, camera_id, staff_zone_id,"
                     " customer_zone_id) OVERRIDING SYSTEM VALUE VALUES (%s, %s, 1, 'Tư pháp', %s, %s, %s)",
                     (COUNTER, SITE, CAMERA, STAFF, CUSTOMER))
        yield Recorded(db_url, conn, tmp_path / "spool")


def test_staffed_minutes_count_only_working_hours_and_absences_come_with_evidence(recorded: Recorded) -> None:
    absent = Event(EventType.OFFICER_ABSENT, CAMERA, at(9, 0), end=at(9, 20), counter_id=COUNTER, site_id=SITE,
                   attributes={"evidence": {"start": "ev/a.jpg", "end": "ev/b.jpg"}})
    recorded.write(presence((at(7, 0), 1), (at(9, 0), 0), (at(9, 20), 1), (at(12, 0), 0), (at(13, 30), 1),
                            (at(17, 30), 0)), events=[absent])
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY, max_gap_s=24 * 3600)  # each value holds till the next
    assert audit.minutes_open == 450
    assert audit.minutes_staffed == pytest.approx(450 - 20)
    [absence] = audit.absences  # away over lunch and after closing is not an absence
    assert (absence.start, absence.end) == (at(9, 0), at(9, 20)) and absence.minutes == pytest.approx(20)
    assert absence.event_id == absent.id and absence.evidence == {"start": "ev/a.jpg", "end": "ev/b.jpg"}


def test_sessions_give_service_and_wait_statistics_and_tickets_and_ratings_are_joined(recorded: Recorded) -> None:
    sessions = [CounterSession(COUNTER, at(8, 0) + timedelta(minutes=10 * i), at(8, 5) + timedelta(minutes=10 * i),
                               queue_enter=at(7, 50) + timedelta(minutes=10 * i, seconds=60 * i)) for i in range(10)]
    tickets = [TicketEvent(at(8, i), "issued", str(i)) for i in range(12)] + \
        [TicketEvent(at(9, i), "served", str(i)) for i in range(9)]
    queue = Observation(at(8, 0), CAMERA, "queue_length", 2.0, QUEUE)
    recorded.write([*presence((at(7, 30), 1), (at(9, 0), 0), (at(9, 20), 1)), queue], sessions, tickets=tickets,
                   ratings=[(at(8, 30), 5), (at(9, 10), 1)])
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY, max_gap_s=24 * 3600)
    waits = sorted(600 - 60 * i for i in range(10))
    assert audit.sessions == 10 and audit.service_mean_s == 300 and audit.service_p90_s == 300
    assert audit.wait_mean_s == 600 - 270 and audit.wait_p90_s == pytest.approx(waits[8] + 0.1 * (waits[9] - waits[8]))
    assert (audit.tickets_issued, audit.tickets_served) == (12, 9)
    assert audit.ratings == 2 and audit.rating_mean == 3 and audit.ratings_while_absent == 1
    assert audit.peak_queue == 2 and audit.peak_queue_at == at(8, 0)  # the queue the counter's camera sees
    start, end = local_day_bounds(DAY, "Asia/Ho_Chi_Minh")
    hourly = hall_stats(recorded.conn, SITE, start, end, "Asia/Ho_Chi_Minh")["hourly_waits"]
    assert [(h["hour"], h["citizens"]) for h in hourly] == [(at(8, 0), 6), (at(9, 0), 4)]


def test_no_ticket_machine_means_no_ticket_figures_rather_than_zero(recorded: Recorded) -> None:
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY)
    assert audit.tickets_served is None and audit.ratings is None and audit.ratings_while_absent is None
    assert audit.minutes_staffed == 0 and audit.minutes_unobserved == 450


def test_a_camera_that_stopped_reporting_does_not_count_as_staffed(recorded: Recorded) -> None:
    recorded.write(presence((at(8, 0), 1), (at(8, 0, 10), 1)))
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY)
    assert audit.minutes_staffed == pytest.approx(70 / 60)  # 10 s, then the last value holds 60 s at most
    assert audit.minutes_unobserved == pytest.approx(450 - 70 / 60) and audit.absences == []


def test_an_audited_morning_from_the_rule_itself(recorded: Recorded) -> None:
    start = at(7, 30)
    people = [officer((1800, 2400), until=3600)]
    people += [citizen(10 + i, 60 + 300 * i, (0.1 + 0.03 * i, 0.8), called=200 + 300 * i, leave=380 + 300 * i)
               for i in range(5)]
    rule = hall()
    outputs: list[RuleOutput] = play(rule, people, start, 3600, step=2)
    outputs.append(rule.close(start + timedelta(seconds=3600)))
    events = {e.id: e for out in outputs for e in out.events}  # the last update of each
    recorded.write([o for out in outputs for o in out.observations], [s for out in outputs for s in out.sessions],
                   events.values())
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY)
    assert audit.sessions == 5
    assert abs(audit.service_mean_s - 178) <= 3 and abs(audit.wait_mean_s - 143) <= 3
    [absence] = audit.absences
    assert 9.5 <= absence.minutes <= 10.2
    [raised] = [e for e in events.values() if e.type == EventType.OFFICER_ABSENT]
    assert absence.event_id == raised.id
    # One hour observed, ten minutes away; the last observation holds one more (stale) minute.
    assert abs(audit.minutes_staffed - 51) <= 0.5
    assert audit.peak_queue is not None and audit.peak_queue >= 1  # citizens waited in the hall's seats


def pack(samples: list[tuple[float, float]]) -> bytes:
    """Samples as the audit query sends them: (microseconds since 2000, value) pairs, big-endian."""
    return np.array([(round(t * 1e6) - EPOCH_2000_US, v) for t, v in samples], dtype=PAIR).tobytes()


def test_an_absence_ends_at_a_gap_in_the_data_and_lunch_splits_one_in_two() -> None:
    day = 1_795_000_000.0
    hours = [(day, day + 1000), (day + 2000, day + 3000)]  # a break from +1000 to +2000
    first = [(day + s, 0.0 if 300 <= s < 930 else 1.0) for s in range(0, 1000, 30)]
    second = [(day + s, 0.0) for s in (950, 980)] + [(day + s, 0.0 if s < 2500 else 1.0) for s in range(2100, 3000, 30)]
    found = staffing(unpack([pack(first), pack(second)]), hours, 60.0, 300.0)
    assert found[0].absences == [(day + 300, day + 930)]
    # 950-980 then nothing until 2100: that run stops holding at 1040 and lasts too little working time.
    assert found[1].absences == [(day + 2100, day + 2520)]  # till the first sample seeing the officer back
    assert found[1].observed_s == pytest.approx(50 + 900) and found[0].observed_s == pytest.approx(1000)
    shuffled = staffing(unpack([pack(first[::-1]), pack(second[5:] + second[:5])]), hours, 60.0, 300.0)
    assert shuffled == found  # whatever order the database sends them in


def test_a_sites_counters_at_once_equal_each_counter_alone(api: ApiHarness) -> None:
    """Ten counters over three days of the store's synthetic history (presence every 10-30 s, absences, lunch
    breaks, the weekend), with gaps in the data, two counters sharing a camera, devices and evidence added."""
    history = generate_history(api.conn, 20, 3, lambda _line: None)
    [site] = [r["id"] for r in api.conn.execute("SELECT id FROM sites WHERE kind = 'service_center'")]
    counters = [r["id"] for r in api.conn.execute("SELECT id FROM counters WHERE site_id = %s ORDER BY number",
                                                  (site,))]
    first, second = counters[:2]
    api.conn.execute("UPDATE counters SET camera_id = k.camera_id, customer_zone_id = k.customer_zone_id"
                     " FROM counters k WHERE counters.id = %s AND k.id = %s", (second, first))
    api.conn.execute("DELETE FROM observations WHERE metric = 'officer_present' AND ((extract(epoch FROM time)::bigint"
                     " / 30 + camera_id) %% 13 = 0 OR extract(minute FROM time) BETWEEN 40 AND 45)", ())
    days = [(history["today"] - timedelta(days=d)).date() for d in (3, 2, 1)]
    for i, when in enumerate(datetime.combine(days[-1], datetime.min.time(), HCM) + timedelta(hours=8, minutes=37 * n)
                             for n in range(6)):
        api.conn.execute("INSERT INTO ratings (time, site_id, counter_id, device_id, device_event_id, score)"
                         " VALUES (%s, %s, %s, 'pad', %s, %s)", (when, site, counters[i % 3], str(i), 1 + i % 5))
    api.conn.execute("UPDATE events SET attributes = attributes || '{\"evidence\": {\"start\": \"e/1.jpg\"}}',"
                     " evidence_path = 'e/1.jpg' WHERE type = 'officer_absent'")
    manager = api.user("manager")
    for day in days:
        together = site_daily_audit(api.conn, site, day)
        assert [a.counter_id for a in together] == counters
        assert together == [counter_daily_audit(api.conn, c, day) for c in counters]
        assert sum(len(a.absences) for a in together) > 0 or day.weekday() == 6
        listed = api.client.get(f"/api/sites/{site}/counter-audit", params={"day": day.isoformat()},
                                headers=manager.headers).json()
        assert listed == [api.client.get(f"/api/counters/{c}/audit", params={"day": day.isoformat()},
                                         headers=manager.headers).json() for c in counters]
    assert any(a.ratings for a in site_daily_audit(api.conn, site, days[-1]))
    assert any(a.event_id for d in days for c in site_daily_audit(api.conn, site, d) for a in c.absences)


def test_where_a_ticket_machine_is_connected_waits_and_the_queue_come_from_its_tickets(recorded: Recorded) -> None:
    # The camera saw five citizens wait 10 minutes each and a queue of 2; the ticket machine knows better: six
    # tickets issued a minute apart from 8:00, called from 8:04 at two-minute steps, so each waited 4 + i
    # minutes and at 8:04 five tickets were waiting (the sixth issued at 8:05 made it five again).
    sessions = [CounterSession(COUNTER, at(8, 10 + i), at(8, 12 + i), queue_enter=at(8, i)) for i in range(5)]
    tickets = [TicketEvent(at(8, i), "issued", f"A{i:03d}") for i in range(6)] + \
        [TicketEvent(at(8, 4 + 2 * i, 30), "called", f"A{i:03d}") for i in range(6)]
    recorded.write([Observation(at(8, 0), CAMERA, "queue_length", 2.0, QUEUE)], sessions, tickets=tickets)
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY)
    waits = [(4 + 2 * i - i) * 60 + 30 for i in range(6)]  # called at 8:04:30 + 2i min, issued at 8:00 + i min
    assert audit.queue_source == "tickets"
    assert audit.wait_mean_s == pytest.approx(sum(waits) / 6)
    assert audit.wait_p90_s == pytest.approx(waits[4] + 0.5 * (waits[5] - waits[4]))
    assert audit.peak_queue == 5 and audit.peak_queue_at == at(8, 4)
    assert audit.sessions == 5  # the camera's sessions are still counted; only the waits and queue defer


def test_a_counter_that_called_no_ticket_keeps_the_camera_s_waits(recorded: Recorded) -> None:
    sessions = [CounterSession(COUNTER, at(8, 10), at(8, 12), queue_enter=at(8, 0))]
    recorded.write([], sessions, tickets=[TicketEvent(at(8, 0), "issued", "B001")])  # issued, never called here
    audit = counter_daily_audit(recorded.conn, COUNTER, DAY)
    assert audit.queue_source == "camera" and audit.wait_mean_s == 600
