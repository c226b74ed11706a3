"""Recall of a detector on the hand-labelled vtest frames (``scenarios/labels/vtest_people.json``), whole frame
against region detection, as the engine sees a labelled frame at 2 analysed frames per second.

Region mode, for each labelled frame: the motion gate compares it with the frame 0.5 s earlier (what the gate's
reference is at 2 fps); the detector runs on the crops planned from the motion regions
(``vision.regions.plan_crops``) and the boxes come back to the frame; outside the crops the boxes the detector
found on that earlier frame stand (``vision.regions.hold_outside``: nothing moved there). A labelled person is
found when a person box overlaps theirs by IoU >= 0.5 (each box counts once); boxes on an ``ignore`` sliver are
neither found nor false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.types import CLASS_ID, Detections
from vision.gate import MotionGate
from vision.regions import detect_in_regions, detector_inputs, hold_outside, plan_crops

LABELS = Path(__file__).resolve().parents[1] / "scenarios" / "labels" / "vtest_people.json"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
STEP = 5  # frames of vtest (10 fps) between the gate's reference and the labelled frame: 2 analysed frames/s


@dataclass
class Recall:
    mode: str
    labelled: int
    found: int
    false: int
    inferences: int  # detector inputs (crops, mosaics or frames) for the labelled frames

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 0.0

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.false) if self.found + self.false else 0.0


def load_labels(path: Path = LABELS) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def read_pairs(labels: dict[str, Any], footage: Path = VTEST) -> list[tuple[np.ndarray, np.ndarray]]:
    """(the frame 0.5 s before, the labelled frame) for each labelled frame."""
    wanted = {f["frame"] - STEP: "before" for f in labels["frames"]} | {f["frame"]: "at" for f in labels["frames"]}
    cap = cv2.VideoCapture(str(footage))
    images: dict[int, np.ndarray] = {}
    index = -1
    while len(images) < len(wanted):
        ok, image = cap.read()
        if not ok:
            break
        index += 1
        if index in wanted:
            images[index] = image
    cap.release()
    return [(images[f["frame"] - STEP], images[f["frame"]]) for f in labels["frames"]]


def people(found: Detections) -> np.ndarray:
    return found.xyxy[found.class_id == CLASS_ID["person"]]


def match(boxes: np.ndarray, truth: list[list[float]], ignore: list[list[float]]) -> tuple[int, int]:
    """(labelled people found, false boxes): greedy by IoU >= 0.5, best pairs first."""
    pairs = sorted(((_iou(b, t), i, j) for i, b in enumerate(boxes) for j, t in enumerate(truth)), reverse=True)
    used_box, used_truth = set(), set()
    for overlap, i, j in pairs:
        if overlap < 0.5:
            break
        if i in used_box or j in used_truth:
            continue
        used_box.add(i)
        used_truth.add(j)
    false = sum(1 for i, b in enumerate(boxes) if i not in used_box and not any(_iou(b, g) > 0.1 for g in ignore))
    return len(used_truth), false


def _iou(a: Any, b: Any) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return float(ix * iy / union) if union > 0 else 0.0


def measure(detector: Any, labels: dict[str, Any] | None = None, max_regions: int = 4) -> dict[str, Recall]:
    """Recall and false boxes of ``detector`` on the labelled frames: whole frame ("frame"), region detection
    as the engine runs it ("regions": two to four crops as one mosaic where that shows them larger than the
    frame, ``vision.region_mosaic``) and with every crop at the model's own scale ("crops")."""
    labels = labels or load_labels()
    pairs = read_pairs(labels)
    modes = {"frame": None, "regions": True, "crops": False}
    out = {mode: Recall(mode, 0, 0, 0, 0) for mode in modes}
    for (before, image), frame in zip(pairs, labels["frames"], strict=True):
        truth, ignore = [p["box"] for p in frame["people"]], frame["ignore"]
        whole, earlier = detector.detect([image, before])
        gate = MotionGate(forced_refresh_s=1e9)
        gate.check(before, 0.0)
        decision = gate.check(image, 0.5)
        height, width = image.shape[:2]
        crops = plan_crops(decision.regions or (), width, height, detector.imgsz, max_regions) if decision.run else []
        for mode, mosaic in modes.items():
            if mode == "frame" or crops is None:  # most of the frame moved: the whole frame is detected
                boxes, used = people(whole), 1
            elif not crops:
                boxes, used = people(earlier), 0
            else:
                [found] = detect_in_regions(detector, [image], [crops], bool(mosaic))
                boxes = people(hold_outside(earlier, found, crops))
                used = detector_inputs(crops, width, height, detector.imgsz, bool(mosaic))
            hit, false = match(boxes, truth, ignore)
            result = out[mode]
            result.labelled += len(truth)
            result.found += hit
            result.false += false
            result.inferences += used
    return out
