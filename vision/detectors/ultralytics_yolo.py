"""Any YOLO model a user brings (.pt, .onnx, .engine, an OpenVINO folder), run by Ultralytics.

The production path on GPU hosts: CUDA when present with fp16, a whole batch per call, imgsz from settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vigil.types import Detections
from vision.detectors.base import ModelError, class_map, to_detections
from vision.torch_compat import ensure_torchvision

log = logging.getLogger("vigil.vision")
_FORMATS = {".pt": "pytorch", ".onnx": "onnx", ".engine": "tensorrt", ".torchscript": "torchscript"}


def pick_device(requested: str = "auto") -> str:
    """"auto" -> "cuda:0" when torch sees a GPU, else "cpu"; anything else is passed through."""
    if requested != "auto":
        return requested
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


class UltralyticsDetector:
    """A YOLO detector through ``ultralytics.YOLO``; see :class:`vision.detectors.base.Detector`."""

    def __init__(self, path: Path, imgsz: int = 640, confidence: float = 0.35, iou: float = 0.45,
                 device: str = "auto", max_det: int = 300) -> None:
        fmt = "openvino" if path.is_dir() else _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ModelError(f"model {path}: unknown format (expected .pt, .onnx, .engine or an OpenVINO folder)")
        ensure_torchvision()
        from ultralytics import YOLO

        self.device = pick_device(device)
        self.half = self.device.startswith("cuda")
        self.imgsz, self.confidence, self.iou, self.max_det = imgsz, confidence, iou, max_det
        self.name = path.name
        try:
            self._model = YOLO(str(path), task="detect")
            names = self._model.names  # exported formats load their runtime here
        except Exception as exc:  # a truncated .pt raises pickle/zip errors, a bad .onnx a TypeError
            raise ModelError(f"model {path}: cannot be loaded ({type(exc).__name__}: {exc})") from exc
        self._table = class_map(names)
        if not (self._table >= 0).any():
            raise ModelError(f"model {path}: none of its classes {list(names.values())[:8]} is used")
        # One warm-up call at start: a corrupt graph fails here, not at the first camera frame.
        try:
            self.detect([np.zeros((imgsz, imgsz, 3), dtype=np.uint8)])
        except Exception as exc:
            raise ModelError(f"model {path}: first inference failed ({type(exc).__name__}: {exc})") from exc
        log.info("detector %s (%s) on %s, imgsz %d, fp16 %s", self.name, fmt, self.device, imgsz, self.half)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One inference over the whole batch; one Detections per image."""
        if not images:
            return []
        results = self._model.predict(
            list(images), imgsz=self.imgsz, conf=self.confidence, iou=self.iou, device=self.device,
            quantize=16 if self.half else None, max_det=self.max_det, batch=len(images), verbose=False,
        )
        out = []
        for result in results:
            boxes = result.boxes
            out.append(to_detections(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(),
                                     boxes.cls.cpu().numpy(), self._table))
        return out

    def close(self) -> None:
        self._model = None  # type: ignore[assignment]
