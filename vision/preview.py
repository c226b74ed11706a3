"""Each camera's newest annotated frame as a JPEG for the console's tiles (``core.media.live_picture_file``).

The camera's ``snapshot_path`` points at it (``core.media.live_picture``); the API's snapshot and MJPEG preview
serve it while it is fresh. Written where the frame is: in the vision process, or in a camera process
(``vision.pipeline.child``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from cameras.draw import draw
from core import media
from vision.engine import FrameResult


@dataclass(frozen=True)
class PreviewSpec:
    """Under which data folder and how often the live pictures are written (picklable: camera processes build
    their writer)."""

    data_dir: Path
    interval_s: float = 0.5
    width: int = 640

    def picture(self, camera_id: int) -> Path:
        """The file of a camera's live picture."""
        return media.live_picture_file(self.data_dir, camera_id)


class PreviewWriter:
    """Writes each camera's newest annotated frame as a JPEG, atomically, at most every ``interval_s``."""

    def __init__(self, data_dir: Path, interval_s: float, width: int,
                 zones_of: Callable[[int], Sequence[Any]]) -> None:
        self.data_dir = data_dir
        media.live_pictures_dir(data_dir).mkdir(parents=True, exist_ok=True)
        self.interval_s = interval_s
        self.width = width
        self.zones_of = zones_of
        self._last: dict[int, float] = {}

    @classmethod
    def from_spec(cls, spec: PreviewSpec, zones_of: Callable[[int], Sequence[Any]]) -> PreviewWriter:
        return cls(spec.data_dir, spec.interval_s, spec.width, zones_of)

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
        target = media.live_picture_file(self.data_dir, camera_id)
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(jpeg.tobytes())
        os.replace(temporary, target)  # readers never see half a file

    def forget(self, camera_id: int, delete: bool = True) -> None:
        """Stop timing a camera; ``delete``: remove its picture too (it moved to another worker)."""
        self._last.pop(camera_id, None)
        if delete:
            media.live_picture_file(self.data_dir, camera_id).unlink(missing_ok=True)
