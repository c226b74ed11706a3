"""CPU backends of the person model: ONNX Runtime and OpenVINO on the files setup exported, the fastest installed
chosen automatically, torch kept where nothing else can run it (and on GPU hosts), every core used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import VisionSettings
from tests.support.vision import MODELS, VTEST, iou, read_frames
from vision.detectors import ModelError, choose_backend, detector_count, load_detector, load_detectors

FP32, INT8 = MODELS / "person-yolov8s-fp32.onnx", MODELS / "person-yolov8s-int8.onnx"
needs_exports = pytest.mark.skipif(not FP32.is_file() or not (MODELS / "person-yolov8s.pt").is_file(),
                                   reason="person-yolov8s and its exports missing (run scripts/setup.sh)")


def _folder(tmp_path: Path, *names: str, agreement: float | None = None) -> Path:
    """A models folder holding links to some of the real files (and an int8 agreement file when given)."""
    for name in names:
        (tmp_path / name).symlink_to(MODELS / name)
    if agreement is not None:
        (tmp_path / "person-yolov8s-int8.json").write_text(
            f'{{"fp32_found_by_int8": {agreement}, "int8_found_by_fp32": {agreement}}}')
    return tmp_path


@needs_exports
def test_auto_picks_openvino_then_onnxruntime_then_torch_by_what_is_installed_and_exported(tmp_path: Path) -> None:
    auto = VisionSettings(model="person-yolov8s")
    (tmp_path / "a").mkdir()
    full = _folder(tmp_path / "a", "person-yolov8s.pt", "person-yolov8s-fp32.onnx")
    assert choose_backend(auto, full, "person-yolov8s", "cpu") == ("openvino", full / "person-yolov8s-fp32.onnx")
    bare = tmp_path / "b"
    bare.mkdir()
    _folder(bare, "person-yolov8s.pt")
    assert choose_backend(auto, bare, "person-yolov8s", "cpu") == ("torch", None)  # nothing exported: torch
    assert choose_backend(auto, full, "person-yolov8s", "cuda:0") == ("torch", None)  # GPU hosts as before
    ort = VisionSettings(model="person-yolov8s", backend="onnxruntime")
    assert choose_backend(ort, full, "person-yolov8s", "cpu")[0] == "onnxruntime"
    with pytest.raises(ModelError, match="needs"):
        choose_backend(ort, bare, "person-yolov8s", "cpu")


@needs_exports
def test_int8_is_taken_only_where_setup_measured_it_agreeing_with_fp32(tmp_path: Path) -> None:
    auto = VisionSettings(model="person-yolov8s")
    names = ("person-yolov8s.pt", "person-yolov8s-fp32.onnx", "person-yolov8s-int8.onnx")
    for folder, agreed, expected in (("low", 0.91, "fp32"), ("high", 0.97, "int8")):
        (tmp_path / folder).mkdir()
        models = _folder(tmp_path / folder, *names, agreement=agreed)
        _, chosen = choose_backend(auto, models, "person-yolov8s", "cpu")
        assert chosen is not None and chosen.name == f"person-yolov8s-{expected}.onnx"
    forced = VisionSettings(model="person-yolov8s", int8="on")
    assert choose_backend(forced, tmp_path / "low", "person-yolov8s", "cpu")[1].name.endswith("int8.onnx")


@needs_exports
@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_each_backend_boxes_the_people_torch_boxes(backend: str) -> None:
    frames = [f.image for f in read_frames(VTEST, 3, start=135, step=40)]
    torch_found = load_detector(VisionSettings(model="person-yolov8s", imgsz=640, backend="torch"), MODELS)
    found = load_detector(VisionSettings(model="person-yolov8s", imgsz=640, backend=backend, int8="off"), MODELS)
    assert type(found).__name__ == "OnnxYoloDetector" and found.runtime == backend
    reference, ours = torch_found.detect(frames), found.detect(frames)
    total = close = 0
    for theirs, mine in zip(reference, ours, strict=True):
        # The same people both ways: torch pads the frame to a multiple of 32 where these pad it square, and
        # suppresses the model's two classes (Normal, Fall) apart where these take both as a person.
        assert all(any(iou(a, b) > 0.5 for b in theirs.xyxy) for a in mine.xyxy)
        assert all(any(iou(b, a) > 0.5 for a in mine.xyxy) for b in theirs.xyxy)
        total += len(mine)
        close += sum(any(iou(a, b) > 0.9 for b in theirs.xyxy) for a in mine.xyxy)
    assert total >= 10 and close >= 0.8 * total, (close, total)  # and nearly always the same box


@needs_exports
def test_a_cpu_worker_runs_one_detector_per_core_each_on_its_share() -> None:
    settings = VisionSettings(model="person-yolov8s")
    cores = os.cpu_count() or 1
    assert detector_count(settings, "cpu") == cores and detector_count(settings, "cuda:0") == 1
    detectors = load_detectors(settings, MODELS)
    assert len(detectors) == cores
    assert all(d.threads == max(1, cores // len(detectors)) for d in detectors)  # type: ignore[attr-defined]
