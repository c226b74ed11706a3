"""The working-hours calendar: what a service-center manager sets and what the reports rely on."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.calendar import CalendarError, WorkingCalendar

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CENTER = {
    "weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "tue": [["07:30", "11:30"], ["13:30", "17:00"]],
               "sat": [["07:30", "11:30"]]},
    "holidays": ["2026-09-02"],
    "extra_days": {"2026-04-26": [["07:30", "11:30"]]},
}


def test_open_during_sessions_and_closed_at_lunch_and_on_sunday() -> None:
    cal = WorkingCalendar.from_dict(CENTER)
    assert cal.is_open(datetime(2026, 11, 23, 8, 0, tzinfo=HCM))  # Monday morning
    assert not cal.is_open(datetime(2026, 11, 23, 12, 0, tzinfo=HCM))  # lunch
    assert cal.is_open(datetime(2026, 11, 23, 16, 59, tzinfo=HCM))
    assert not cal.is_open(datetime(2026, 11, 23, 17, 0, tzinfo=HCM))  # end is exclusive
    assert cal.is_open(datetime(2026, 11, 28, 9, 0, tzinfo=HCM))  # Saturday morning
    assert not cal.is_open(datetime(2026, 11, 28, 14, 0, tzinfo=HCM))
    assert not cal.is_open(datetime(2026, 11, 29, 9, 0, tzinfo=HCM))  # Sunday


def test_utc_moments_are_judged_in_the_site_time_zone() -> None:
    cal = WorkingCalendar.from_dict(CENTER)
    assert cal.is_open(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 08:00 in Ho Chi Minh City
    assert not cal.is_open(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))  # 12:00 there


def test_holiday_is_closed_and_extra_day_is_open() -> None:
    cal = WorkingCalendar.from_dict(CENTER)
    assert cal.open_intervals(date(2026, 9, 2)) == []  # a Wednesday holiday anyway; also listed
    assert not cal.is_open(datetime(2026, 9, 2, 9, 0, tzinfo=HCM))
    extra = cal.open_intervals(date(2026, 4, 26))  # a Sunday made a working day
    assert extra == [(datetime(2026, 4, 26, 7, 30, tzinfo=HCM), datetime(2026, 4, 26, 11, 30, tzinfo=HCM))]


def test_open_intervals_are_aware_and_ordered() -> None:
    cal = WorkingCalendar.from_dict(CENTER)
    intervals = cal.open_intervals(date(2026, 11, 23))
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in intervals] == [("07:30", "11:30"),
                                                                                  ("13:30", "17:00")]
    assert all(a.tzinfo is not None for a, _ in intervals)
    day_start = datetime(2026, 11, 23, 0, 0, tzinfo=HCM)
    assert cal.open_seconds(day_start, datetime(2026, 11, 24, 0, 0, tzinfo=HCM)) == 7.5 * 3600


def test_empty_calendar_is_always_open() -> None:
    cal = WorkingCalendar.from_dict({})
    assert cal.is_always_open
    assert cal.is_open(datetime(2026, 11, 29, 3, 0, tzinfo=HCM))


def test_round_trip_through_the_stored_form() -> None:
    cal = WorkingCalendar.from_dict(CENTER)
    assert WorkingCalendar.from_dict(cal.to_dict()) == cal


@pytest.mark.parametrize(("data", "message"), [
    ({"weekly": {"mon": [["13:30", "17:00"], ["13:30", "11:00"]]}},
     "working_hours.weekly.mon[1]: end 11:00 is before start 13:30"),
    ({"weekly": {"mon": [["07:30", "11:30"], ["11:00", "17:00"]]}}, "working_hours.weekly.mon[1]: starts at 11:00"),
    ({"weekly": {"funday": [["07:30", "11:30"]]}}, "working_hours.weekly.funday: unknown weekday"),
    ({"weekly": {"mon": [["7h30", "11:30"]]}}, "working_hours.weekly.mon[0]: '7h30' is not a time"),
    ({"holidays": ["2026-02-30"]}, "working_hours.holidays[0]: '2026-02-30' is not a date"),
    ({"timezone": "Mars/Olympus"}, "working_hours.timezone: unknown time zone"),
    ({"weekly": {"mon": [["07:30"]]}}, "working_hours.weekly.mon[0]: a session is a pair"),
    ({"opening": {}}, "working_hours.opening: unknown key"),
])
def test_invalid_calendars_name_the_field(data: dict, message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        WorkingCalendar.from_dict(data)
    assert str(caught.value).startswith(message)
