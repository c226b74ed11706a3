"""``vigil bench capacity``: the search for the largest camera count, and a short real run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.capacity import Trial, search
from tests.support.vision import MODELS, ROOT
from vigil.cli import app


def _machine(capacity: int, hold_capacity: int | None = None):  # type: ignore[no-untyped-def]
    """A stand-in for the trials: counts up to ``capacity`` drop nothing in a probe (``hold_capacity`` in the
    long window), more drop a tenth of their frames."""
    made = []

    def run(cameras: int, seconds: float, kind: str) -> Trial:
        limit = hold_capacity if kind == "hold" and hold_capacity is not None else capacity
        dropped = 0 if cameras <= limit else 100
        made.append((cameras, kind))
        return Trial(cameras, seconds, 1000, 1000 - dropped, dropped, 10.0, 0.5, 100.0, 120.0, 3, kind)

    return run, made


def test_the_search_doubles_then_narrows_then_holds_the_best_count_for_the_whole_window() -> None:
    run, made = _machine(13)
    best, trials = search(run, minutes=5, probe_s=30, start=4, max_cameras=64, say=lambda _: None)
    assert best == 13
    assert made == [(4, "probe"), (8, "probe"), (16, "probe"), (12, "probe"), (14, "probe"), (13, "probe"),
                    (13, "hold")]
    assert trials[-1].seconds == 300 and trials[-1].passed


def test_a_count_that_fails_the_long_window_gives_way_to_one_fewer() -> None:
    run, made = _machine(13, hold_capacity=11)
    best, _ = search(run, minutes=5, probe_s=30, start=4, max_cameras=64, say=lambda _: None)
    assert best == 11 and made[-3:] == [(13, "hold"), (12, "hold"), (11, "hold")]


FOOTAGE = ROOT / "var" / "footage" / "vtest.mp4"


@pytest.mark.slow
@pytest.mark.skipif(not FOOTAGE.is_file() or not (MODELS / "yolov3-tiny.weights").is_file(),
                    reason="footage or yolov3-tiny missing (run scripts/setup.sh)")
def test_a_short_real_run_reports_cameras_frames_cpu_and_latency_with_the_camera_recorded(
        tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the street clip is var/footage/vtest.mp4
    out = tmp_path / "capacity.json"
    result = CliRunner().invoke(app, ["bench", "capacity", "--profile", "street", "--minutes", "0.1", "--probe-s",
                                      "5", "--start", "1", "--max-cameras", "1", "--recording", "--json", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [row] = json.loads(out.read_text())["profiles"]
    assert row["profile"] == "street" and row["fps_per_camera"] == 5
    assert row["trials"] and all(t["offered"] > 0 for t in row["trials"])  # frames were offered and counted
    # the camera was recorded (ffmpeg closing 2-second segments) through every trial, its CPU measured apart (a
    # copy of one stream for a few seconds can take under one 10 ms clock tick, so only its presence is checked)
    assert all(t["recorders"] == 1 and t["segments"] >= 1 and t["recorder_cpu_share"] is not None
               for t in row["trials"]), row["trials"]
    if row["cameras"]:
        assert row["dropped_share"] < 0.01 and row["analysed_fps"] > 0 and row["cpu_share"] > 0


def test_cameras_play_the_clip_from_different_points_so_their_busy_moments_do_not_coincide(tmp_path) -> None:
    import shutil
    import subprocess

    import cv2
    import numpy as np

    from bench.capacity import phased

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg missing (scripts/setup.sh)")
    clip = tmp_path / "clip.mp4"  # 4 s whose frames all differ (a moving test pattern)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=4",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", str(clip)], check=True)

    def frames(path):  # type: ignore[no-untyped-def]
        capture, out = cv2.VideoCapture(str(path)), []
        while (got := capture.read())[0]:
            out.append(got[1].astype(np.int16))
        return out

    original = frames(clip)
    clips = phased(clip, 4, tmp_path / "phases")
    assert clips[0] == clip and len(clips) == 4
    for k, made in enumerate(clips[1:], start=1):
        shifted = frames(made)
        assert abs(len(shifted) - len(original)) <= 1  # as long as the clip: it wraps around
        assert np.abs(shifted[0] - original[10 * k]).mean() < 6  # starts k seconds in (of 4)
    assert phased(clip, 4, tmp_path / "phases") == clips  # made once
