"""Detectors behind one interface: a batch of frames from several cameras in, typed Detections out.

``load_detector(settings.vision, settings.models_dir)`` picks the implementation from the model:
Darknet cfg/weights -> OpenCV DNN; anything else (.pt, .onnx, .engine, OpenVINO) -> Ultralytics.
"""

from __future__ import annotations

from pathlib import Path

from core.settings import VisionSettings
from vision.detectors.base import KNOWN_MODELS, Detector, ModelError, class_map, resolve_model, to_detections

__all__ = ["KNOWN_MODELS", "Detector", "ModelError", "class_map", "load_detector", "resolve_model",
           "to_detections"]


def load_detector(vision: VisionSettings, models_dir: Path, model: str | None = None) -> Detector:
    """Build the detector named by ``model`` (default: the settings' model); raise ModelError at start when
    its file is missing, corrupt or of an unknown kind."""
    name = model or vision.model
    path = resolve_model(name, Path(models_dir))
    if path.suffix.lower() == ".weights":
        from vision.detectors.darknet import DarknetDetector

        cfg, names = path.with_suffix(".cfg"), path.parent / "coco.names"
        for needed in (cfg, names):
            if not needed.is_file():
                raise ModelError(f"model {path}: {needed} not found beside it")
        return DarknetDetector(cfg, path, names, imgsz=vision.imgsz, confidence=vision.confidence, iou=vision.iou)
    from vision.detectors.ultralytics_yolo import UltralyticsDetector

    return UltralyticsDetector(path, imgsz=vision.imgsz, confidence=vision.confidence, iou=vision.iou,
                               device=vision.device)
