"""The soak benchmark itself: its figures are computed right, and a short run of the real worker reports them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.proof import MODELS, ROOT, VTEST
from vigil.soak import growth_per_hour, percentile


def test_memory_growth_is_the_least_squares_slope_per_hour() -> None:
    flat = [(t * 60.0, 500.0 + (0.5 if t % 2 else -0.5)) for t in range(30)]  # noise around a flat line
    assert abs(growth_per_hour(flat) or 0) < 2
    leaking = [(t * 60.0, 500.0 + t * 0.5) for t in range(30)]  # half a MB a minute
    assert growth_per_hour(leaking) == pytest.approx(30.0)
    assert growth_per_hour(leaking[:2]) is None
    assert percentile([float(v) for v in range(1, 101)], 0.95) == 95.0 and percentile([], 0.95) is None


@pytest.mark.slow
def test_a_short_soak_reports_every_figure(tmp_path: Path) -> None:
    if not VTEST.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    out = tmp_path / "soak.json"
    env = {**os.environ, "VIGIL_MODELS_DIR": str(MODELS), "YOLO_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "vigil", "bench", "soak", "--minutes", "0.5", "--cameras", "2",
                          "--sample-s", "5", "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    document = json.loads(out.read_text())
    summary = document["summary"]
    assert summary["cameras"] == 2 and summary["worker_restarts"] == 0 and summary["frames_analysed"] > 0
    for key in ("memory_growth_mb_per_hour", "frames_dropped", "p95_frame_to_result_ms", "p95_frame_to_event_ms",
                "writer_queue_rows_max", "rss_end_mb"):
        assert key in summary
    assert len(document["rows"]) >= 3 and "memory_growth_mb_per_hour" in run.stdout
