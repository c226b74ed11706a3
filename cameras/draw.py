"""Drawing on a camera's picture: zone and line outlines, boxes with ``class #id`` tags.

Drawing only: which boxes and zones to show is decided by the caller (the vision engine's evidence and live
pictures, the API's snapshot of a camera's stream).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np

from cameras.geometry import ZoneSpec
from core.types import Detections

_PERSON, _VEHICLE, _ZONE, _LINE = (60, 200, 60), (255, 160, 30), (0, 215, 255), (255, 0, 255)


def plain_label(text: str) -> str:
    """The text in the letters OpenCV's fonts can draw: Vietnamese without diacritics ("bãi đỗ" -> "bai do")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "replace").decode()


def draw(image: np.ndarray, detections: Detections, zones: Sequence[ZoneSpec] = (),
         highlight_zone: str | None = None) -> np.ndarray:
    """A copy of the frame with zone outlines (``highlight_zone`` thicker), boxes and ``class #id`` labels."""
    canvas = image.copy()
    height, width = canvas.shape[:2]
    scale = np.array([width, height], dtype=np.float64)
    for zone in zones:
        pts = np.round(zone.as_array() * scale).astype(np.int32)
        thick = 3 if zone.name == highlight_zone else 1
        color = _LINE if zone.is_line else _ZONE
        cv2.polylines(canvas, [pts], not zone.is_line, color, thick, cv2.LINE_AA)
        cv2.putText(canvas, plain_label(zone.name), tuple(int(v) for v in pts[0]), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    color, 1, cv2.LINE_AA)
    ids = detections.tracker_id if len(detections.tracker_id) == len(detections) else [None] * len(detections)
    for box, name, track_id in zip(detections.xyxy, detections.class_names, ids, strict=True):
        x1, y1, x2, y2 = np.round(box).astype(int).tolist()
        color = _PERSON if name == "person" else _VEHICLE
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, 2)
        label = name if track_id is None else f"{name} #{int(track_id)}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        top = max(th + 4, y1)  # a filled tag above the box, readable on any background
        cv2.rectangle(canvas, (x1, top - th - 4), (x1 + tw + 4, top), color, -1)
        cv2.putText(canvas, label, (x1 + 2, top - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas
