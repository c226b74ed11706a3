"""Detectors: real footage through the real models, one class vocabulary, clear errors at start."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.settings import VisionSettings
from core.types import CLASS_ID, CLASSES, VEHICLE_CLASSES
from tests.support.vision import BIKES, MODELS, iou, read_frames
from vision.detectors import ModelError, class_map, load_detector, resolve_model


def test_torchvision_bridge_lets_ultralytics_predict_on_this_machine():
    from vision.torch_compat import BRIDGE_MARK, ensure_torchvision

    kind = ensure_torchvision()
    assert kind in ("real", "bridge")
    import torchvision

    assert getattr(torchvision, BRIDGE_MARK, False) == (kind == "bridge")
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml")  # untrained, built offline: exercises predict and NMS end to end
    results = model.predict(np.zeros((320, 320, 3), dtype=np.uint8), imgsz=320, verbose=False)
    assert len(results) == 1
    if kind == "bridge":  # the bridge's NMS is Ultralytics' own, and gives its result
        import torch
        from ultralytics.utils.nms import TorchNMS

        boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=torch.float32)
        scores = torch.tensor([0.9, 0.8, 0.7])
        assert torchvision.ops.nms(boxes, scores, 0.5).tolist() == TorchNMS.nms(boxes, scores, 0.5).tolist() == [0, 2]
        assert "torchvision.extension" not in sys.modules  # the half-imported CUDA build was purged


def test_model_classes_map_onto_one_vocabulary():
    coco = (MODELS / "coco.names").read_text().split("\n") if (MODELS / "coco.names").is_file() else \
        ["person", "bicycle", "car", "motorbike", "aeroplane", "bus", "train", "truck"]
    table = class_map(coco)
    assert CLASSES[table[coco.index("motorbike")]] == "motorcycle"
    assert CLASSES[table[coco.index("truck")]] == "truck"
    assert table[coco.index("train")] == -1  # dropped: not a class Vigil uses
    person_model = class_map({0: "Normal", 1: "Fall"})
    assert person_model.tolist() == [CLASS_ID["person"], CLASS_ID["person"]]


def test_model_names_resolve_to_installed_files_and_paths_to_themselves(tmp_path: Path):
    assert resolve_model("yolov3-tiny", MODELS).name == "yolov3-tiny.weights"
    assert resolve_model("person-yolov8s", MODELS).name == "person-yolov8s.pt"
    own = tmp_path / "mine.onnx"
    own.write_bytes(b"x")
    assert resolve_model(str(own), MODELS) == own
    with pytest.raises(ModelError, match=r"yolov3-tiny\.weights.* not found"):
        resolve_model("yolov3-tiny", tmp_path)
    with pytest.raises(ModelError, match="no such file"):
        resolve_model(str(tmp_path / "absent.pt"), MODELS)


@pytest.mark.parametrize("name", ["broken.pt", "broken.onnx", "broken.weights"])
def test_a_corrupt_model_is_a_clear_error_at_start(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(b"\x00not a model at all" * 64)
    if name.endswith(".weights"):
        (tmp_path / "broken.cfg").write_bytes((MODELS / "yolov3-tiny.cfg").read_bytes())
        (tmp_path / "coco.names").write_bytes((MODELS / "coco.names").read_bytes())
    with pytest.raises(ModelError, match=name.split(".")[0]):
        load_detector(VisionSettings(imgsz=320), MODELS, str(path))


def test_people_on_vtest_are_boxed_head_to_feet(coco_detector, person_detector, vtest_frames):
    frame = vtest_frames[0]
    coco = coco_detector.detect([frame.image])[0]
    people = coco[coco.class_id == CLASS_ID["person"]]
    assert len(people) >= 3
    heights = people.xyxy[:, 3] - people.xyxy[:, 1]
    widths = people.xyxy[:, 2] - people.xyxy[:, 0]
    assert np.all(heights > 1.6 * widths), "a standing person is tall: torso-only boxes are nearly square"
    # Cross-check with the other model family: the same people, boxes of the same height.
    reference = person_detector.detect([frame.image])[0]
    matched = 0
    for ref_box in reference.xyxy:
        best = max(people.xyxy, key=lambda box: iou(box, ref_box))
        if iou(best, ref_box) > 0.5:
            matched += 1
            ratio = (best[3] - best[1]) / (ref_box[3] - ref_box[1])
            assert 0.8 < ratio < 1.25, f"yolov3-tiny box {best} vs person-yolov8s {ref_box}"
    assert matched >= 2


def test_the_parked_van_is_a_vehicle(coco_detector, vtest_frames):
    detections = coco_detector.detect([vtest_frames[0].image])[0]
    # The van parked at the top right of the junction: about x 645-725, y 40-97 in the 768x576 frame.
    van = np.array([645, 42, 724, 96], dtype=np.float32)
    vehicles = [(name, box) for name, box in zip(detections.class_names, detections.xyxy, strict=True)
                if name in VEHICLE_CLASSES]
    assert any(iou(box, van) > 0.5 for _, box in vehicles), f"vehicles found: {vehicles}"


def test_a_batch_of_several_cameras_gives_each_frame_its_own_detections(coco_detector, vtest_frames):
    images = [vtest_frames[0].image, vtest_frames[10].image, vtest_frames[0].image[:288, :384]]
    batch = coco_detector.detect(images)
    alone = [coco_detector.detect([image])[0] for image in images]
    assert len(batch) == 3
    for together, single, image in zip(batch, alone, images, strict=True):
        assert len(together) == len(single)
        np.testing.assert_allclose(together.xyxy, single.xyxy, atol=1.0)
        assert together.xyxy[:, 2].max(initial=0) <= image.shape[1] and together.xyxy[:, 3].max(initial=0) <= \
            image.shape[0]


def test_bikes_clip_yields_a_bicycle_or_motorcycle_and_a_car():
    # A hard clip for a tiny model (motion blur, a cyclist partly hidden): threshold 0.2, 5 frames/s.
    detector = load_detector(VisionSettings(confidence=0.2), MODELS)
    frames = read_frames(BIKES, 10, start=100, step=5)
    seen = set()
    for start in range(0, len(frames), 4):
        for detections in detector.detect([f.image for f in frames[start:start + 4]]):
            seen.update(detections.class_names)
    assert seen & {"bicycle", "motorcycle"}, seen
    assert "car" in seen, seen


def test_ultralytics_detector_batches_and_maps_the_person_model(person_detector, vtest_frames):
    batch = person_detector.detect([vtest_frames[0].image, vtest_frames[5].image])
    assert len(batch) == 2
    for detections in batch:
        assert len(detections) >= 2
        assert set(detections.class_names) == {"person"}
        assert detections.xyxy.dtype == np.float32 and detections.class_id.dtype == np.int16


def test_an_onnx_export_runs_through_the_same_interface_and_agrees_with_the_pt(person_detector, vtest_frames):
    onnx = load_detector(VisionSettings(model="person-yolov8s-onnx", imgsz=640, confidence=0.4), MODELS)
    frames = [vtest_frames[0].image, vtest_frames[3].image]  # a batch on a fixed-batch-1 export
    for from_onnx, from_pt in zip(onnx.detect(frames), person_detector.detect(frames), strict=True):
        assert len(from_onnx) >= 2
        # Square 640 input for the export vs. the .pt's rectangular one: near-threshold boxes may differ.
        agreeing = [box for box in from_pt.xyxy if max(iou(box, other) for other in from_onnx.xyxy) > 0.8]
        assert len(agreeing) >= min(2, len(from_pt)), (from_pt.xyxy, from_onnx.xyxy)


def test_the_direct_pt_path_gives_the_boxes_ultralytics_predictor_gives(person_detector, vtest_frames):
    # .pt models skip Ultralytics' predictor for speed (one letterbox of the batch, one copy back); the
    # people found must be the same ones, including in a batch that mixes frame sizes (two cameras).
    images = [vtest_frames[0].image, cv2.resize(vtest_frames[5].image, (640, 360)), vtest_frames[9].image]
    assert person_detector._direct
    direct = person_detector.detect(images)
    person_detector._direct = False
    try:
        through_predictor = person_detector.detect(images)
    finally:
        person_detector._direct = True
    assert sum(len(d) for d in direct) >= 4
    for fast, reference in zip(direct, through_predictor, strict=True):
        assert len(fast) == len(reference)
        assert len(fast) == 0 or np.abs(fast.xyxy - reference.xyxy).max() < 1.0
        assert np.array_equal(fast.class_id, reference.class_id)
