"""The daily counter audit: staffed minutes within working hours, absences with evidence, service and wait
statistics, and the joins with ticket machines and rating terminals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from vigil.calendar import WorkingCalendar
from vigil.types import CounterSession, Event, EventType, Observation
from vision.rules.audit import Rating, TicketEvent, daily_counter_audit, hourly_waits, percentile
from vision.rules.base import RuleOutput
from vision.scenarios.timeline import play

from .test_rules_counter import HCM, citizen, hall, officer

CALENDAR = WorkingCalendar.from_dict({"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]]}})
DAY = date(2026, 11, 23)


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 23, hh, mm, tzinfo=HCM)


def presence(*changes: tuple[datetime, float]) -> list[Observation]:
    return [Observation(t, 7, "officer_present", v, 11) for t, v in changes]


def test_staffed_minutes_count_only_working_hours_and_absences_come_with_evidence() -> None:
    absent = Event(EventType.OFFICER_ABSENT, 7, at(9, 0), end=at(9, 20), counter_id=1,
                   attributes={"evidence": {"start": "ev/a.jpg", "end": "ev/b.jpg"}})
    audit = daily_counter_audit(
        1, DAY, CALENDAR,
        presence((at(7, 0), 1), (at(9, 0), 0), (at(9, 20), 1), (at(12, 0), 0), (at(13, 30), 1), (at(17, 30), 0)),
        [], [absent], stale_after_s=24 * 3600)
    assert audit.minutes_open == 450
    assert audit.minutes_staffed == 450 - 20
    [absence] = audit.absences
    assert absence.minutes == 20 and absence.evidence == {"start": "ev/a.jpg", "end": "ev/b.jpg"}
    assert audit.to_dict()["absences"][0]["start"] == at(9, 0).isoformat()


def test_sessions_give_service_and_wait_statistics_and_tickets_and_ratings_are_joined() -> None:
    sessions = [CounterSession(1, at(8, 0) + timedelta(minutes=10 * i), at(8, 5) + timedelta(minutes=10 * i),
                               queue_enter=at(7, 50) + timedelta(minutes=10 * i, seconds=60 * i)) for i in range(10)]
    tickets = [TicketEvent(at(8, i), "issued", str(i)) for i in range(12)] + \
        [TicketEvent(at(9, i), "served", str(i)) for i in range(9)]
    ratings = [Rating(at(8, 30), 5), Rating(at(9, 10), 1)]
    audit = daily_counter_audit(1, DAY, CALENDAR, presence((at(7, 30), 1), (at(9, 0), 0), (at(9, 20), 1)),
                                sessions, [], [Observation(at(8, 0), 7, "queue_length", v, 13) for v in (2.0,)],
                                tickets, ratings, stale_after_s=24 * 3600)
    assert audit.sessions == 10 and audit.service_mean_s == 300 and audit.service_p90_s == 300
    assert audit.wait_mean_s == 600 - 270 and audit.wait_p90_s == percentile([600 - 60 * i for i in range(10)], 90)
    assert (audit.tickets_issued, audit.tickets_served) == (12, 9)
    assert audit.ratings == 2 and audit.rating_mean == 3 and audit.ratings_while_absent == 1
    assert audit.peak_queue == 2
    assert hourly_waits(sessions)[0]["citizens"] == 6


def test_no_ticket_machine_means_no_ticket_figures_rather_than_zero() -> None:
    audit = daily_counter_audit(1, DAY, CALENDAR, [], [], [])
    assert audit.tickets_served is None and audit.ratings is None and audit.minutes_staffed == 0


def test_a_camera_that_stopped_reporting_does_not_count_as_staffed() -> None:
    audit = daily_counter_audit(1, DAY, CALENDAR, presence((at(8, 0), 1), (at(8, 0, ) + timedelta(seconds=10), 1)),
                                [], [])
    assert audit.minutes_staffed == round(70 / 60, 1)


def test_an_audited_morning_from_the_rule_itself() -> None:
    start = at(7, 30)
    people = [officer((1800, 2400), until=3600)]
    people += [citizen(10 + i, 60 + 300 * i, (0.1 + 0.03 * i, 0.8), called=200 + 300 * i, leave=380 + 300 * i)
               for i in range(5)]
    rule = hall()
    outputs: list[RuleOutput] = play(rule, people, start, 3600, step=2)
    outputs.append(rule.close(start + timedelta(seconds=3600)))
    observations = [o for out in outputs for o in out.observations]
    events = {e.id: e for out in outputs for e in out.events}
    audit = daily_counter_audit(1, DAY, CALENDAR, [o for o in observations if o.metric == "officer_present"],
                                [s for out in outputs for s in out.sessions], list(events.values()),
                                [o for o in observations if o.metric == "queue_length"])
    assert audit.sessions == 5
    assert abs(audit.service_mean_s - 178) <= 3 and abs(audit.wait_mean_s - 143) <= 3
    [absence] = audit.absences
    assert 9.5 <= absence.minutes <= 10.2
    # One hour observed, ten minutes away; the last observation holds one more (stale) minute.
    assert abs(audit.minutes_staffed - 51) <= 0.5
