"""Any YOLO model a user brings (.pt, .onnx, .engine, an OpenVINO folder), run by Ultralytics.

The production path on GPU hosts: CUDA when present with fp16, a whole batch per call, imgsz from settings.
PyTorch (.pt) models skip Ultralytics' predictor after the first call: the batch is letterboxed in one go
(on the GPU when the model is there: the frames go up as uint8 and are resized and padded on the device),
run through the same loaded network and NMS, and the boxes come back in one copy. Ultralytics' own path
letterboxes image by image on the CPU and builds a Results object per image, which on an H100 cost more than
the network itself. Exported formats (.onnx, .engine, OpenVINO) keep the predictor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.types import Detections
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
        self._direct = False  # set after the first call: .pt models then run without the predictor
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
            if fmt == "pytorch":
                self._direct = True
                self.detect([np.zeros((imgsz, imgsz, 3), dtype=np.uint8)])
        except Exception as exc:
            raise ModelError(f"model {path}: first inference failed ({type(exc).__name__}: {exc})") from exc
        log.info("detector %s (%s) on %s, imgsz %d, fp16 %s", self.name, fmt, self.device, imgsz, self.half)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One inference over the whole batch; one Detections per image."""
        if not images:
            return []
        if self._direct:
            return self._detect_direct(images)
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

    def _detect_direct(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """The loaded network and Ultralytics' NMS on a batch letterboxed at once, one shape group at a time."""
        import torch
        from ultralytics.utils import nms, ops

        backend = self._model.predictor.model  # AutoBackend as predict() set it up (fused, fp16 on CUDA)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(image.shape, []).append(i)
        out: list[Detections] = [Detections.empty()] * len(images)
        with torch.inference_mode():
            for shape, index in groups.items():
                batch = self._letterbox([images[i] for i in index], backend, same_shapes=len(groups) == 1)
                kept = nms.non_max_suppression(backend(batch), self.confidence, self.iou, max_det=self.max_det,
                                               end2end=getattr(backend, "end2end", False))
                for rows in kept:
                    rows[:, :4] = ops.scale_boxes(batch.shape[2:], rows[:, :4], shape)
                host = torch.cat(kept).float().cpu().numpy()  # one copy back for the whole group
                start = 0
                for i, rows in zip(index, kept, strict=True):
                    part = host[start:start + len(rows)]
                    start += len(rows)
                    out[i] = to_detections(part[:, :4], part[:, 4], part[:, 5], self._table)
        return out

    def _letterbox(self, images: list[np.ndarray], backend: Any, same_shapes: bool) -> Any:
        """Same-shape BGR uint8 frames -> the network's input (N, 3, H, W), RGB 0..1, as Ultralytics' LetterBox
        makes it (same size, padding and grey 114)."""
        import cv2
        import torch
        from ultralytics.data.augment import LetterBox

        predictor = self._model.predictor
        letterbox = LetterBox(self.imgsz, auto=same_shapes and predictor.args.rect and backend.format == "pt",
                              stride=backend.stride)
        p = letterbox.get_params({"img": images[0]})
        new_w, new_h = p["new_unpad"]
        if backend.device.type == "cpu":  # OpenCV per frame, exactly Ultralytics' own pre-processing
            padded = [cv2.copyMakeBorder(cv2.resize(im, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
                                         if im.shape[:2] != (new_h, new_w) else im,
                                         p["top"], p["bottom"], p["left"], p["right"], cv2.BORDER_CONSTANT,
                                         value=(114, 114, 114)) for im in images]
            x = torch.from_numpy(np.stack(padded)).permute(0, 3, 1, 2).flip(1)
            return (x.half() if backend.fp16 else x.float()).div_(255)
        # On the GPU: upload uint8 frames as they are, resize and pad there (no full-size copy on the CPU).
        x = torch.stack([torch.from_numpy(im).to(backend.device, non_blocking=True) for im in images])
        x = x.permute(0, 3, 1, 2).flip(1)
        x = x.half() if backend.fp16 else x.float()
        if images[0].shape[:2] != (new_h, new_w):
            x = torch.nn.functional.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False)
            x = x.round_().clamp_(0, 255)  # as OpenCV's uint8 resize
        x = torch.nn.functional.pad(x, (p["left"], p["right"], p["top"], p["bottom"]), value=114.0)
        return x.div_(255)

    def close(self) -> None:
        self._model = None  # type: ignore[assignment]
