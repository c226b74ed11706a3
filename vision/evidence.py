"""Evidence for events: a JPEG of the frame with boxes, track ids and zone outlines, under the data folder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from cameras.draw import draw
from cameras.geometry import ZoneSpec
from core.types import Detections, Event


def evidence_path(data_dir: Path, event: Event, label: str = "start") -> Path:
    """data_dir/evidence/<camera>/<YYYY-MM-DD>/<event id>-<label>.jpg (one folder per camera and day)."""
    when: datetime = event.start
    camera = "none" if event.camera_id is None else str(event.camera_id)
    return Path(data_dir) / "evidence" / camera / when.strftime("%Y-%m-%d") / f"{event.id}-{label}.jpg"


def write_evidence(data_dir: Path, event: Event, image: np.ndarray, detections: Detections,
                   zones: Sequence[ZoneSpec] = (), quality: int = 85, label: str = "start",
                   highlight_zone: str | None = None) -> Path:
    """Write the annotated JPEG for an event (label "start" or "end"); record it on the event; return the path.

    The path goes to ``event.attributes["evidence"][label]`` and, when the event has none yet, to
    ``event.evidence_path`` (the contract in vision/rules/base.py).
    """
    path = evidence_path(data_dir, event, label)
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
