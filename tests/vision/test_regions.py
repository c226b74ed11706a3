"""Region detection: crops of the moving areas at the model's input size, boxes mapped back exactly, one box
per person where crops meet, and at least the whole frame's recall on hand-labelled real frames."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.settings import VisionSettings
from core.types import CLASS_ID, Detections
from tests.support.vision import VTEST, iou, read_frames
from vision.engine import VisionEngine
from vision.gate import MotionGate
from vision.regions import cut, detect_in_regions, map_back, plan_crops


def _people(found: Detections) -> np.ndarray:
    return found.xyxy[found.class_id == CLASS_ID["person"]]


def test_crops_are_at_least_the_model_s_size_inside_the_frame_and_merge_when_they_overlap() -> None:
    crops = plan_crops([(100, 100, 140, 200), (130, 150, 170, 260), (600, 300, 640, 400)], 768, 576, 320)
    assert crops is not None and len(crops) == 2  # the first two overlap: one region
    for x1, y1, x2, y2 in crops:
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576
        assert x2 - x1 >= 320 and y2 - y1 >= 320
    assert any(c[0] <= 100 and c[2] >= 170 and c[1] <= 100 and c[3] >= 260 for c in crops)
    assert plan_crops([], 768, 576, 320) == []
    everywhere = [(x, y, x + 30, y + 60) for x in range(0, 760, 150) for y in (0, 300)]
    assert plan_crops(everywhere, 768, 576, 320) is None  # motion everywhere: the whole frame is cheaper


def test_a_box_found_in_a_crop_comes_back_to_the_frame_s_pixels_exactly(coco_detector) -> None:
    # Synthetic: one real person (cut from vtest) pasted on a grey canvas at two places; a crop around each sees
    # the very same pixels, so the boxes found in the crops, mapped back, differ by exactly the paste offset.
    frame = read_frames(VTEST, 1, start=15)[0].image
    person = frame[217:341, 470:550].copy()  # the walker at (495, 237)-(525, 321) of frame 15, with the road
    canvas = np.full((1080, 1920, 3), 128, np.uint8)
    places = [(300, 200), (1400, 700)]
    for x, y in places:
        canvas[y:y + 124, x:x + 80] = person
    crops = [(x - 150, y - 120, x - 150 + 416, y - 120 + 416) for x, y in places]
    [found] = detect_in_regions(coco_detector, [canvas], [crops])
    boxes = _people(found)
    assert len(boxes) == 2
    first, second = sorted(boxes.tolist())
    # the same to a thousandth of a pixel (boxes are float32: 1,500.0001 is as close as float32 gets)
    np.testing.assert_allclose(np.array(second) - np.array(first), [1100, 500, 1100, 500], atol=1e-3)
    # Real frame: a crop's boxes, moved back, are the crop's own boxes plus its corner, to the pixel.
    real = read_frames(VTEST, 1, start=135)[0].image
    crop = (232, 65, 552, 385)
    [local] = coco_detector.detect(cut(real, [crop]))
    moved = map_back([local], [crop], real.shape[1], real.shape[0])
    np.testing.assert_array_equal(np.sort(moved.xyxy, axis=0),
                                  np.sort(local.xyxy + np.array([232, 65, 232, 65], np.float32), axis=0))


@pytest.mark.parametrize("start", [15, 255, 735])
def test_no_person_is_boxed_twice_where_two_crops_meet(coco_detector, start: int) -> None:
    # Two crops overlapping by 100-200 px, their seam swept across the frame: people standing in the overlap
    # are seen whole twice, those on a crop's side are cut in one crop; one box each must remain.
    image = read_frames(VTEST, 1, start=start)[0].image
    for seam in range(200, 600, 50):
        crops = [(max(0, seam - 416), 80, seam, 496), (seam - 150, 80, min(768, seam - 150 + 416), 496)]
        [found] = detect_in_regions(coco_detector, [image], [crops])
        boxes = _people(found)
        for a, b in itertools.combinations(boxes, 2):
            assert iou(a, b) < 0.5, (seam, a, b)
            ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
            assert ix * iy < 0.8 * smaller, (seam, a, b)


@pytest.mark.parametrize("imgsz", [416, 320])
def test_region_detection_finds_at_least_as_many_labelled_people_as_the_whole_frame(imgsz: int) -> None:
    from bench.recall import LABELS, load_labels, measure
    from tests.support.vision import MODELS
    from vision.detectors import load_detector

    if not VTEST.is_file() or not (MODELS / "yolov3-tiny.weights").is_file():
        pytest.skip("vtest.avi or yolov3-tiny missing (scripts/setup.sh)")
    labels = load_labels(LABELS)
    assert sum(len(f["people"]) for f in labels["frames"]) >= 50
    found = measure(load_detector(VisionSettings(imgsz=imgsz), MODELS), labels)
    assert found["regions"].recall >= found["frame"].recall, found
    assert found["regions"].recall >= 0.88, found  # far and half-hidden people included
    assert found["regions"].false <= 2, found


def test_in_region_mode_people_outside_the_crops_keep_their_tracks(coco_detector) -> None:
    # vtest at 2 fps: the gate's regions cover the walkers; a person standing still outside every crop is held
    # (not dropped), so region mode tracks as many people per frame as whole-frame mode, give or take one.
    frames = read_frames(VTEST, 24, step=5)
    counts = {}
    for regions in (False, True):
        engine = VisionEngine(coco_detector, VisionSettings(regions=regions, forced_refresh_s=3.0))
        counts[regions] = [sum(t.class_name == "person" for t in engine.process([f])[0].tracks) for f in frames]
    assert sum(counts[True]) >= sum(counts[False]) - len(frames) // 4, counts
    gate = MotionGate()
    gate.check(frames[0].image, 0.0)
    assert gate.check(frames[1].image, 0.5).regions, "walkers moved: the gate says where"


def test_in_region_mode_a_refresh_looks_at_the_camera_s_zones_and_a_first_frame_at_everything(coco_detector):
    # A long queue standing still makes no motion: the forced refresh is what sees it, so it detects crops
    # around the zones (raised to take in the heads of people whose feet are in them), at the model's scale.
    from cameras.geometry import make_zone
    from core.types import Frame
    from vision.engine import CameraSetup
    from vision.gate import GateDecision

    queue = make_zone("queue", "queue", [[0.40, 0.40], [0.65, 0.40], [0.65, 0.65], [0.40, 0.65]])
    engine = VisionEngine(coco_detector, VisionSettings(regions=True), [CameraSetup(1, [queue])])
    frame = Frame(1, np.zeros((576, 768, 3), np.uint8), 0.0, 0)
    [crop] = engine.plan(frame, GateDecision(True, "refresh", 0.0))
    assert crop[0] <= 0.40 * 768 and crop[2] >= 0.65 * 768 and crop[3] >= 0.65 * 576
    assert crop[1] <= (0.40 - 0.25) * 576  # heads above the zone's far edge
    assert crop[2] - crop[0] == 416  # the model's input size: seen one to one
    assert engine.plan(frame, GateDecision(True, "first", 1.0)) is None  # the whole frame
    bare = VisionEngine(coco_detector, VisionSettings(regions=True))
    assert bare.plan(Frame(2, frame.image, 0.0, 0), GateDecision(True, "refresh", 0.0)) is None


def test_counter_regions_crop_counter_cameras_only_and_regions_every_camera(coco_detector):
    # Queues stand packed with people half hidden at the back: with vision.counter_regions counter cameras look
    # at crops at the model's scale while street cameras keep whole frames; vision.regions crops every camera.
    from cameras.geometry import make_zone
    from core.types import Frame
    from vision.engine import CameraSetup
    from vision.gate import GateDecision

    queue = make_zone("queue", "queue", [[0.40, 0.40], [0.65, 0.40], [0.65, 0.65], [0.40, 0.65]])
    road = make_zone("road", "restricted", [[0.40, 0.40], [0.65, 0.40], [0.65, 0.65], [0.40, 0.65]])
    frame = np.zeros((576, 768, 3), np.uint8)
    refresh = GateDecision(True, "refresh", 0.0)
    counters = VisionEngine(coco_detector, VisionSettings(counter_regions=True),
                            [CameraSetup(1, [queue]), CameraSetup(2, [road])])
    assert counters.plan(Frame(1, frame, 0.0, 0), refresh), "the counter camera: crops around its zones"
    assert counters.plan(Frame(2, frame, 0.0, 0), refresh) is None, "the street camera: the whole frame"
    assert VisionSettings().counter_regions, "on by default: the busy counter's queue is counted right"
    off = VisionEngine(coco_detector, VisionSettings(counter_regions=False), [CameraSetup(1, [queue])])
    assert off.plan(Frame(1, frame, 0.0, 0), refresh) is None
    everywhere = VisionEngine(coco_detector, VisionSettings(regions=True), [CameraSetup(2, [road])])
    assert everywhere.plan(Frame(2, frame, 0.0, 0), refresh)
