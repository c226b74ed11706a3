"""Camera readers against a real RTSP server (gst-rtsp-server serving the shipped footage)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from cameras.models import CameraSource
from core.settings import IngestSettings
from core.types import CameraState, Event, EventType
from ingest.reader import CameraReader
from tests.support.rtsp import RtspServer

FAST = IngestSettings(analytics_fps=2.0, offline_grace_s=0.0, backoff_initial_s=0.1, backoff_max_s=0.5,
                      open_timeout_s=3.0, read_timeout_s=3.0, watchdog_s=2.0, health_interval_s=0.5)


def _wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_frames_arrive_at_the_sampled_rate_with_increasing_timestamps(rtsp_server: RtspServer) -> None:
    health = []
    reader = CameraReader(CameraSource.from_rtsp(1, rtsp_server.url()), FAST, on_health=health.append)
    with reader:
        first = reader.slot.take(-1, timeout=10.0)
        assert first is not None, "no frame within 10 s of connecting"
        frames, last = [first], first.index
        while len(frames) < 9:
            frame = reader.slot.take(last, timeout=3.0)
            assert frame is not None, "frames stopped"
            frames.append(frame)
            last = frame.index
    span = frames[-1].captured_at - frames[0].captured_at
    assert 8 / span == pytest.approx(2.0, rel=0.25)  # 2 analytics frames/s out of a 10 fps stream
    assert all(b.captured_at > a.captured_at and b.index > a.index for a, b in itertools.pairwise(frames))
    assert frames[0].image.shape == (576, 768, 3)
    online = [h for h in health if h.state == CameraState.ONLINE]
    assert online and online[-1].width == 768 and online[-1].input_fps > 5


def _pairs(events: list[Event]) -> tuple[int, int]:
    closed_offline = sum(1 for e in events if e.type == EventType.CAMERA_OFFLINE and e.end is not None)
    online = sum(1 for e in events if e.type == EventType.CAMERA_ONLINE)
    return closed_offline, online


@pytest.mark.slow
def test_twenty_server_restarts_give_twenty_offline_online_pairs(rtsp_server: RtspServer) -> None:
    events: list[Event] = []
    reader = CameraReader(CameraSource.from_rtsp(1, rtsp_server.url()), FAST, on_event=events.append)
    with reader:
        assert reader.slot.take(-1, timeout=10.0) is not None
        baseline = _pairs(events)  # with no grace, not-yet-connected at start already counts as one pair
        for restart in range(1, 21):
            last = reader.slot.latest().index
            rtsp_server.kill()
            assert _wait(lambda: reader.state == CameraState.OFFLINE, 10), f"restart {restart}: loss not seen"
            rtsp_server.start()
            assert reader.slot.take(last, timeout=15.0) is not None, f"restart {restart}: no frames again"
            assert _wait(lambda r=restart: _pairs(events)[1] - baseline[1] >= r, 5)
    closed, online = _pairs(events)
    assert (closed - baseline[0], online - baseline[1]) == (20, 20)
    assert reader.reconnects == 20
    opened = [e for e in events if e.type == EventType.CAMERA_OFFLINE and e.end is None]
    assert len(opened) == closed  # every offline event that opened was closed


def test_a_frozen_server_is_detected_by_the_watchdog(rtsp_server: RtspServer) -> None:
    events: list[Event] = []
    reader = CameraReader(CameraSource.from_rtsp(1, rtsp_server.url()), FAST, on_event=events.append)
    with reader:
        assert reader.slot.take(-1, timeout=10.0) is not None
        rtsp_server.freeze()  # SIGSTOP: the TCP connection stays open, nothing more arrives
        frozen_at = time.monotonic()
        assert _wait(lambda: reader.state in (CameraState.RECONNECTING, CameraState.OFFLINE), 10)
        detected_s = time.monotonic() - frozen_at
        assert detected_s < FAST.watchdog_s + 2.0
        assert _wait(lambda: any(e.type == EventType.CAMERA_OFFLINE for e in events[-2:]), 5)
        rtsp_server.thaw()
        last = reader.slot.latest().index
        assert reader.slot.take(last, timeout=15.0) is not None, "frames did not come back after the thaw"
