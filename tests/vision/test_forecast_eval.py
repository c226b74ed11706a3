"""The wait forecast measured on the composed counter scenario, fed the script's own tracks (a perfect detector and
tracker): a forecast at every arrival from what the rules had said by then, scored against each citizen's true
wait, and the figures `vigil eval` prints (the same scoring runs there on the detector's output)."""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta

import pytest

from scenarios.evaluate import RunResult, camera_plan, score
from scenarios.library import counter_scenario
from scenarios.timeline import play
from scenarios.truth import ground_truth
from vigil.cli.eval import _row
from vision.rules import build_rules


@pytest.fixture(scope="module")
def scored() -> dict:
    scenario = counter_scenario()
    truth = json.loads(json.dumps(ground_truth(scenario), default=str))
    start = datetime.fromisoformat(truth["start"])
    run = RunResult()
    for rule in build_rules(camera_plan(truth)):
        outputs = play(rule, scenario.actors, start, scenario.duration_s, step=scenario.seconds_per_frame)
        outputs.append(rule.close(start + timedelta(seconds=scenario.duration_s)))
        for out in outputs:
            run.observations += out.observations
            run.sessions += out.sessions
    return score(truth, run)


def test_every_arrival_gets_a_forecast_scored_against_its_true_wait(scored: dict) -> None:
    forecast = scored["forecast"]
    rows = forecast["per_citizen"]
    assert forecast["citizens"] == forecast["forecast"] == 8
    first = rows[0]
    assert (first["waiting"], first["counters_open"], first["forecast_s"]) == (0.0, 1, 0.0)  # nobody ahead
    assert first["true_wait_s"] < 15
    # During the officer's absence the counter is closed, and the forecast assumes the officer comes back.
    away = [r for r in rows if r["counters_open"] == 0]
    assert away and all(r["forecast_s"] is not None for r in away)
    # Later arrivals see the queue grow and the service rate learned from the citizens served so far.
    assert [r["waiting"] for r in away] == sorted(r["waiting"] for r in away)
    assert rows[-1]["service_s"] < 75.0  # no longer the default (300 hall seconds / 4)
    errors = [abs(r["forecast_s"] - r["true_wait_s"]) for r in rows]
    assert forecast["mae_s"] == pytest.approx(statistics.mean(errors), abs=0.1)
    assert forecast["mae_hall_s"] == pytest.approx(4 * forecast["mae_s"])  # the scenario runs 4 times faster
    assert forecast["mae_pct"] == pytest.approx(100 * forecast["mae_s"] / statistics.mean(
        r["true_wait_s"] for r in rows), rel=1e-3)


def test_vigil_eval_reports_the_forecast_error(scored: dict) -> None:
    row = _row({**scored, "analytics_fps": 4.0})
    assert row["forecast_mae_hall_s"] == pytest.approx(scored["forecast"]["mae_hall_s"])
    assert row["forecast_err_%"] == pytest.approx(scored["forecast"]["mae_pct"])
