"""``vigil bench gate``: the motion gate against where the composed scene's people really walk, thresholds side by
side on the same frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.vision import MODELS, VTEST, scenes_data_dir
from vigil.cli import app


@pytest.mark.slow
@pytest.mark.skipif(not VTEST.is_file() or not (MODELS / "yolov3-tiny.weights").is_file(),
                    reason="vtest.avi or the yolov3-tiny model is missing (scripts/setup.sh)")
def test_the_gate_is_measured_against_the_walkers_thresholds_side_by_side(tmp_path: Path) -> None:
    """On the short counter's rendering: a gate that never wakes (threshold 1) lets the detector run only at its
    forced refresh, every 3 s of 2 fps (one frame in six), and misses walkers; one that wakes at the slightest
    change runs on nearly every frame and misses next to none; the default lies between, on the same walkers."""
    out = tmp_path / "gate.json"
    result = CliRunner().invoke(app, ["bench", "gate", "--scenario", "counter_absence", "--threshold", "1",
                                      "--threshold", "0.002", "--threshold", "0.0001", "--json", str(out)],
                                env={"VIGIL_DATA_DIR": str(scenes_data_dir(tmp_path))}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    rows = {(row["threshold"], row["height"]): row for row in document["rows"]}
    assert {threshold for threshold, _ in rows} == {1.0, 0.002, 0.0001}
    never, default, eager = (rows[(th, "70-100 px")] for th in (1.0, 0.002, 0.0001))
    assert default["moving"] > 100 and never["moving"] == default["moving"] == eager["moving"]  # the same walkers
    assert 15 <= never["detector_runs_pct"] <= 19  # the refresh alone: 1 frame in 6 (and the first)
    assert never["detector_runs_pct"] < default["detector_runs_pct"] <= eager["detector_runs_pct"]
    assert never["not_looked_at_pct"] > 50
    assert never["not_looked_at_pct"] > default["not_looked_at_pct"] >= eager["not_looked_at_pct"]
    assert eager["not_looked_at_pct"] < 1.0
    assert len(document["per_rendering"]) == len(document["rows"])
    assert "counter_absence" in result.output


def test_an_unknown_scenario_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["bench", "gate", "--scenario", "no_such_scene"])
    assert result.exit_code != 0 and "no_such_scene" in result.output and "Traceback" not in result.output
