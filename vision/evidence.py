"""Evidence for events: a JPEG of the frame with boxes, track ids and zone outlines, where ``core.media`` says."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from cameras.draw import draw
from cameras.geometry import ZoneSpec
from core import media
from core.types import Detections, Event


def write_evidence(data_dir: Path, event: Event, image: np.ndarray, detections: Detections,
                   zones: Sequence[ZoneSpec] = (), quality: int = 85, label: str = "start",
                   highlight_zone: str | None = None) -> Path:
    """Write the annotated JPEG for an event (label "start" or "end"); record it on the event; return the path.

    The path (absolute, ``core.media.evidence_file``) goes to ``event.attributes["evidence"][label]`` and, when
    the event has none yet, to ``event.evidence_path`` (the contract in vision/rules/base.py).
    """
    path = media.evidence_file(data_dir, event.camera_id, event.start, event.id, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".jpg", draw(image, detections, zones, highlight_zone),
                               [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f"could not encode evidence for event {event.id}")
    tmp = path.with_suffix(".jpg.tmp")
    tmp.write_bytes(encoded.tobytes())
    tmp.replace(path)  # a reader never sees half a file
    evidence = event.attributes.setdefault("evidence", {})
    if isinstance(evidence, dict):
        evidence[label] = str(path)
    event.evidence_path = event.evidence_path or str(path)
    return path
