"""``vigil bench vision`` on this machine: the real detector, footage and camera processes, a short run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.support.vision import MODELS, ROOT
from vigil.cli import app

FOOTAGE = ROOT / "var" / "footage" / "vtest.mp4"


@pytest.mark.skipif(not FOOTAGE.is_file() or not (MODELS / "person-yolov8s.pt").is_file(),
                    reason="footage or person-yolov8s.pt missing (run scripts/setup.sh)")
def test_bench_vision_writes_every_figure_and_the_gate_pays_on_a_still_scene(tmp_path):
    out = tmp_path / "vision.json"
    result = CliRunner().invoke(app, ["bench", "vision", "--cameras", "2", "--seconds", "2", "--processes", "1",
                                      "--imgsz", "160", "--footage", str(FOOTAGE), "--json", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert row["cameras"] == 2 and row["camera_processes"] == 1
    for figure in ("raw_fps", "pipeline_fps", "pipeline_1proc_fps", "naive_fps", "static_fps", "live_fps"):
        assert row[figure] > 0, figure
    assert row["pipeline/raw"] == pytest.approx(row["pipeline_fps"] / row["raw_fps"])
    assert row["fairness"] > 0.5  # both cameras were served
    # A still scene skips the detector between forced refreshes: many times the moving scene's rate.
    assert row["static_fps"] > 3 * row["pipeline_fps"]
    assert "pipeline/raw" in result.output  # the table is printed


def test_bench_vision_refuses_a_darknet_model_for_the_naive_baseline(tmp_path):
    result = CliRunner().invoke(app, ["bench", "vision", "--model", "yolov3-tiny", "--json", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "naive baseline needs an Ultralytics model" in result.output
