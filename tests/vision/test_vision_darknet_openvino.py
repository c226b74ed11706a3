"""The COCO default (yolov3-tiny) on OpenVINO: setup's export gives OpenCV DNN's rows, OpenVINO's boxes are OpenCV's
boxes on real footage, and the automatic choice takes OpenVINO only where setup measured them agreeing."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.settings import VisionSettings
from tests.support.vision import MODELS, VTEST, iou, read_frames
from vision.detectors import ModelError, choose_backend, choose_darknet_backend, load_detector
from vision.detectors.darknet import DarknetDetector

WEIGHTS, CFG, NAMES = MODELS / "yolov3-tiny.weights", MODELS / "yolov3-tiny.cfg", MODELS / "coco.names"
ONNX = MODELS / "yolov3-tiny.onnx"
needs_export = pytest.mark.skipif(not ONNX.is_file() or not WEIGHTS.is_file(),
                                  reason="yolov3-tiny and its export missing (run scripts/setup.sh)")


def _folder(tmp_path: Path, agreement: float | None, exported: bool = True) -> Path:
    """A models folder linking the real yolov3-tiny files, with the export and an agreement file when given."""
    for path in (WEIGHTS, CFG, NAMES, *((ONNX,) if exported else ())):
        (tmp_path / path.name).symlink_to(path)
    if agreement is not None:
        (tmp_path / "yolov3-tiny-openvino.json").write_text(json.dumps(
            {"opencv_found_by_openvino": agreement, "openvino_found_by_opencv": agreement}))
    return tmp_path / WEIGHTS.name


@needs_export
def test_the_torch_rebuild_of_the_darknet_network_gives_opencvs_rows_on_a_real_frame() -> None:
    """The export is only as right as the network it traces: every row (box, objectness, 80 scores) of the
    torch rebuild must be OpenCV DNN's for the same input, in fp32. (OpenCV writes 0 for a class score under
    its YOLO layer's threshold, 0.2; the rebuild keeps the small score, which the detector's 0.35 drops.)"""
    import torch

    from vision.detectors.darknet_export import build

    image = read_frames(VTEST, 1, start=120)[0].image
    blob = cv2.dnn.blobFromImages([image], 1 / 255.0, (416, 416), swapRB=True, crop=False)
    net = cv2.dnn.readNetFromDarknet(str(CFG), str(WEIGHTS))
    net.setInput(blob)
    opencv = np.concatenate([out.reshape(1, -1, 85) for out in net.forward(net.getUnconnectedOutLayersNames())], 1)
    with torch.no_grad():
        rebuilt = build(CFG, WEIGHTS)(torch.from_numpy(blob)).numpy()
    assert rebuilt.shape == opencv.shape == (1, 2535, 85)
    sure = opencv[0, :, 5:].max(axis=1) >= 0.35  # the rows that become boxes
    assert sure.sum() >= 5
    mine, theirs = rebuilt[0, sure], opencv[0, sure]
    assert np.abs(mine[:, :5] - theirs[:, :5]).max() < 1e-3
    scored = theirs[:, 5:] > 0
    assert np.abs(mine[:, 5:][scored] - theirs[:, 5:][scored]).max() < 1e-3
    assert mine[:, 5:][~scored].max() < 0.2 + 1e-3


@needs_export
def test_the_exported_file_holds_weights_folded_the_same_on_every_cpu() -> None:
    """Setup pins the export's sha256, so no number in it may depend on the CPU that made it: torch's own
    batch-norm folding gave other bits on an Intel Xeon than on an AMD EPYC, and setup failed there. Every
    weight in the file must be exactly the float64 fold of the Darknet weights, rounded once, and no batch
    norm may be left for the exporter to fold."""
    import onnx
    from onnx import numpy_helper

    from vision.detectors.darknet_export import parse_cfg

    exported = onnx.load(str(MODELS / "yolov3-tiny.onnx"))
    assert not [n for n in exported.graph.node if n.op_type == "BatchNormalization"]
    stored = {i.name: numpy_helper.to_array(i) for i in exported.graph.initializer}
    cfg_blocks = parse_cfg(CFG)[1:]
    values = np.frombuffer(WEIGHTS.read_bytes()[20:], dtype=np.float32)
    at = 0
    for index, block in enumerate(cfg_blocks):
        if block["type"] != "convolutional":
            continue
        size, filters = int(block["size"]), int(block["filters"])
        channels = stored[f"layers.{index}.0.weight"].shape[1]
        if int(block.get("batch_normalize", 0)):
            beta, gamma, mean, var = (values[at + k * filters: at + (k + 1) * filters].astype(np.float64)
                                      for k in range(4))
            at += 4 * filters
            kernel = values[at: at + filters * channels * size * size].astype(np.float64)
            scale = gamma / np.sqrt(var + 1e-5)
            weight = (kernel.reshape(filters, channels, size, size) * scale[:, None, None, None]).astype(np.float32)
            bias = (beta - mean * scale).astype(np.float32)
        else:
            bias = values[at: at + filters].copy()
            at += filters
            weight = values[at: at + filters * channels * size * size].reshape(filters, channels, size, size)
        at += filters * channels * size * size
        assert stored[f"layers.{index}.0.weight"].tobytes() == weight.tobytes(), index
        assert stored[f"layers.{index}.0.bias"].tobytes() == bias.tobytes(), index
    assert at == len(values)


@needs_export
def test_openvino_boxes_the_people_and_vehicles_opencv_boxes_on_real_footage() -> None:
    opencv = DarknetDetector(CFG, WEIGHTS, NAMES, 416, runtime="opencv")
    openvino = DarknetDetector(CFG, WEIGHTS, NAMES, 416, runtime="openvino")
    frames = [f.image for f in read_frames(VTEST, 10, start=300, step=25)]
    found = total = 0
    for image, (a, b) in zip(frames, zip(opencv.detect(frames), openvino.detect(frames), strict=True), strict=True):
        assert len(a) and (a.xyxy[:, 2] <= image.shape[1]).all() and (b.xyxy[:, 3] <= image.shape[0]).all()
        total += len(a)
        for box, cls in zip(a.xyxy, a.class_id, strict=True):
            best = max(range(len(b)), key=lambda k: iou(box, b.xyxy[k]), default=None)
            found += best is not None and iou(box, b.xyxy[best]) >= 0.7 and b.class_id[best] == cls
    assert total >= 40
    assert found / total >= 0.95


@needs_export
def test_the_default_detector_runs_on_openvino_where_setup_measured_it_agreeing() -> None:
    measured = json.loads((MODELS / "yolov3-tiny-openvino.json").read_text())
    assert min(measured["opencv_found_by_openvino"], measured["openvino_found_by_opencv"]) >= 0.95, measured
    detector = load_detector(VisionSettings(), MODELS)
    assert isinstance(detector, DarknetDetector) and detector.runtime == "openvino"
    people = detector.detect([read_frames(VTEST, 1, start=120)[0].image])[0]
    assert len(people) >= 5


@needs_export
def test_auto_takes_openvino_only_with_the_export_and_its_agreement(tmp_path: Path) -> None:
    auto = VisionSettings()
    cases = {"agreed": (0.99, True, "openvino"), "disagreed": (0.9, True, "opencv"),
             "unmeasured": (None, True, "opencv"), "unexported": (0.99, False, "opencv")}
    for name, (agreement, exported, expected) in cases.items():
        (tmp_path / name).mkdir()
        assert choose_darknet_backend(auto, _folder(tmp_path / name, agreement, exported)) == expected, name
    agreed = tmp_path / "agreed" / WEIGHTS.name
    assert choose_darknet_backend(VisionSettings(backend="opencv"), agreed) == "opencv"
    assert choose_darknet_backend(VisionSettings(backend="openvino"), agreed) == "openvino"
    with pytest.raises(ModelError, match=r"needs .*yolov3-tiny\.onnx.*setup"):
        choose_darknet_backend(VisionSettings(backend="openvino"), tmp_path / "unexported" / "yolov3-tiny.weights")
    with pytest.raises(ModelError, match="torch cannot run a Darknet model"):
        choose_darknet_backend(VisionSettings(backend="torch"), WEIGHTS)
    with pytest.raises(ModelError, match="opencv runs Darknet models"):
        choose_backend(VisionSettings(model="person-yolov8s", backend="opencv"), MODELS, "person-yolov8s", "cpu")


@needs_export
def test_weights_that_are_not_the_cfgs_are_refused_by_the_export(tmp_path: Path) -> None:
    from vision.detectors.darknet_export import build

    short = tmp_path / "short.weights"
    short.write_bytes(WEIGHTS.read_bytes()[: 1 << 20])
    with pytest.raises(ValueError, match="too short for its cfg"):
        build(CFG, short)
    long = tmp_path / "long.weights"
    long.write_bytes(WEIGHTS.read_bytes() + b"\0" * 400)
    with pytest.raises(ValueError, match="100 values left over"):
        build(CFG, long)
