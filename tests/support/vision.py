"""Vision fixtures: the real footage and the real detectors, loaded once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.settings import VisionSettings
from core.types import Frame

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
BIKES = ROOT / "var" / "footage" / "bikes.mp4"
SPRITES = ROOT / "var" / "scenarios" / "cache" / "sprites.npz"  # `vigil eval`'s cut-outs, built once


def scenes_data_dir(tmp_path: Path) -> Path:
    """A data folder for `vigil eval`-style commands that render into it, with the cut-outs already cut (about
    a minute saved) when the checkout has them."""
    cache = tmp_path / "scenarios" / "cache"
    cache.mkdir(parents=True)
    if SPRITES.is_file():
        shutil.copy(SPRITES, cache)
    return tmp_path


def read_frames(path: Path, count: int, camera_id: int = 1, start: int = 0, step: int = 1,
                fps: float | None = None) -> list[Frame]:
    """``count`` consecutive (every ``step``-th) frames from ``start``, as Frames timed by the file's rate."""
    if not path.is_file():
        pytest.skip(f"{path} not present (run scripts/setup.sh)")
    cap = cv2.VideoCapture(str(path))
    rate = fps or cap.get(cv2.CAP_PROP_FPS) or 10.0
    frames, index = [], -1
    while len(frames) < count:
        ok, image = cap.read()
        if not ok:
            break
        index += 1
        if index >= start and (index - start) % step == 0:
            frames.append(Frame(camera_id, image, 1_000_000.0 + index / rate, index, pts_s=index / rate))
    cap.release()
    return frames


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _need(*names: str) -> None:
    missing = [n for n in names if not (MODELS / n).is_file()]
    if missing:
        pytest.skip(f"models {missing} not installed (run scripts/setup.sh)")


@pytest.fixture(scope="session")
def coco_detector():
    """yolov3-tiny (COCO) at the default settings (416): OpenVINO on setup's export where it agrees, else OpenCV DNN."""
    from vision.detectors import load_detector

    _need("yolov3-tiny.weights", "yolov3-tiny.cfg", "coco.names")
    return load_detector(VisionSettings(), MODELS)


@pytest.fixture(scope="session")
def person_detector():
    """person-yolov8s through Ultralytics (torch) on this machine's device (CPU here), at 640."""
    from vision.detectors import load_detector

    _need("person-yolov8s.pt")
    return load_detector(VisionSettings(model="person-yolov8s", imgsz=640, confidence=0.4, backend="torch"), MODELS)


@pytest.fixture(scope="session")
def vtest_frames() -> list[Frame]:
    """The first 20 frames of vtest.avi (2 s at 10 fps): people walking, parked vans."""
    return read_frames(VTEST, 20)
