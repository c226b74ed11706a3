"""Ultralytics YOLO models exported to ONNX, run by ONNX Runtime or OpenVINO on the CPU (no torch at run time).

Pre- and post-processing are Ultralytics' own, in numpy and OpenCV: each frame is letterboxed to ``imgsz``
(scale to fit, centred, grey 114 padding, RGB, 0..1), the batch goes through the network in one call, and each
image's rows (cx, cy, w, h, one score per class) are filtered by confidence and suppressed per group (people;
vehicles) as the Darknet detector does: the person model's two classes (Normal, Fall) both mean a person, so
one person is never boxed twice. Boxes are scaled back to the source frame.

Both runtimes use ``threads`` cores for one call (``vision.detector_threads``; 0: all of them).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from core.types import Detections
from vision.detectors.base import OPENVINO_CPU, ModelError, class_map, grouped_nms

log = logging.getLogger("vigil.vision")
Runtime = Literal["onnxruntime", "openvino"]


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """The frame scaled to fit ``size`` x ``size`` and padded to it (grey 114, centred), as Ultralytics does;
    the scale and the (left, top) padding."""
    height, width = image.shape[:2]
    ratio = min(size / height, size / width)
    new_w, new_h = round(width * ratio), round(height * ratio)
    pad_w, pad_h = (size - new_w) / 2, (size - new_h) / 2
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
    left, right = round(pad_w - 0.1), round(pad_w + 0.1)
    padded = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return padded, ratio, (left, top)


def to_blob(padded: Sequence[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR frames -> the network's (N, 3, H, W) float32 RGB input, 0..1."""
    batch = np.stack(padded)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / np.float32(255.0)


def model_names(path: Path) -> dict[int, str]:
    """The class names Ultralytics wrote into the exported model's metadata."""
    import ast

    import onnx

    try:
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    except Exception as exc:  # a truncated or foreign file
        raise ModelError(f"model {path}: not a readable ONNX file ({type(exc).__name__})") from None
    if "names" not in meta:
        raise ModelError(f"model {path}: no class names in its metadata (export it with Ultralytics)")
    return {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()}


class OnnxYoloDetector:
    """An exported YOLO (``.onnx``) on ONNX Runtime or OpenVINO; see :class:`vision.detectors.base.Detector`."""

    device = "cpu"

    def __init__(self, path: Path, runtime: Runtime = "onnxruntime", imgsz: int = 320, confidence: float = 0.35,
                 iou: float = 0.45, threads: int = 0) -> None:
        self.name, self.runtime, self.imgsz, self.confidence, self.iou = path.name, runtime, imgsz, confidence, iou
        self.threads = threads or os.cpu_count() or 1
        self._table = class_map(model_names(path))
        try:
            self._run = _openvino(path, imgsz, self.threads) if runtime == "openvino" else _ort(path, self.threads)
            self.detect([np.zeros((imgsz, imgsz, 3), dtype=np.uint8)])  # a corrupt graph fails now, not later
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"model {path}: {runtime} cannot run it ({type(exc).__name__}: {exc})") from None
        log.info("detector %s (%s, %d threads) on cpu, imgsz %d", self.name, runtime, self.threads, imgsz)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One call of the network for the whole batch; one Detections per image, boxes in its pixels."""
        if not images:
            return []
        boxed = [letterbox(image, self.imgsz) for image in images]
        output = self._run(to_blob([b[0] for b in boxed]))  # (N, 4 + classes, anchors)
        return [self._decode(rows.T, ratio, pad, image.shape[1], image.shape[0])
                for rows, (_, ratio, pad), image in zip(output, boxed, images, strict=True)]

    def _decode(self, rows: np.ndarray, ratio: float, pad: tuple[float, float], width: int, height: int
                ) -> Detections:
        scores = rows[:, 4:]
        model_cls = scores.argmax(axis=1)
        conf = scores[np.arange(len(rows)), model_cls]
        keep = (conf >= self.confidence) & (self._table[np.clip(model_cls, 0, len(self._table) - 1)] >= 0)
        rows, conf, model_cls = rows[keep], conf[keep], model_cls[keep]
        if not len(rows):
            return Detections.empty()
        cx, cy, w, h = (rows[:, 0] - pad[0]) / ratio, (rows[:, 1] - pad[1]) / ratio, rows[:, 2] / ratio, \
            rows[:, 3] / ratio
        xywh = np.stack((cx - w / 2, cy - h / 2, w, h), axis=1)
        return grouped_nms(xywh, conf, model_cls, self._table, self.confidence, self.iou, width, height)

    def close(self) -> None:
        self._run = None  # type: ignore[assignment]


def _ort(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(blob: np.ndarray) -> np.ndarray:
        return session.run(None, {name: blob})[0]

    return run


def _openvino(path: Path, imgsz: int, threads: int) -> Any:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(path))
    model.reshape([-1, 3, imgsz, imgsz])  # a fixed picture size, any batch: faster than fully dynamic shapes
    compiled = core.compile_model(model, "CPU", OPENVINO_CPU | {"INFERENCE_NUM_THREADS": threads})
    request = compiled.create_infer_request()

    def run(blob: np.ndarray) -> np.ndarray:
        return request.infer({0: blob})[0]

    return run
