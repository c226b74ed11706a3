"""What every detector promises, the one class vocabulary, and how model names resolve to files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from core.types import CLASS_ID, Detections

# Names a user writes in settings -> files scripts/setup.sh installs under the models folder.
# How OpenVINO runs each detector instance on a CPU: one call at a time, at the least latency, and with its
# threads not pinned to cores. Pinned, the single-thread instances of one worker (one per core) all land on the
# same core: two gave 34 frames/s together where one gives 36; unpinned 70 (yolov3-tiny 416, this 2-core CPU).
OPENVINO_CPU: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY", "ENABLE_CPU_PINNING": False}

KNOWN_MODELS: dict[str, tuple[str, ...]] = {
    "yolov3-tiny": ("yolov3-tiny.cfg", "yolov3-tiny.weights", "coco.names"),
    "person-yolov8s": ("person-yolov8s.pt",),
    "person-yolov8s-onnx": ("person-yolov8s.onnx",),
}
# Labels of the models we meet, spelled as the model spells them, onto core.types.CLASSES.
_ALIASES: dict[str, str] = {
    "person": "person", "bicycle": "bicycle", "car": "car", "motorcycle": "motorcycle", "motorbike": "motorcycle",
    "bus": "bus", "truck": "truck",
    # the person model (YOLOv8s fine-tuned for falls): both of its classes are a person
    "normal": "person", "fall": "person",
}


class ModelError(Exception):
    """A model that cannot be used: missing, corrupt, or of an unknown kind. The message says which file."""


@runtime_checkable
class Detector(Protocol):
    """A batch of BGR frames (any sizes, several cameras) in; one Detections per frame out, same order.

    Boxes are pixels of each source frame; ``class_id`` indexes ``core.types.CLASSES``; classes outside
    that vocabulary are dropped.
    """

    name: str
    device: str
    imgsz: int

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...

    def close(self) -> None: ...


def class_map(names: Mapping[int, str] | Sequence[str]) -> np.ndarray:
    """Lookup array: model class index -> index into CLASSES, or -1 for a class Vigil does not use."""
    items = names.items() if isinstance(names, Mapping) else enumerate(names)
    pairs = [(int(i), str(n)) for i, n in items]
    table = np.full(max((i for i, _ in pairs), default=-1) + 1, -1, dtype=np.int16)
    for index, label in pairs:
        mapped = _ALIASES.get(label.strip().lower())
        if mapped is not None:
            table[index] = CLASS_ID[mapped]
    return table


def to_detections(xyxy: np.ndarray, conf: np.ndarray, model_cls: np.ndarray, table: np.ndarray) -> Detections:
    """Typed detections from raw arrays, keeping only classes in the vocabulary."""
    model_cls = model_cls.astype(np.int64)
    mapped = np.where((model_cls >= 0) & (model_cls < len(table)), table[np.clip(model_cls, 0, len(table) - 1)], -1)
    keep = mapped >= 0
    return Detections(
        xyxy=np.ascontiguousarray(xyxy[keep], dtype=np.float32).reshape(-1, 4),
        confidence=np.ascontiguousarray(conf[keep], dtype=np.float32),
        class_id=mapped[keep].astype(np.int16),
    )


def resolve_model(name: str, models_dir: Path) -> Path:
    """A known model name -> its main file under models_dir (checked to exist); a path -> itself (checked).

    Raises ModelError naming the missing file and how to get it.
    """
    if name in KNOWN_MODELS:
        files = [models_dir / f for f in KNOWN_MODELS[name]]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise ModelError(f"model {name!r}: {', '.join(missing)} not found (run `bash scripts/setup.sh`)")
        return files[0] if name != "yolov3-tiny" else files[1]
    path = Path(name).expanduser()
    if path.is_dir() and path.name.endswith("_openvino_model"):
        return path
    if not path.is_file():
        known = ", ".join(KNOWN_MODELS)
        raise ModelError(f"model {name!r}: no such file (and not a known name: {known})")
    return path


def grouped_nms(xywh: np.ndarray, conf: np.ndarray, model_cls: np.ndarray, table: np.ndarray, confidence: float,
                iou: float, width: int, height: int) -> Detections:
    """Non-maximum suppression per group (people; vehicles): one van seen as both "car" and "truck" keeps only its
    best box. ``xywh``: boxes (left, top, width, height) in frame pixels; the kept ones clipped to the frame."""
    group = (table[model_cls] != CLASS_ID["person"]).astype(np.int32)
    kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), conf.tolist(), group.tolist(), confidence, iou)
    kept = np.asarray(kept, dtype=np.int64).reshape(-1)
    xyxy = np.stack((xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2], xywh[:, 1] + xywh[:, 3]), axis=1)
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    return to_detections(xyxy[kept], conf[kept], model_cls[kept], table)
