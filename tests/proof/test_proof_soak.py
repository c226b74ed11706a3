"""The soak benchmark itself: its figures are computed right, and a short run of the real worker reports them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak import growth_per_hour, memory_goal, percentile
from tests.support.proof import MODELS, ROOT, VTEST


def test_memory_growth_is_the_least_squares_slope_per_hour() -> None:
    flat = [(t * 60.0, 500.0 + (0.5 if t % 2 else -0.5)) for t in range(30)]  # noise around a flat line
    assert abs(growth_per_hour(flat) or 0) < 2
    leaking = [(t * 60.0, 500.0 + t * 0.5) for t in range(30)]  # half a MB a minute
    assert growth_per_hour(leaking) == pytest.approx(30.0)
    assert growth_per_hour(leaking[:2]) is None
    assert percentile([float(v) for v in range(1, 101)], 0.95) == 95.0 and percentile([], 0.95) is None


def test_the_memory_goal_is_judged_on_the_last_two_hours_of_a_three_hour_run() -> None:
    # A warm-up step in the first hour, then flat with noise: met. The same with 3 MB/h after the step: not met.
    # A flat run of 2.5 hours is too short to say.
    def run(minutes: int, leak_mb_per_h: float) -> list[tuple[float, float]]:
        return [(m * 60.0, 500.0 + (12.0 if m > 40 else 0.0) + leak_mb_per_h * m / 60 + (3.0 if m % 7 == 0 else 0.0))
                for m in range(0, minutes + 1)]

    flat = memory_goal(run(185, 0.0), 185.0)
    assert flat["memory_goal_met"] and abs(flat["memory_growth_mb_per_hour_robust_last_2h"]) < 0.5
    leaking = memory_goal(run(185, 3.0), 185.0)
    assert not leaking["memory_goal_met"]
    assert leaking["memory_growth_mb_per_hour_robust_last_2h"] == pytest.approx(3.0, abs=0.2)
    short = memory_goal(run(150, 0.0), 150.0)
    assert not short["memory_goal_met"] and abs(short["memory_growth_mb_per_hour_robust_last_2h"]) < 0.5
    assert memory_goal(run(90, 0.0), 90.0) == {"memory_growth_mb_per_hour_robust_last_2h": None,
                                                "memory_goal_met": False}


@pytest.mark.slow
def test_a_short_soak_of_recorded_cameras_reports_every_figure(tmp_path: Path) -> None:
    if not VTEST.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    out = tmp_path / "soak.json"
    env = {**os.environ, "VIGIL_MODELS_DIR": str(MODELS), "YOLO_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "vigil", "bench", "soak", "--minutes", "0.5", "--cameras", "2",
                          "--sample-s", "5", "--recording", "--json", str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    document = json.loads(out.read_text())
    summary = document["summary"]
    assert summary["cameras"] == 2 and summary["worker_restarts"] == 0 and summary["frames_analysed"] > 0
    assert summary["memory_goal_met"] is False and summary["memory_growth_mb_per_hour_robust_last_2h"] is None
    for key in ("memory_growth_mb_per_hour", "memory_growth_mb_per_hour_robust", "frames_dropped",
                "p95_frame_to_result_ms", "p95_frame_to_event_ms", "writer_queue_rows_max", "rss_end_mb"):
        assert key in summary
    assert len(document["rows"]) >= 3 and "memory_growth_mb_per_hour" in run.stdout
    # both RTSP cameras were recorded by the worker beside their analysis, 2-second segments indexed
    assert summary["recorded_cameras"] == 2 and summary["recorded_segments"] >= 4 and summary["recorded_mb"] > 0


def _keep_rows(kept: list[str], n: int) -> None:
    for i in range(n):
        kept.append(f"observation {i} " * 4)  # the leak the trace must name


def test_the_memory_trace_names_the_line_that_keeps_allocating_and_the_heap_it_grew() -> None:
    from bench.memtrace import MemoryTrace, malloc_sample, rss_split

    trace = MemoryTrace(frames=4).start()
    kept: list[str] = []
    _keep_rows(kept, 1000)  # warm-up allocations are not growth
    trace.mark_baseline(60.0)
    before = trace.sample()["python_heap_mb"]
    _keep_rows(kept, 50_000)
    assert trace.sample()["python_heap_mb"] > before + 3
    growth = trace.growth()
    trace.stop()  # this test's thread is the only one allocating
    top = growth["top_growing_sites"][0]
    assert top["site"] == f"tests/proof/test_proof_soak.py:{_keep_rows.__code__.co_firstlineno + 2}"
    assert top["count_diff"] >= 50_000 and top["size_diff_kb"] > 3000 and "observation" in top["code"]
    assert growth["python_heap_diff_mb"] > 3 and growth["baseline_minute"] == 1.0
    stack = growth["top_growing_stacks"][0]["stack"]  # oldest call first, down to the allocating line
    assert stack[-1] == top["site"] and len(stack) > 1
    assert set(malloc_sample()) >= {"malloc_in_use_mb", "malloc_free_mb"}  # glibc (Debian 12)
    assert rss_split()["rss_anon_mb"] > 0 and rss_split()["rss_file_mb"] > 0


def test_the_robust_memory_slope_ignores_a_transient_spike_that_doubles_the_least_squares_one():
    """A flat hour with one high last sample (a batch in flight): the soak must not report it as growth."""
    from bench.soak import growth_per_hour, robust_growth_per_hour

    flat = [(minute * 60.0, 943.0) for minute in range(10, 60)] + [(3600.0, 995.0)]
    assert growth_per_hour(flat) > 5  # least squares: +7 MB/h from that one sample
    assert robust_growth_per_hour(flat) == 0.0
    rising = [(minute * 60.0, 900.0 + minute / 3) for minute in range(10, 61)]  # +20 MB/h, steadily
    assert robust_growth_per_hour(rising) == pytest.approx(20.0)
    assert robust_growth_per_hour(rising[:2]) is None
