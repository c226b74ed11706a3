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
def test_at_the_default_threshold_the_detector_looks_at_every_far_walker_on_the_short_counter(tmp_path: Path) -> None:
    out = tmp_path / "gate.json"
    result = CliRunner().invoke(app, ["bench", "gate", "--scenario", "counter_absence", "--json", str(out)],
                                env={"VIGIL_DATA_DIR": str(scenes_data_dir(tmp_path))}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    rows = {(row["threshold"], row["height"]): row for row in document["rows"]}
    assert {threshold for threshold, _ in rows} == {0.002, 0.001}  # the old default beside the current one
    far, old = rows[(0.001, "< 70 px")], rows[(0.002, "< 70 px")]
    assert far["moving"] > 100 and far["moving"] == old["moving"]  # the same frames, the same walkers
    assert far["not_looked_at_pct"] < 1.0, far
    assert far["not_looked_at_pct"] <= old["not_looked_at_pct"]
    assert 0 < old["detector_runs_pct"] <= far["detector_runs_pct"] < 100  # looking more costs more, not all
    assert len(document["per_rendering"]) == len(document["rows"])
    assert "counter_absence" in result.output


def test_an_unknown_scenario_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["bench", "gate", "--scenario", "no_such_scene"])
    assert result.exit_code != 0 and "no_such_scene" in result.output and "Traceback" not in result.output
