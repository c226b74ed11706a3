"""Camera processes (vision.pipeline.pool): decode, gate and tracking spawned apart, detection in this process.

Real footage, the real COCO detector, real spawned processes and shared memory.
"""

from __future__ import annotations

import os
import queue
import signal
import time

import pytest

from bench.vision import OnDemandFile, on_demand_source
from cameras.geometry import make_zone
from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraState, EventType, Frame
from ingest.decode import to_bgr
from tests.support.vision import ROOT
from vision.engine import FrameResult, VisionEngine
from vision.pipeline import CameraProcessPool, CameraSpec, open_pipeline
from vision.preview import PreviewSpec
from vision.rules.zones import IntrusionRule

FOOTAGE = ROOT / "var" / "footage" / "vtest.mp4"
pytestmark = pytest.mark.skipif(not FOOTAGE.is_file(), reason="var/footage/vtest.mp4 missing (run scripts/setup.sh)")


def _collect(results: queue.Queue, wanted: dict[int, int], timeout_s: float) -> dict[int, list[FrameResult]]:
    got: dict[int, list[FrameResult]] = {camera_id: [] for camera_id in wanted}
    deadline = time.monotonic() + timeout_s
    while any(len(got[c]) < n for c, n in wanted.items()) and time.monotonic() < deadline:
        try:
            result = results.get(timeout=0.5)
        except queue.Empty:
            continue
        got.setdefault(result.frame.camera_id, []).append(result)
    return got


def test_live_cameras_in_camera_processes_give_tracks_previews_and_health(coco_detector, tmp_path):
    settings = Settings(data_dir=tmp_path, vision={"camera_processes": 2})
    results: queue.Queue[FrameResult] = queue.Queue()
    preview = PreviewSpec(tmp_path, interval_s=0.2)
    with open_pipeline(settings, coco_detector, results.put, preview=preview) as live:
        assert isinstance(live, CameraProcessPool) and live.processes == 2
        for camera_id in (1, 2):
            live.add_camera(CameraSource.from_file(camera_id, FOOTAGE, analytics_fps=4, loop=True))
        got = _collect(results, {1: 8, 2: 8}, timeout_s=120)  # spawned processes import torch first
        healths = {h.camera_id: h for h in live.health()}
    assert all(len(v) >= 8 for v in got.values()), {k: len(v) for k, v in got.items()}
    for camera_results in got.values():
        indexes = [r.frame.index for r in camera_results]
        assert indexes == sorted(indexes), "frames of a camera reach its tracker in order"
        assert max(sum(t.class_name == "person" for t in r.tracks) for r in camera_results) >= 2
        assert min(t.track_id for r in camera_results for t in r.tracks) == 1, "one tracker per camera"
        assert camera_results[0].frame.image.size == 0, "pictures stay in the camera process"
    # the console's live tiles are written by the camera processes, and health crosses back
    assert {p.name for p in (tmp_path / "live").glob("*.jpg")} == {"1.jpg", "2.jpg"}
    assert set(healths) == {1, 2} and all(h.state == CameraState.ONLINE for h in healths.values())


def test_camera_processes_track_exactly_as_one_process_does(coco_detector, tmp_path):
    """Every frame of a file camera (on demand, none dropped) gives the same tracks split as together."""
    settings = Settings(data_dir=tmp_path, vision={"camera_processes": 1})
    results: queue.Queue[FrameResult] = queue.Queue()
    with CameraProcessPool(settings, coco_detector, 1, results.put) as pool:
        pool.add_camera(on_demand_source(1, FOOTAGE), feed=OnDemandFile())
        split = _collect(results, {1: 25}, timeout_s=120)[1][:25]
    assert [r.frame.index for r in split] == list(range(25)), "no frame dropped or reordered"

    import av

    engine = VisionEngine(coco_detector, settings.vision)  # the same frames, decoded as ingest decodes them
    together = []
    with av.open(str(FOOTAGE)) as container:
        for result, picture in zip(split, container.decode(video=0), strict=False):
            together.append(engine.process([Frame(1, to_bgr(picture), result.frame.captured_at,
                                                  result.frame.index)])[0])

    def tracks(results: list[FrameResult]) -> list[list[tuple[int, str, tuple[float, ...]]]]:
        return [[(t.track_id, t.class_name, tuple(round(v, 3) for v in t.box)) for t in r.tracks] for r in results]

    assert [r.gate for r in split] == [r.gate for r in together]
    assert tracks(split) == tracks(together)
    assert sum(len(r.tracks) for r in split) > 25  # people were tracked, not two empty lists compared


def test_store_results_carry_the_events_and_frames_but_no_boxes(coco_detector, tmp_path):
    """The worker's mode: what the store needs crosses back (events, frame identity, gate), boxes stay behind."""
    road = make_zone("road", "restricted", [[0, 0.45], [1, 0.45], [1, 1], [0, 1]])  # people cross it throughout
    settings = Settings(data_dir=tmp_path)
    results: queue.Queue[FrameResult] = queue.Queue()
    with CameraProcessPool(settings, coco_detector, 1, results.put, results="store") as pool:
        pool.add_camera(on_demand_source(7, FOOTAGE), [road], [IntrusionRule(7, road)], feed=OnDemandFile())
        # read as fast as the detector asks and timed then: the intrusion's 1-s hold spans more frames the faster
        # the detector (frame 15 on OpenCV DNN, 33 on OpenVINO on an AMD EPYC; 198-206 on OpenVINO bf16 on a Xeon
        # with AMX, at 100 frames/s); 600 frames last 2 s up to 300 frames/s
        got = _collect(results, {7: 600}, timeout_s=120)[7][:600]
    assert [r.frame.index for r in got] == list(range(600)), "every frame, in order"
    assert all(len(r.detections) == 0 and r.tracks == [] and r.frame.image.size == 0 for r in got)
    assert got[0].gate == "first" and got[0].detected
    assert all(r.latency_s >= 0 for r in got)
    intrusions = [e for r in got for e in r.events if e.type == EventType.INTRUSION]
    assert intrusions and intrusions[0].camera_id == 7 and intrusions[0].attributes["zone"] == "road"


def test_a_killed_camera_process_is_started_again_and_its_cameras_go_on(coco_detector, tmp_path, caplog):
    settings = Settings(data_dir=tmp_path)
    results: queue.Queue[FrameResult] = queue.Queue()
    with CameraProcessPool(settings, coco_detector, 2, results.put) as pool:
        for camera_id in (1, 2):
            pool.add_camera(CameraSource.from_file(camera_id, FOOTAGE, analytics_fps=4, loop=True))
        assert all(len(v) >= 3 for v in _collect(results, {1: 3, 2: 3}, timeout_s=120).values())
        victim = next(c for c in pool._children if 1 in c.cameras)
        os.kill(victim.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while pool.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pool.restarts == 1
        while not results.empty():
            results.get_nowait()
        after = _collect(results, {1: 3, 2: 3}, timeout_s=120)  # camera 1 again, camera 2 never stopped
    assert all(len(v) >= 3 for v in after.values()), {k: len(v) for k, v in after.items()}
    assert any("camera process" in r.message and "died" in r.message and "[1]" in r.message for r in caplog.records)


def test_a_camera_whose_picture_grows_gets_bigger_shared_buffers_while_one_is_in_flight():
    """A stream that reconnects at a higher resolution: the next frame must fit, with a frame still queued."""
    import numpy as np

    from vision.pipeline.child import HostedCamera

    camera = HostedCamera(CameraSpec(CameraSource.from_file(1, FOOTAGE)), feed=None)
    try:
        small, large = np.ones((4, 6, 3), np.uint8), np.ones((8, 12, 3), np.uint8)
        in_flight = camera.buffer_for(small)
        camera.free.append(camera.buffer_for(small))  # the second frame was answered: its buffer is free again
        index = camera.buffer_for(large)
        assert index != in_flight and camera.buffers[index].size >= large.nbytes
        np.ndarray(large.shape, np.uint8, buffer=camera.buffers[index].buf)[...] = large  # fits
        assert camera.buffers[in_flight].size >= small.nbytes  # the queued frame's buffer is untouched
    finally:
        camera.release_buffers()
