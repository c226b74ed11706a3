"""``vigil bench dispatch``: what the vision process itself spends per frame in the camera-process layout.

On a GPU host the vision process's one thread fills batches, launches the detector and hands the boxes back;
whatever it spends per frame on the pipes comes on top of the detector, which is why ``pipeline/raw`` stays
below 1 there (``docs/benchmarks.md``). This measures that cost on any machine: the camera processes decode,
gate and track the shipped footage as usual, and the detector is a **stand-in** (:class:`StandInDetector`,
six constant person boxes per frame, no network) so the figure is the wire and the dispatcher alone. The
vision process's CPU time (user + system, all its threads) is divided by the frames it detected.

Both result modes are measured side by side in one run: ``store`` (what the worker and ``vigil bench vision``
ask for: events, observations, sessions and the frame's identity) and ``full`` (boxes and tracks too).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.settings import Settings
from core.types import Detections

if TYPE_CHECKING:
    from vision.pipeline import ResultsMode


class StandInDetector:
    """Not a detector: six constant person boxes per frame, at no cost. Used only to measure the dispatcher."""

    name = "stand-in (constant boxes)"
    device = "cpu"
    imgsz = 0  # it never resizes

    def __init__(self) -> None:
        self._boxes: dict[tuple[int, ...], Detections] = {}  # made once per picture size: ~1 us per frame

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return [self._boxes.get(image.shape) or self._make(image.shape) for image in images]

    def _make(self, shape: tuple[int, ...]) -> Detections:
        height, width = shape[:2]
        x = np.arange(1, 7, dtype=np.float32) * width * 0.12
        xyxy = np.stack([x, np.full(6, height * 0.3), x + width * 0.06, np.full(6, height * 0.3 + 110)], axis=1)
        found = self._boxes[shape] = Detections(xyxy.astype(np.float32), np.full(6, 0.8, np.float32),
                                                np.zeros(6, np.int16))
        return found

    def close(self) -> None:
        self._boxes.clear()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process only: the camera processes are children
    return usage.ru_utime + usage.ru_stime


def measure(settings: Settings, clip: Path, cameras: int, processes: int, results: ResultsMode, seconds: float,
            warmup_s: float = 2.0) -> dict[str, Any]:
    """One figure: ``cameras`` file cameras in ``processes`` camera processes around the stand-in detector."""
    from bench.vision import on_demand_source, serving_pool

    got = [0]

    def on_result(result: Any) -> None:
        got[0] += 1

    sources = [on_demand_source(camera_id, clip) for camera_id in range(1, cameras + 1)]
    with serving_pool(settings, StandInDetector(), sources, processes, on_result, results) as pool:
        time.sleep(warmup_s)
        began, cpu0, start = time.perf_counter(), _cpu_s(), (pool.detected_frames, got[0], pool.batches)
        time.sleep(seconds)
        cpu1, end = _cpu_s(), (pool.detected_frames, got[0], pool.batches)
        elapsed = time.perf_counter() - began
    frames, results_got, batches = (b - a for a, b in zip(start, end, strict=True))
    return {"frames_per_s": frames / elapsed, "results_per_s": results_got / elapsed,
            "cpu_us_per_frame": (cpu1 - cpu0) * 1e6 / max(frames, 1), "frames_per_batch": frames / max(batches, 1)}


def run(settings: Settings, clip: Path, cameras: Sequence[int], processes: int, seconds: float,
        say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Per camera count, the store and full result modes one after the other."""
    rows = []
    for count in cameras:
        row: dict[str, Any] = {"cameras": count, "camera_processes": min(processes, count)}
        for mode in ("store", "full"):
            say(f"dispatch: {count} cameras in {row['camera_processes']} camera processes, {mode} results, "
                f"{seconds:g} s")
            figure = measure(settings, clip, count, row["camera_processes"], mode, seconds)
            row.update({f"{key}_{mode}": value for key, value in figure.items()})
        row["full/store_cpu"] = row["cpu_us_per_frame_full"] / max(row["cpu_us_per_frame_store"], 1e-9)
        rows.append(row)
    return rows
