"""The in-process pipeline: ingest's file-camera readers -> scheduler -> one batched detector -> per-camera tracks."""

from __future__ import annotations

import queue
import time

import numpy as np
import pytest

from cameras.models import CameraSource
from core.settings import Settings
from tests.support.vision import ROOT
from vision.engine import FrameResult
from vision.pipeline import InProcessPipeline, open_pipeline

FOOTAGE = ROOT / "var" / "footage" / "vtest.mp4"


def test_two_live_cameras_share_one_detector_and_each_keeps_its_own_tracks(coco_detector, tmp_path):
    if not FOOTAGE.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    settings = Settings(data_dir=tmp_path)
    results: queue.Queue[FrameResult] = queue.Queue()
    per_camera: dict[int, list[FrameResult]] = {1: [], 2: []}
    with open_pipeline(settings, coco_detector, results.put) as live:
        assert isinstance(live, InProcessPipeline), "on a CPU the pipeline runs in one process"
        for camera_id in (1, 2):
            live.add_camera(CameraSource.from_file(camera_id, FOOTAGE, analytics_fps=4, loop=True))
        deadline = time.monotonic() + 30
        while min(len(v) for v in per_camera.values()) < 8 and time.monotonic() < deadline:
            try:
                result = results.get(timeout=0.5)
            except queue.Empty:
                continue
            per_camera[result.frame.camera_id].append(result)
    assert all(len(v) >= 8 for v in per_camera.values()), {k: len(v) for k, v in per_camera.items()}
    for camera_results in per_camera.values():
        indexes = [r.frame.index for r in camera_results]
        assert indexes == sorted(indexes), "frames of a camera reach the tracker in order"
        # People found in each camera (on a saturated machine few frames/s get through, and ByteTrack
        # confirms a walker only when two analysed frames overlap, so counts are kept loose).
        people = [len([t for t in r.tracks if t.class_name == "person"]) for r in camera_results]
        assert max(people) >= 2
        ids = {t.track_id for r in camera_results for t in r.tracks}
        assert min(ids) == 1, "each camera has its own tracker and id space"
    latencies = [r.latency_s for v in per_camera.values() for r in v]
    assert float(np.percentile(latencies, 95)) < 3.0  # shared 2-core machine: generous bound
    assert live.engine.inferences < sum(len(v) for v in per_camera.values())  # frames were batched
