"""File cameras (the demo and offline analysis), reconnect hygiene, health metrics."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from cameras.models import CameraSource
from core.settings import IngestSettings
from core.types import CameraState
from ingest.health import HealthMetrics
from ingest.offline import iter_frames
from ingest.pool import ReaderPool
from ingest.reader import CameraReader
from tests.support.rtsp import footage

SETTINGS = IngestSettings(analytics_fps=5.0, offline_grace_s=0.0, backoff_initial_s=0.001, backoff_max_s=0.002,
                          health_interval_s=0.2)


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second (10 frames) of the shipped footage, without re-encoding."""
    out = tmp_path_factory.mktemp("clips") / "one_second.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(footage()), "-t", "1", "-c", "copy", str(out)],
                   check=True, timeout=60)
    return out


def test_offline_reading_gives_every_sampled_frame_with_file_times() -> None:
    frames = list(iter_frames(footage(), 2.0, start_time=1000.0))
    assert len(frames) == 795 // 5  # 79.5 s of 10 fps footage at 2 frames/s
    assert frames[0].captured_at == 1000.0
    assert frames[1].captured_at == pytest.approx(1000.5, abs=0.01)
    assert frames[-1].image.shape == (576, 768, 3)


def test_a_file_camera_loops_at_its_native_rate(short_clip: Path) -> None:
    camera = CameraSource.from_file(5, short_clip, analytics_fps=10.0)
    with CameraReader(camera, SETTINGS) as reader:
        started = time.monotonic()
        assert reader.slot.take(-1, timeout=5.0) is not None
        assert _wait_for(lambda: reader.decoded_frames >= 25, 10.0)  # 2.5 loops of the 10-frame clip
        elapsed = time.monotonic() - started
    assert elapsed == pytest.approx(2.4, abs=0.6)  # paced like a live 10 fps camera, not as fast as decoded
    assert reader.reconnects == 0 and reader.state != CameraState.OFFLINE


def test_a_file_camera_without_loop_stops_at_its_end(short_clip: Path) -> None:
    camera = CameraSource.from_file(6, short_clip, loop=False, realtime=False)
    with CameraReader(camera, SETTINGS) as reader:
        assert _wait_for(lambda: reader.ended, 5.0)
    assert reader.decoded_frames == 10


def _wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_a_hundred_reconnects_leak_no_thread_and_no_file(short_clip: Path) -> None:
    # An "rtsp" camera whose stream ends after a second: every end is a loss, every reopen a reconnect.
    camera = CameraSource(7, str(short_clip), analytics_fps=10.0)
    events = []
    threads_before, fds_before = threading.active_count(), _open_fds()
    with CameraReader(camera, SETTINGS, on_event=events.append) as reader:
        assert _wait_for(lambda: reader.reconnects >= 100, 60.0), f"only {reader.reconnects} reconnects"
        during = threading.active_count()
    assert during == threads_before + 2  # the reader and its watchdog, whatever the reconnects
    assert threading.active_count() == threads_before
    assert _open_fds() <= fds_before + 1
    assert not reader.alive


def test_pool_hands_the_newest_frames_of_all_cameras_and_exports_metrics(short_clip: Path) -> None:
    registry = CollectorRegistry()
    metrics = HealthMetrics(registry)
    with ReaderPool(SETTINGS, on_health=metrics.observe) as pool:
        for camera_id in (1, 2, 3):
            pool.add(CameraSource.from_file(camera_id, short_clip, analytics_fps=5.0))
        seen: dict[int, int] = {}
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            for frame in pool.wait_frames(seen, timeout=1.0):
                assert frame.index > seen.get(frame.camera_id, -1)
                seen[frame.camera_id] = frame.index
        assert set(seen) == {1, 2, 3}
        assert _wait_for(lambda: all(h.input_fps > 5 for h in pool.health()), 5.0)
        time.sleep(0.3)  # one health interval, so the sink has the rates too
        text = generate_latest(registry).decode()
    assert 'vigil_camera_up{camera="2"} 1.0' in text
    assert 'vigil_camera_width_pixels{camera="1"} 768.0' in text
    assert "vigil_camera_reconnects_total" in text


def test_a_loss_shorter_than_the_grace_period_raises_no_offline_event(short_clip: Path) -> None:
    camera = CameraSource(8, str(short_clip), analytics_fps=10.0, site_id=3)  # ends every second: a brief loss
    events = []
    patient = SETTINGS.model_copy(update={"offline_grace_s": 30.0})
    with CameraReader(camera, patient, on_event=events.append) as reader:
        assert _wait_for(lambda: reader.reconnects >= 3, 20.0)
    assert events == []
    impatient = SETTINGS.model_copy(update={"offline_grace_s": 0.0})
    with CameraReader(camera, impatient, on_event=events.append) as reader:
        assert _wait_for(lambda: reader.reconnects >= 1 and len(events) >= 3, 20.0)
    assert {e.type.value for e in events} >= {"camera_offline", "camera_online"}
    assert all(e.site_id == 3 and e.camera_id == 8 for e in events)


def test_damaged_video_counts_decode_errors_and_reading_goes_on(short_clip: Path, tmp_path: Path) -> None:
    data = bytearray(short_clip.read_bytes())
    for offset in range(len(data) // 4, len(data) - 64, len(data) // 40):  # scratch the picture data
        data[offset:offset + 16] = bytes(16)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    camera = CameraSource.from_file(10, damaged, loop=False, realtime=False)
    with CameraReader(camera, SETTINGS) as reader:
        assert _wait_for(lambda: reader.ended, 10.0)
    assert reader.decode_errors > 0
    assert reader.decoded_frames >= 5  # damaged pictures are counted, not fatal
    assert reader.health().decode_errors == reader.decode_errors
