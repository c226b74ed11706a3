"""The wait forecast measured on a composed scenario: at each citizen's arrival (entering the queue, as taking a
ticket), the forecast the hall screen would have shown, from what the rules had said by then, against the wait
that citizen truly had (service start - queue entry, from the script).

What the forecast sees is what the live system reads from the database (``store.queries.hall_board``, cameras
mode: no ticket system in the scenarios): the latest ``queue_length`` of the queue zones, the counters whose
latest ``officer_present`` says present (within a minute, scaled with the scenario's clock) and, of those, the
ones whose latest ``citizen_served`` says busy, and the mean service time of the sessions that had ended; the
formula is ``core.forecast.expected_wait_s``. Errors: mean absolute error in scenario seconds, in hall seconds
(times the scenario's time compression) and as a share of the mean true wait (a citizen served at once has a
true wait near zero, so a per-citizen percentage would be meaningless).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from core.forecast import QueueState, expected_wait_s, recent_service_s
from core.settings import CentersSettings
from core.types import CounterSession, Observation

PRESENCE_FRESH_S = 60.0  # store.queries.timeline.MAX_GAP_S: an older presence sample says nothing


def _latest(observations: Sequence[Observation], metric: str, zone_id: int | None, moment: datetime,
            max_age_s: float) -> float | None:
    found = max((o for o in observations if o.metric == metric and o.zone_id == zone_id and o.time <= moment),
                key=lambda o: o.time, default=None)
    if found is None or (moment - found.time).total_seconds() > max_age_s:
        return None
    return found.value


def state_at(truth: dict[str, Any], observations: Sequence[Observation], sessions: Sequence[CounterSession],
             moment: datetime, default_service_s: float, recent: int) -> QueueState:
    """The hall as the forecast reads it at ``moment`` (one department: the scenarios' counters share one)."""
    factor = float(truth.get("time_factor") or 1.0)
    queues = [z["id"] for z in truth["zones"] if z["kind"] == "queue"]
    waiting = sum(_latest(observations, "queue_length", z, moment, 600 / factor) or 0.0 for z in queues)
    opened = staffed = busy = 0
    for counter in truth.get("counters", []):
        present = _latest(observations, "officer_present", counter["staff_zone_id"], moment, PRESENCE_FRESH_S / factor)
        seen = any(o.metric == "officer_present" and o.zone_id == counter["staff_zone_id"] and o.value >= 0.5
                   and o.time <= moment for o in observations)
        staffed += int(seen or bool(present))
        if present is not None and present >= 0.5:
            opened += 1
            served = _latest(observations, "citizen_served", counter.get("customer_zone_id"), moment, 600 / factor)
            busy += int((served or 0.0) >= 0.5)
    done = sorted((s for s in sessions if s.service_end <= moment), key=lambda s: s.service_end)
    service = recent_service_s([s.service_s for s in done], default_service_s, recent)
    return QueueState(waiting, opened, busy, service, counters_staffed=staffed)


def forecast_scores(truth: dict[str, Any], observations: Sequence[Observation], sessions: Sequence[CounterSession],
                    start: datetime, settings: CentersSettings | None = None) -> dict[str, Any]:
    """Each served citizen's forecast at arrival against the true wait; MAE in seconds (scenario and hall) and %."""
    settings = settings or CentersSettings()
    factor = float(truth.get("time_factor") or 1.0)
    default = settings.default_service_s / factor  # the scenario's clock runs ``factor`` times faster
    rows, errors, waits = [], [], []
    for citizen in truth.get("citizens", []):
        if citizen.get("queue_enter") is None or citizen.get("service_start") is None:
            continue
        arrival = start + timedelta(seconds=citizen["queue_enter"])
        state = state_at(truth, observations, sessions, arrival, default, settings.recent_sessions)
        forecast = expected_wait_s(state)
        true_wait = citizen["service_start"] - citizen["queue_enter"]
        row = {"citizen": citizen["name"], "arrival_s": citizen["queue_enter"], "true_wait_s": round(true_wait, 1),
               "forecast_s": None if forecast is None else round(forecast, 1), "waiting": state.waiting,
               "counters_open": state.counters_open, "service_s": round(state.service_s, 1)}
        rows.append(row)
        if forecast is not None:
            errors.append(abs(forecast - true_wait))
            waits.append(true_wait)
    mae = statistics.mean(errors) if errors else None
    mean_wait = statistics.mean(waits) if waits else None
    return {"citizens": len(rows), "forecast": len(errors), "mae_s": mae,
            "mae_hall_s": None if mae is None else mae * factor,
            "mae_pct": None if mae is None or not mean_wait else 100 * mae / mean_wait,
            "mean_true_wait_s": mean_wait, "per_citizen": rows}
