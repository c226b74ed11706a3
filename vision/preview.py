"""Each camera's newest annotated frame as a JPEG for the console's tiles (``DATA_DIR/live/<camera id>.jpg``).

The camera's ``snapshot_path`` points at it; the API's snapshot and MJPEG preview serve it while it is fresh.
Written where the frame is: in the vision process, or in a camera process (``vision.pipeline.child``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from vision.engine import FrameResult
from vision.evidence import draw


@dataclass(frozen=True)
class PreviewSpec:
    """Where and how often the live pictures are written (picklable: camera processes build their writer)."""

    folder: Path
    interval_s: float = 0.5
    width: int = 640


class PreviewWriter:
    """Writes each camera's newest annotated frame as a JPEG, atomically, at most every ``interval_s``."""

    def __init__(self, folder: Path, interval_s: float, width: int,
                 zones_of: Callable[[int], Sequence[Any]]) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.interval_s = interval_s
        self.width = width
        self.zones_of = zones_of
        self._last: dict[int, float] = {}

    @classmethod
    def from_spec(cls, spec: PreviewSpec, zones_of: Callable[[int], Sequence[Any]]) -> PreviewWriter:
        return cls(spec.folder, spec.interval_s, spec.width, zones_of)

    def offer(self, result: FrameResult) -> None:
        camera_id = result.frame.camera_id
        now = time.monotonic()
        if now - self._last.get(camera_id, 0.0) < self.interval_s:
            return
        self._last[camera_id] = now
        image = draw(result.frame.image, result.detections, self.zones_of(camera_id))
        height, width = image.shape[:2]
        if width > self.width:
            image = cv2.resize(image, (self.width, round(height * self.width / width)), interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
        if not ok:
            return
        target = self.folder / f"{camera_id}.jpg"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(jpeg.tobytes())
        os.replace(temporary, target)  # readers never see half a file

    def forget(self, camera_id: int, delete: bool = True) -> None:
        """Stop timing a camera; ``delete``: remove its picture too (it moved to another worker)."""
        self._last.pop(camera_id, None)
        if delete:
            (self.folder / f"{camera_id}.jpg").unlink(missing_ok=True)
