"""``vigil bench backends``: the raw detector rate of every CPU backend that can run a model, side by side.

For each backend (yolov3-tiny: OpenCV DNN and OpenVINO; person-yolov8s: torch, ONNX Runtime, OpenVINO) two
layouts on the same frames: one instance using every core for a call, and one single-thread instance per core
called from its own thread (the worker's layout, ``vision.detectors``). Frames are vtest's, one per call
(batch 1, as a CPU worker calls). Each figure is the frames detected over ``seconds`` of wall time; the ratio
is against the first backend of the run (OpenCV DNN, or torch), measured minutes apart on the same machine.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import VisionSettings
from vision.detectors.base import Detector

DARKNET_BACKENDS = ("opencv", "openvino")
ULTRALYTICS_BACKENDS = ("torch", "onnxruntime", "openvino")


def backends_for(weights: Path) -> tuple[str, ...]:
    """The backends that can run the model file, reference first."""
    return DARKNET_BACKENDS if weights.suffix.lower() == ".weights" else ULTRALYTICS_BACKENDS


def rate(detectors: Sequence[Detector], frames: Sequence[np.ndarray], seconds: float) -> float:
    """Frames per second that ``detectors`` detect together, each called one frame at a time from its own
    thread, over ``seconds`` after one warm-up call each."""
    for detector in detectors:
        detector.detect([frames[0]])
    done = [0] * len(detectors)
    start = threading.Barrier(len(detectors) + 1)
    deadline: list[float] = [0.0]

    def loop(k: int) -> None:
        start.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            detectors[k].detect([frames[(n * len(detectors) + k) % len(frames)]])
            n += 1
        done[k] = n

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in range(len(detectors))]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - began)


def measure(vision: VisionSettings, models_dir: Path, weights: Path, frames: Sequence[np.ndarray], seconds: float,
            build: Callable[..., Detector], say: Callable[[str], None]) -> list[dict[str, Any]]:
    """One row per backend that loads: frames/s in both layouts, the precision it runs at."""
    from vision.detectors import ModelError

    cores = os.cpu_count() or 1
    rows: list[dict[str, Any]] = []
    for backend in backends_for(weights):
        settings = vision.model_copy(update={"backend": backend, "int8": "off"})
        try:
            whole = build(settings, models_dir, threads=cores)
            one = rate([whole], frames, seconds)
            shared = [build(settings, models_dir, threads=1) for _ in range(cores)]
            split = rate(shared, frames, seconds)
        except ModelError as exc:
            say(f"  {backend}: not measured ({exc})")
            continue
        row = {"backend": backend, "precision": getattr(whole, "precision", "f32"),
               f"fps_1x{cores}_threads": round(one, 1), f"fps_{cores}x1_thread": round(split, 1)}
        row["best_fps"] = round(max(one, split), 1)
        row["ratio_to_first"] = round(row["best_fps"] / rows[0]["best_fps"], 2) if rows else 1.0
        rows.append(row)
        say(f"  {backend}: {one:.1f} frames/s with one instance of {cores} threads, {split:.1f} with {cores} of one")
        for detector in (whole, *shared):
            detector.close()
    return rows
