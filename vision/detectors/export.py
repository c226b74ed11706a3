"""The CPU backends' model files, made at setup from the Ultralytics model (``scripts/setup.sh`` runs this).

``python -m vision.detectors.export MODELS_DIR`` writes, beside ``person-yolov8s.pt``:

- ``person-yolov8s-fp32.onnx``: Ultralytics' ONNX export (opset 18, any batch and picture size), its export
  date removed from the metadata so the file is the same byte for byte on every machine (setup pins its sha256);
- ``person-yolov8s-int8.onnx``: the same quantized to int8 by ONNX Runtime (static, QDQ, per channel; calibrated
  on 64 vtest frames letterboxed at 320), which both ONNX Runtime and OpenVINO run;
- ``person-yolov8s-int8.json``: how far its boxes agree with fp32's on 40 other vtest frames (share of fp32's
  person boxes matched by an int8 box at IoU >= 0.7, and the reverse). The detector loader takes int8 only
  when both are at least ``INT8_AGREEMENT`` (0.95).

GPU hosts keep the .pt on CUDA and do not run this.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SOURCE = "person-yolov8s.pt"
FP32 = "person-yolov8s-fp32.onnx"
INT8 = "person-yolov8s-int8.onnx"
AGREEMENT = "person-yolov8s-int8.json"
INT8_AGREEMENT = 0.95
IMGSZ = 320
_HEAD = "/model.22/"  # YOLOv8's Detect head (the 23rd module): its decoding nodes are named under it
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def export_fp32(models: Path) -> Path:
    """The .pt exported to ONNX, deterministic (no export date in the metadata)."""
    import onnx

    from vision.torch_compat import ensure_torchvision

    ensure_torchvision()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(prefix="vigil-export-") as tmp:
        work = Path(tmp) / SOURCE
        shutil.copy(models / SOURCE, work)
        made = Path(YOLO(str(work), task="detect").export(format="onnx", imgsz=IMGSZ, dynamic=True, simplify=False,
                                                          device="cpu", opset=18))
        model = onnx.load(str(made))
        kept = [(p.key, p.value) for p in model.metadata_props if p.key != "date"]
        del model.metadata_props[:]
        for key, value in kept:
            model.metadata_props.add(key=key, value=value)
        out = models / FP32
        onnx.save(model, str(out))
    return out


def sample_frames(path: Path, count: int, keep: Callable[[int], bool]) -> list[np.ndarray]:
    """Up to ``count`` frames of the video, those whose index ``keep`` accepts, in order."""
    cap = cv2.VideoCapture(str(path))
    frames, index = [], -1
    while len(frames) < count:
        ok, image = cap.read()
        if not ok:
            break
        index += 1
        if keep(index):
            frames.append(image)
    cap.release()
    return frames


def calibration_frames(start: int, count: int, step: int) -> list[np.ndarray]:
    """Frames of vtest.avi (``count`` of them, every ``step``-th from ``start``), letterboxed at 320 as blobs."""
    from vision.detectors.onnx_yolo import letterbox, to_blob

    images = sample_frames(VTEST, count, lambda i: i >= start and (i - start) % step == 0)
    blobs = [to_blob([letterbox(image, IMGSZ)[0]]) for image in images]
    if len(blobs) < count:
        raise RuntimeError(f"{VTEST}: too few frames for calibration")
    return blobs


def quantize_int8(models: Path) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self._blobs: Iterator[np.ndarray] = iter(calibration_frames(0, 64, 12))

        def get_next(self) -> dict[str, Any] | None:
            blob = next(self._blobs, None)
            return None if blob is None else {"images": blob}

    import onnx

    # The head's decoding stays float: it concatenates box coordinates (0-320) with class scores (0-1) in one
    # tensor, and one uint8 scale for both rounds every score to 0 (no box at all). Its convolutions are int8.
    graph = onnx.load(str(models / FP32), load_external_data=False).graph
    convolutions = {n.name for n in graph.node if n.op_type == "Conv" and "/dfl/" not in n.name}
    decoding = [n.name for n in graph.node if n.name.startswith(_HEAD) and n.name not in convolutions]
    out = models / INT8
    quantize_static(str(models / FP32), str(out), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=decoding)
    return out


def agreement(models: Path, runtime: str = "onnxruntime") -> dict[str, Any]:
    """How far int8's person boxes agree with fp32's on 40 vtest frames not used for calibration."""
    from vision.detectors.onnx_yolo import OnnxYoloDetector

    fp32 = OnnxYoloDetector(models / FP32, runtime, IMGSZ)  # type: ignore[arg-type]
    int8 = OnnxYoloDetector(models / INT8, runtime, IMGSZ)  # type: ignore[arg-type]
    frames = sample_frames(VTEST, 40, lambda i: i % 20 == 7)  # never a calibration frame (multiples of 12)
    matched_fp32 = matched_int8 = total_fp32 = total_int8 = 0
    shifts = []
    for image in frames:
        a, b = fp32.detect([image])[0].xyxy, int8.detect([image])[0].xyxy
        total_fp32, total_int8 = total_fp32 + len(a), total_int8 + len(b)
        for box in a:
            best = max((_iou(box, other) for other in b), default=0.0)
            matched_fp32 += best >= 0.7
            if best >= 0.7:
                shifts.append(float(np.abs(box - b[int(np.argmax([_iou(box, o) for o in b]))]).max()))
        matched_int8 += found_in(b, a)
    return {"frames": len(frames), "runtime": runtime, "fp32_boxes": total_fp32, "int8_boxes": total_int8,
            "fp32_found_by_int8": round(matched_fp32 / max(total_fp32, 1), 4),
            "int8_found_by_fp32": round(matched_int8 / max(total_int8, 1), 4),
            "median_corner_shift_px": round(float(np.median(shifts)), 2) if shifts else None,
            "iou_threshold": 0.7, "imgsz": IMGSZ}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return float(ix * iy / union) if union > 0 else 0.0


def found_in(boxes: np.ndarray, others: np.ndarray, iou: float = 0.7) -> int:
    """How many of ``boxes`` have a box of ``others`` overlapping them at ``iou`` or more."""
    return sum(max((_iou(box, other) for other in others), default=0.0) >= iou for box in boxes)


def agreement_holds(file: Path, keys: tuple[str, str], bar: float) -> bool:
    """Whether an agreement file setup wrote says both shares ``keys`` reach ``bar`` (missing or unreadable: no)."""
    try:
        found = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return min(found.get(keys[0], 0), found.get(keys[1], 0)) >= bar


def int8_agrees(models: Path) -> bool:
    """Whether the int8 model's boxes agree with fp32's well enough to be used (its agreement file says so)."""
    return agreement_holds(models / AGREEMENT, ("fp32_found_by_int8", "int8_found_by_fp32"), INT8_AGREEMENT)


def main(argv: list[str]) -> int:
    models = Path(argv[0] if argv else "models")
    export_fp32(models)
    quantize_int8(models)
    (models / AGREEMENT).write_text(json.dumps(agreement(models), indent=1) + "\n", encoding="utf-8")
    print(f"exported {models / FP32}, {models / INT8}; agreement {models / AGREEMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
