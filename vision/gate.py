"""Motion gate: a cheap per-camera check that lets a still scene skip inference.

The frame is shrunk to a small grey image and compared with the one taken when the detector last ran
for this camera (not with the previous frame, so slow movement adds up instead of slipping through).
No motion -> skip inference; the camera's tracks are kept as they were. A refresh is forced every
``forced_refresh_s`` so people standing still and parked vehicles stay known. On motion the decision also
says where: the boxes of the changed areas in the frame's pixels (``regions``), for region detection
(``vision.regions``); a first frame, a refresh or a gate that is off mean the whole frame (``regions`` None).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GATE_WIDTH = 160  # pixels; enough to see a person at CCTV distance, costs well under a millisecond
PIXEL_DELTA = 25  # grey levels; above sensor noise and compression ringing


MIN_BLOB_PX = 3  # changed areas smaller than this many gate pixels are noise, not a region
Region = tuple[int, int, int, int]  # x1, y1, x2, y2 in whole pixels of the frame


@dataclass(slots=True)
class GateDecision:
    run: bool  # True: run the detector on this frame
    reason: str  # "first", "motion", "refresh", "still", "off"
    changed: float  # share of changed pixels, 0..1
    regions: tuple[Region, ...] | None = None  # on motion: where the frame changed; None: the whole frame


class MotionGate:
    """One camera's motion gate; ``check`` decides, ``ran`` records that the detector ran on a frame."""

    def __init__(self, threshold: float = 0.002, forced_refresh_s: float = 3.0, enabled: bool = True) -> None:
        self.threshold, self.forced_refresh_s, self.enabled = threshold, forced_refresh_s, enabled
        self._reference: np.ndarray | None = None
        self._last_run: float | None = None

    def check(self, image: np.ndarray, now: float) -> GateDecision:
        """Whether this frame needs the detector: first frame, motion since the last run, or refresh due."""
        small = shrink(image)
        if not self.enabled:
            return self._decide(small, now, GateDecision(True, "off", 1.0))
        if self._reference is None or self._reference.shape != small.shape or self._last_run is None:
            return self._decide(small, now, GateDecision(True, "first", 1.0))
        moved = cv2.absdiff(small, self._reference) > PIXEL_DELTA
        changed = float(np.count_nonzero(moved)) / small.size
        if changed > self.threshold:
            regions = motion_regions(moved, image.shape[1], image.shape[0])
            return self._decide(small, now, GateDecision(True, "motion", changed, regions))
        if now - self._last_run >= self.forced_refresh_s:
            return self._decide(small, now, GateDecision(True, "refresh", changed))
        return GateDecision(False, "still", changed)

    def forget(self) -> None:
        """The detector did not run after all (it failed): the next frame is treated as a first one."""
        self._reference, self._last_run = None, None

    def _decide(self, small: np.ndarray, now: float, decision: GateDecision) -> GateDecision:
        self._reference, self._last_run = small, now
        return decision


def motion_regions(moved: np.ndarray, width: int, height: int) -> tuple[Region, ...]:
    """Boxes of the changed areas of a gate mask, in the pixels of the width x height frame it was shrunk from
    (parts of one person a few gate pixels apart are joined first)."""
    mask = cv2.dilate(moved.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    factor = max(1, round(width / GATE_WIDTH))
    out = []
    for x, y, w, h, area in stats[1:count]:
        if area < MIN_BLOB_PX + 16:  # the dilation adds about 16 pixels around a single changed one
            continue
        out.append((max(0, int(x) * factor - factor), max(0, int(y) * factor - factor),
                    min(width, int(x + w) * factor + factor), min(height, int(y + h) * factor + factor)))
    return tuple(out)


def shrink(image: np.ndarray) -> np.ndarray:
    """Small blurred grey copy of a BGR frame (about GATE_WIDTH wide, aspect kept).

    The frame is shrunk by a whole factor (its last few rows/columns cropped): OpenCV's area resize has a
    fast path for whole factors, ~0.6 ms at 768x576 against ~3-6 ms for 768 -> 160 (factor 4.8), and this
    runs on the vision thread for every frame of every camera.
    """
    height, width = image.shape[:2]
    factor = max(1, round(width / GATE_WIDTH))
    size = (max(1, width // factor), max(1, height // factor))
    cropped = image[:size[1] * factor, :size[0] * factor]
    grey = cv2.cvtColor(cv2.resize(cropped, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return cv2.GaussianBlur(grey, (5, 5), 0)
