"""Darknet models (the offline COCO default, yolov3-tiny) through OpenCV DNN, or OpenVINO on setup's export.

Each image is resized to imgsz x imgsz (Darknet's own test-time resize) and the batch goes through one
``blobFromImages``. Each YOLO output row is (cx, cy, w, h) relative to the network input, the objectness,
then per-class scores that OpenCV has already multiplied by the objectness; relative coordinates scale
straight back to the source frame. OpenVINO runs ``yolov3-tiny.onnx`` (``vision.detectors.darknet_export``),
whose rows are OpenCV's, decoded the same way; on a CPU with bf16 it runs there at about twice OpenCV's rate.
The cfg must carry the official ``mask = 1,2,3`` on its second ``[yolo]`` layer (setup corrects the packaged
file): with 0,1,2 that layer's boxes come out half size, the "torso only" boxes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from core.types import Detections
from vision.detectors.base import OPENVINO_CPU, ModelError, class_map, grouped_nms

log = logging.getLogger("vigil.vision")


class DarknetDetector:
    """A Darknet YOLO (cfg + weights + names) on OpenCV DNN; see :class:`vision.detectors.base.Detector`."""

    device = "cpu"

    def __init__(self, cfg: Path, weights: Path, names: Path, imgsz: int = 416, confidence: float = 0.35,
                 iou: float = 0.45, runtime: Literal["opencv", "openvino"] = "opencv", threads: int = 1) -> None:
        if imgsz % 32:
            raise ModelError(f"model {weights}: imgsz {imgsz} must be a multiple of 32 for Darknet YOLO")
        self.runtime, self.precision = runtime, "f32"
        if runtime == "openvino":
            self._forward = self._openvino(weights.with_suffix(".onnx"), imgsz, threads)
        else:
            self._forward = self._opencv(cfg, weights)
        labels = [line.strip() for line in names.read_text(encoding="utf-8").splitlines() if line.strip()]
        self._table = class_map(labels)
        self.name, self.imgsz, self.confidence, self.iou = weights.stem, imgsz, confidence, iou
        try:  # a truncated weights file reads, then fails (or yields garbage shapes) at the first forward
            probe = self.detect([np.zeros((imgsz, imgsz, 3), dtype=np.uint8)])
        except Exception as exc:
            raise ModelError(f"model {weights}: first inference failed ({_first_line(exc)})") from None
        if len(probe) != 1:
            raise ModelError(f"model {weights}: unexpected output for one image")
        where = f"OpenVINO {self.precision}, {threads} threads" if runtime == "openvino" \
            else f"OpenCV DNN {cv2.__version__}"
        log.info("detector %s (%s) on cpu, imgsz %d", self.name, where, imgsz)

    def _opencv(self, cfg: Path, weights: Path) -> Any:
        try:
            net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
        except cv2.error as exc:
            raise ModelError(f"model {weights}: OpenCV cannot read it with {cfg.name} ({_first_line(exc)})") from None
        outputs = net.getUnconnectedOutLayersNames()

        def forward(blob: np.ndarray) -> list[np.ndarray]:
            net.setInput(blob)
            return list(net.forward(outputs))

        return forward

    def _openvino(self, path: Path, imgsz: int, threads: int) -> Any:
        import openvino as ov

        if not path.is_file():
            raise ModelError(f"model {path.name}: not found (setup exports it: run `bash scripts/setup.sh`)")
        core = ov.Core()
        try:
            model = core.read_model(str(path))
            model.reshape([-1, 3, imgsz, imgsz])  # a fixed picture size, any batch
            compiled = core.compile_model(model, "CPU", OPENVINO_CPU | {"INFERENCE_NUM_THREADS": threads})
        except Exception as exc:
            raise ModelError(f"model {path.name}: OpenVINO cannot run it ({_first_line(exc)})") from None
        self.precision = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        request = compiled.create_infer_request()

        def forward(blob: np.ndarray) -> list[np.ndarray]:
            return [request.infer({0: blob})[0]]

        return forward

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One forward pass over the whole batch; one Detections per image, boxes in source pixels."""
        if not images:
            return []
        blob = cv2.dnn.blobFromImages(list(images), 1 / 255.0, (self.imgsz, self.imgsz), swapRB=True, crop=False)
        layers = self._forward(blob)
        # OpenCV: batch 1 gives (rows, 85) per layer, batch N (N, rows, 85); OpenVINO one (N, rows, 85)
        per_image = np.concatenate([out.reshape(len(images), -1, out.shape[-1]) for out in layers], axis=1)
        return [self._decode(rows, image.shape[1], image.shape[0]) for rows, image in zip(per_image, images,
                                                                                          strict=True)]

    def _decode(self, rows: np.ndarray, width: int, height: int) -> Detections:
        scores = rows[:, 5:]
        model_cls = scores.argmax(axis=1)
        conf = scores[np.arange(len(rows)), model_cls]
        used = self._table[model_cls] >= 0
        keep = used & (conf >= self.confidence)
        rows, conf, model_cls = rows[keep], conf[keep], model_cls[keep]
        if not len(rows):
            return Detections.empty()
        cx, cy, w, h = rows[:, 0] * width, rows[:, 1] * height, rows[:, 2] * width, rows[:, 3] * height
        xywh = np.stack((cx - w / 2, cy - h / 2, w, h), axis=1)
        return grouped_nms(xywh, conf, model_cls, self._table, self.confidence, self.iou, width, height)

    def close(self) -> None:
        self._forward = None  # type: ignore[assignment]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1].strip() if text else type(exc).__name__
