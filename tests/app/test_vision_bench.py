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
    for figure in ("raw_fps", "pipeline_fps", "regions_fps", "regions_crops_fps", "pipeline_1proc_fps", "naive_fps",
                   "static_fps", "live_fps"):
        assert row[figure] > 0, figure
    assert row["pipeline/raw"] == pytest.approx(row["pipeline_fps"] / row["raw_fps"])
    assert row["regions/naive"] == pytest.approx(row["regions_fps"] / row["naive_fps"])
    assert row["regions_crops/naive"] == pytest.approx(row["regions_crops_fps"] / row["naive_fps"])
    assert row["fairness"] > 0.5  # both cameras were served
    # A still scene skips the detector between forced refreshes: many times the moving scene's rate.
    assert row["static_fps"] > 3 * row["pipeline_fps"]
    assert "pipeline/raw" in result.output  # the table is printed


def test_bench_vision_refuses_a_darknet_model_for_the_naive_baseline(tmp_path):
    result = CliRunner().invoke(app, ["bench", "vision", "--model", "yolov3-tiny", "--json", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "naive baseline needs an Ultralytics model" in result.output


@pytest.mark.skipif(not FOOTAGE.is_file(), reason="var/footage/vtest.mp4 missing (run scripts/setup.sh)")
def test_bench_dispatch_measures_the_vision_process_per_frame_in_both_result_modes(tmp_path):
    out = tmp_path / "dispatch.json"
    result = CliRunner().invoke(app, ["bench", "dispatch", "--cameras", "2", "--processes", "1", "--seconds", "2",
                                      "--footage", str(FOOTAGE), "--json", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())["rows"]
    assert row["cameras"] == 2 and row["camera_processes"] == 1
    for mode in ("store", "full"):
        assert row[f"frames_per_s_{mode}"] > 10, mode  # frames went round: camera process -> batch -> boxes back
        assert 0 < row[f"cpu_us_per_frame_{mode}"] < 100_000, mode
        assert row[f"results_per_s_{mode}"] > 0, mode
    assert "stand-in detector" in result.output  # the table says the detector is not a real one
    assert "cpu_us_per_frame_store" in result.output


def test_bench_dispatch_refuses_a_bad_camera_list(tmp_path):
    result = CliRunner().invoke(app, ["bench", "dispatch", "--cameras", "two", "--json", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "--cameras 'two'" in result.output
