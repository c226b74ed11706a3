"""Officers are credited by who was assigned when: a reassignment in the middle of a day splits the day's
presence, absences, citizens and ratings between the two officers; a later roster change rewrites nothing; a day's
exception (leave) takes the day off the rostered officer; a ticket system's log-in wins over the roster."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from store import officers
from store.assignments import site_assignments
from store.queries.officer_report import OfficerFigures, OfficerMonth, officer_month
from store.registry_rows import get_site
from tests.support.centers import Center, add_officer, make_center, presence, rating, session

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TUESDAY = date(2026, 11, 17)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=HCM)  # the month is over


def at(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HCM)


@pytest.fixture
def center(db: psycopg.Connection) -> tuple[Center, int, int]:
    """Counter 1, officers An (rostered Monday to Friday all November) and Bình."""
    found = make_center(db, "xa-tan-an", "Trung tâm xã Tân An")
    an = add_officer(db, found.site_id, "Nguyễn Văn An", "CB-01")
    binh = add_officer(db, found.site_id, "Trần Thị Bình", "CB-02")
    officers.insert_roster(db, found.counters[0].id, an, [1, 2, 3, 4, 5], "00:00", "24:00", date(2026, 11, 1), None)
    return found, an, binh


def month(db: psycopg.Connection, center: Center, officer_id: int) -> OfficerMonth:
    return officer_month(db, officers.get_officer(db, officer_id), get_site(db, center.site_id), date(2026, 11, 1),
                         now=NOW)


def day_of(report: OfficerMonth, day: date) -> OfficerFigures:
    return next(d for d in report.days if d.day == day)


def test_a_reassignment_in_the_middle_of_a_day_splits_the_day_between_the_officers(
        db: psycopg.Connection, center: tuple[Center, int, int]) -> None:
    hall, an, binh = center
    counter = hall.counters[0]
    # From 10:00 Bình takes counter 1 for the rest of the day.
    officers.insert_exception(db, counter.id, binh, TUESDAY, "10:00", "24:00", "An sent to the provincial center")
    presence(db, hall, counter, at(TUESDAY, "07:30"), at(TUESDAY, "11:30"),
             absent=[(at(TUESDAY, "09:00"), at(TUESDAY, "09:20")), (at(TUESDAY, "10:30"), at(TUESDAY, "10:50"))])
    for start in ("08:00", "08:30", "09:30"):
        session(db, hall, counter, at(TUESDAY, start), 600, wait_s=120)
    for start in ("10:05", "11:00"):
        session(db, hall, counter, at(TUESDAY, start), 300, wait_s=60)
    rating(db, hall, counter, at(TUESDAY, "09:45"), 5)
    rating(db, hall, counter, at(TUESDAY, "10:20"), 2)

    first = day_of(month(db, hall, an), TUESDAY)
    assert first.scheduled_s == pytest.approx(2.5 * 3600)  # 07:30-10:00
    assert first.present_s == pytest.approx(2.5 * 3600 - 20 * 60)
    assert (first.absences, first.sessions, first.ratings, first.rating_mean) == (1, 3, 1, 5.0)
    assert first.service_mean_s == pytest.approx(600) and first.wait_mean_s == pytest.approx(120)
    second = day_of(month(db, hall, binh), TUESDAY)
    assert second.scheduled_s == pytest.approx(5 * 3600)  # 10:00-11:30 and 13:30-17:00
    assert second.present_s == pytest.approx(1.5 * 3600 - 20 * 60)
    assert second.unobserved_s == pytest.approx(3.5 * 3600)  # no samples in the afternoon
    assert (second.absences, second.sessions, second.ratings, second.rating_mean) == (1, 2, 1, 2.0)
    absence = month(db, hall, binh).absences[0]
    assert (absence.start, absence.end) == (at(TUESDAY, "10:30"), at(TUESDAY, "10:50"))

    # The roster changes from Thursday on (An's entry ends Wednesday, Bình's starts Thursday): Tuesday stays.
    [entry] = officers.list_rosters(db, hall.site_id)
    officers.end_roster(db, entry["id"], date(2026, 11, 18))
    officers.insert_roster(db, counter.id, binh, [1, 2, 3, 4, 5], "00:00", "24:00", date(2026, 11, 19), None)
    db.execute("UPDATE counters SET officer = 'Trần Thị Bình' WHERE id = %s", (counter.id,))
    again = day_of(month(db, hall, an), TUESDAY)
    assert (again.scheduled_s, again.present_s, again.sessions, again.ratings) == (
        first.scheduled_s, first.present_s, first.sessions, first.ratings)
    assert day_of(month(db, hall, an), date(2026, 11, 19)).scheduled_s == 0
    assert day_of(month(db, hall, binh), date(2026, 11, 19)).scheduled_s == pytest.approx(7.5 * 3600)


def test_a_roster_exception_takes_the_day_off_the_rostered_officer(db: psycopg.Connection,
                                                                  center: tuple[Center, int, int]) -> None:
    hall, an, _ = center
    counter = hall.counters[0]
    wednesday = TUESDAY + timedelta(days=1)
    officers.insert_exception(db, counter.id, None, wednesday, "00:00", "24:00", "An on leave")
    session(db, hall, counter, at(wednesday, "09:00"), 400, wait_s=30)  # a colleague covered, unrostered
    session(db, hall, counter, at(TUESDAY, "09:00"), 400, wait_s=30)
    report = month(db, hall, an)
    assert day_of(report, wednesday).scheduled_s == 0 and day_of(report, wednesday).sessions == 0
    assert day_of(report, TUESDAY).scheduled_s == pytest.approx(7.5 * 3600)
    assert day_of(report, TUESDAY).sessions == 1
    # 21 weekdays in November 2026, one of them on leave.
    assert report.total.scheduled_s == pytest.approx(20 * 7.5 * 3600)
    assert report.total.sessions == 1


def test_a_ticket_system_log_in_wins_over_the_roster_until_the_log_out(db: psycopg.Connection,
                                                                      center: tuple[Center, int, int]) -> None:
    hall, an, binh = center
    counter = hall.counters[0]
    for when, kind, who in ((at(TUESDAY, "14:00"), "login", binh), (at(TUESDAY, "15:30"), "logout", binh)):
        db.execute("INSERT INTO officer_checkins (time, site_id, counter_id, officer_id, device_id, device_event_id,"
                   " kind) VALUES (%s, %s, %s, %s, 'kiosk', %s, %s)",
                   (when, hall.site_id, counter.id, who, f"{kind}-{when}", kind))
    found = site_assignments(db, hall.site_id, "Asia/Ho_Chi_Minh", TUESDAY, TUESDAY)[TUESDAY]
    assert [(a.officer_id, a.start, a.end, a.source) for a in found] == [
        (an, at(TUESDAY, "00:00"), at(TUESDAY, "14:00"), "roster"),
        (binh, at(TUESDAY, "14:00"), at(TUESDAY, "15:30"), "checkin"),
        (an, at(TUESDAY, "15:30"), at(TUESDAY + timedelta(days=1), "00:00"), "roster")]
    session(db, hall, counter, at(TUESDAY, "14:10"), 300, wait_s=0)
    assert day_of(month(db, hall, binh), TUESDAY).sessions == 1
    assert day_of(month(db, hall, binh), TUESDAY).scheduled_s == pytest.approx(1.5 * 3600)
