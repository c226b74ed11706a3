"""Detectors behind one interface: a batch of frames from several cameras in, typed Detections out.

``load_detector(settings.vision, settings.models_dir)`` picks the implementation from the model:
Darknet cfg/weights -> OpenVINO on setup's export where it is installed and its boxes agree with OpenCV's
(``choose_darknet_backend``), else OpenCV DNN; the person model on a CPU -> the fastest backend installed whose exported
model setup made (``choose_backend``: OpenVINO, then ONNX Runtime, then torch); anything else (.pt, .onnx,
.engine, OpenVINO folders, and every model on a GPU host) -> Ultralytics. ``load_detectors`` builds one instance
per core on a CPU (``vision.detectors``), each using its share of the cores.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from core.settings import VisionSettings
from vision.detectors.base import KNOWN_MODELS, Detector, ModelError, class_map, resolve_model, to_detections

__all__ = ["KNOWN_MODELS", "Detector", "ModelError", "choose_backend", "choose_darknet_backend", "class_map",
           "detector_count",
           "load_detector", "load_detectors", "resolve_model", "to_detections"]

# Fastest first, as measured side by side on the development CPU (docs/benchmarks.md, "CPU backends").
BACKEND_ORDER = ("openvino", "onnxruntime", "torch")
EXPORTED = {"person-yolov8s": ("person-yolov8s-fp32.onnx", "person-yolov8s-int8.onnx")}


def installed(backend: str) -> bool:
    return backend == "torch" or importlib.util.find_spec(backend) is not None


def choose_backend(vision: VisionSettings, models_dir: Path, name: str, device: str) -> tuple[str, Path | None]:
    """(backend, exported model file or None for torch's own) for an Ultralytics model: what the settings ask,
    or on ``auto`` the first of ``BACKEND_ORDER`` that is installed and has its file; torch on a GPU."""
    if vision.backend == "opencv":
        raise ModelError("vision.backend opencv runs Darknet models (yolov3-tiny) only")
    if device.startswith("cuda") or name not in EXPORTED:
        return "torch", None
    from vision.detectors.export import int8_agrees

    fp32, int8 = (models_dir / f for f in EXPORTED[name])
    use_int8 = vision.int8 == "on" or (vision.int8 == "auto" and int8_agrees(models_dir))
    exported = int8 if use_int8 and int8.is_file() else fp32
    wanted = BACKEND_ORDER if vision.backend == "auto" else (vision.backend,)
    for backend in wanted:
        if backend == "torch":
            return "torch", None
        if installed(backend) and exported.is_file():
            return backend, exported
        if vision.backend != "auto":
            why = "is not installed" if not installed(backend) else f"needs {exported} (run `bash scripts/setup.sh`)"
            raise ModelError(f"vision.backend {backend} {why}")
    return "torch", None


def choose_darknet_backend(vision: VisionSettings, weights: Path) -> str:
    """What runs a Darknet model: what the settings ask, or on ``auto`` OpenVINO where it is installed, setup
    exported the model beside its weights and measured its boxes agreeing with OpenCV DNN's
    (``yolov3-tiny-openvino.json``), else OpenCV DNN."""
    from vision.detectors.darknet_export import openvino_agrees

    exported = weights.with_suffix(".onnx")
    if vision.backend == "auto":
        usable = installed("openvino") and exported.is_file() and openvino_agrees(weights)
        return "openvino" if usable else "opencv"
    if vision.backend == "opencv":
        return "opencv"
    if vision.backend == "openvino":
        if not installed("openvino"):
            raise ModelError("vision.backend openvino is not installed")
        if not exported.is_file():
            raise ModelError(f"vision.backend openvino needs {exported} (run `bash scripts/setup.sh`)")
        return "openvino"
    raise ModelError(f"vision.backend {vision.backend} cannot run a Darknet model: use auto, opencv or openvino")


def detector_count(vision: VisionSettings, device: str) -> int:
    """Detector instances a worker runs: ``vision.detectors``, or one per core on a CPU and one on a GPU."""
    if device.startswith("cuda"):
        return 1
    return vision.detectors or os.cpu_count() or 1


def load_detector(vision: VisionSettings, models_dir: Path, model: str | None = None, threads: int = 0) -> Detector:
    """Build the detector named by ``model`` (default: the settings' model), using ``threads`` cores for one call
    (0: all); raise ModelError at start when its file is missing, corrupt or of an unknown kind."""
    name = model or vision.model
    path = resolve_model(name, Path(models_dir))
    threads = threads or os.cpu_count() or 1
    if path.suffix.lower() == ".weights":
        import cv2

        from vision.detectors.darknet import DarknetDetector

        cfg, names = path.with_suffix(".cfg"), path.parent / "coco.names"
        for needed in (cfg, names):
            if not needed.is_file():
                raise ModelError(f"model {path}: {needed} not found beside it")
        runtime = choose_darknet_backend(vision, path)
        if runtime == "opencv":
            cv2.setNumThreads(threads)  # OpenCV's pool is the process's: the share of one instance
        return DarknetDetector(cfg, path, names, imgsz=vision.imgsz, confidence=vision.confidence, iou=vision.iou,
                               runtime=runtime, threads=threads)  # type: ignore[arg-type]
    from vision.detectors.ultralytics_yolo import UltralyticsDetector, pick_device

    device = pick_device(vision.device)
    backend, exported = choose_backend(vision, Path(models_dir), name, device)
    if exported is not None:
        from vision.detectors.onnx_yolo import OnnxYoloDetector

        return OnnxYoloDetector(exported, backend, vision.imgsz, vision.confidence, vision.iou,  # type: ignore[arg-type]
                                threads=threads)
    if not device.startswith("cuda"):
        import torch

        torch.set_num_threads(threads)  # torch's pool is the process's: the share of one instance
    return UltralyticsDetector(path, imgsz=vision.imgsz, confidence=vision.confidence, iou=vision.iou, device=device)


def load_detectors(vision: VisionSettings, models_dir: Path, model: str | None = None) -> list[Detector]:
    """``detector_count`` instances of the detector, the cores shared among them (at least one thread each)."""
    from vision.detectors.ultralytics_yolo import pick_device

    name = model or vision.model
    is_darknet = resolve_model(name, Path(models_dir)).suffix.lower() == ".weights"
    count = detector_count(vision, "cpu" if is_darknet else pick_device(vision.device))
    threads = max(1, (os.cpu_count() or 1) // count)
    return [load_detector(vision, models_dir, model, threads) for _ in range(count)]
