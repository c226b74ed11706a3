"""The wait forecast's arithmetic (core.forecast): no wait at a free counter, the residual of the services under way
plus the people ahead spread over the open counters, nothing to say when nobody staffs the department."""

from __future__ import annotations

import pytest

from core.forecast import QueueState, expected_wait_s, recent_service_s


def test_a_free_counter_and_nobody_ahead_means_no_wait() -> None:
    assert expected_wait_s(QueueState(waiting=0, counters_open=2, busy=1, service_s=300)) == 0.0


def test_people_ahead_leave_as_many_at_a_time_as_counters_are_open() -> None:
    # Both busy: the first frees after a third of a service (the least of two), then 3 people at 2 a time.
    assert expected_wait_s(QueueState(waiting=3, counters_open=2, busy=2, service_s=240)) == pytest.approx(
        240 / 3 + 3 * 240 / 2)
    assert expected_wait_s(QueueState(waiting=0, counters_open=1, busy=1, service_s=200)) == pytest.approx(100)
    # One more open counter shortens the wait.
    assert expected_wait_s(QueueState(waiting=6, counters_open=3, busy=3, service_s=240)) < expected_wait_s(
        QueueState(waiting=6, counters_open=2, busy=2, service_s=240))  # type: ignore[operator]


def test_a_department_whose_officers_stepped_away_is_forecast_as_if_they_were_back() -> None:
    paused = QueueState(waiting=2, counters_open=0, busy=None, service_s=300, counters_staffed=1)
    assert expected_wait_s(paused) == pytest.approx(300 / 2 + 2 * 300)
    assert expected_wait_s(QueueState(waiting=2, counters_open=0, busy=None, service_s=300)) is None


def test_the_service_rate_is_the_mean_of_the_latest_sessions_or_the_default() -> None:
    assert recent_service_s([], 300.0) == 300.0
    assert recent_service_s([100.0, 200.0, 900.0], 300.0, recent=2) == pytest.approx(550.0)
