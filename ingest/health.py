"""Camera health: rolling rates kept by each reader, and their Prometheus exposition.

``HealthMetrics`` is a health sink (pass ``metrics.observe`` as a reader's ``on_health``) and a
Prometheus collector: register it on a ``CollectorRegistry`` the owner holds (no global registry) and
every scrape reports the newest snapshot of each camera.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator

from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from core.types import CameraHealth, CameraState


class RateWindow:
    """Events per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._started: float | None = None
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._started is None:
                self._started = now
            self._times.append(now)
            self._trim(now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            if self._started is None:
                return 0.0
            span = min(self.window_s, now - self._started)
            return len(self._times) / span if span >= 0.5 else 0.0

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] < now - self.window_s:
            self._times.popleft()


class HealthMetrics(Collector):
    """Latest health per camera, exposed as ``vigil_camera_*`` metrics labelled by camera id."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._latest: dict[int, CameraHealth] = {}
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def observe(self, health: CameraHealth) -> None:
        with self._lock:
            self._latest[health.camera_id] = health

    def forget(self, camera_id: int) -> None:
        with self._lock:
            self._latest.pop(camera_id, None)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with self._lock:
            snapshots = list(self._latest.values())
        labels = ["camera"]
        up = GaugeMetricFamily("vigil_camera_up", "1 when the camera delivers frames", labels=labels)
        state = GaugeMetricFamily("vigil_camera_state", "1 for the camera's current state", labels=[*labels, "state"])
        input_fps = GaugeMetricFamily("vigil_camera_input_fps", "Decoded frames per second", labels=labels)
        analytics_fps = GaugeMetricFamily("vigil_camera_analytics_fps", "Frames per second handed to vision",
                                          labels=labels)
        age = GaugeMetricFamily("vigil_camera_last_frame_age_seconds", "Seconds since the last decoded frame",
                                labels=labels)
        width = GaugeMetricFamily("vigil_camera_width_pixels", "Decoded frame width", labels=labels)
        height = GaugeMetricFamily("vigil_camera_height_pixels", "Decoded frame height", labels=labels)
        errors = CounterMetricFamily("vigil_camera_decode_errors", "Packets that failed to decode", labels=labels)
        reconnects = CounterMetricFamily("vigil_camera_reconnects", "Times the stream was reopened after a loss",
                                         labels=labels)
        for h in snapshots:
            cam = str(h.camera_id)
            up.add_metric([cam], 1.0 if h.state in (CameraState.ONLINE, CameraState.TAMPER) else 0.0)
            for s in CameraState:
                state.add_metric([cam, s.value], 1.0 if h.state == s else 0.0)
            input_fps.add_metric([cam], h.input_fps)
            analytics_fps.add_metric([cam], h.analytics_fps)
            if h.last_frame_age_s is not None:
                age.add_metric([cam], h.last_frame_age_s)
            if h.width:
                width.add_metric([cam], float(h.width))
                height.add_metric([cam], float(h.height or 0))
            errors.add_metric([cam], float(h.decode_errors))
            reconnects.add_metric([cam], float(h.reconnects))
        yield from (up, state, input_fps, analytics_fps, age, width, height, errors, reconnects)
