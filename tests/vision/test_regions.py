"""Region detection: crops of the moving areas at the model's input size, boxes mapped back exactly, one box
per person where crops meet, and at least the whole frame's recall on hand-labelled real frames."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from core.settings import VisionSettings
from core.types import CLASS_ID, Detections
from tests.support.vision import VTEST, iou, read_frames
from vision.engine import VisionEngine
from vision.gate import MotionGate
from vision.regions import (
    GUTTER_PX,
    cut,
    detect_in_regions,
    detector_inputs,
    map_back,
    mosaic_layout,
    plan_crops,
    split,
)


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
    [found] = detect_in_regions(coco_detector, [canvas], [crops], mosaic=False)  # each crop at one to one
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
    for mode in ("regions", "crops"):  # as the engine runs it (mosaics where they help), and every crop alone
        assert found[mode].recall >= found["frame"].recall, found
        assert found[mode].false <= max(2, found["frame"].false), found
    assert found["crops"].recall >= 0.88, found  # far and half-hidden people included
    if imgsz == 320:  # vtest's 768 px shrink to 0.42 whole, to 0.5 in a mosaic: more found at about the cost
        assert found["regions"].recall > found["frame"].recall, found
        assert found["regions"].inferences <= found["frame"].inferences + 2 < found["crops"].inferences, found
    else:  # at 416 the frame shows as much as a mosaic would: each crop alone, as before
        assert found["regions"] == dataclasses.replace(found["crops"], mode="regions"), found


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


def test_in_region_mode_a_refresh_and_a_first_frame_look_at_the_camera_s_zones(coco_detector):
    # A long queue standing still makes no motion: the forced refresh is what sees it, so it detects crops
    # around the zones (raised to take in the heads of people whose feet are in them), at the model's scale.
    # The first frame looks there too: on the whole 768-px frame yolov3-tiny missed an officer sitting at a far
    # desk, who then counted absent for the first 6 s (short counter, rendering 11: presence 97.6 %).
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
    assert engine.plan(frame, GateDecision(True, "first", 1.0)) == [crop]
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


def test_two_to_four_crops_share_one_picture_only_where_it_shows_them_larger_than_the_whole_frame() -> None:
    square = [(100, 100, 516, 516), (1400, 600, 1816, 1016)]
    tiles = mosaic_layout(square, 1920, 1080, 416)
    assert tiles is not None and len(tiles) == 2
    for tile in tiles:
        assert tile.x >= 0 and tile.x + tile.width <= 416 and tile.y >= 0 and tile.y + tile.height <= 416
        assert tile.scale_x == pytest.approx(tile.scale_y, rel=0.01) and tile.scale_x > 416 / 1920
    a, b = tiles
    assert b.x >= a.x + a.width + GUTTER_PX or b.y >= a.y + a.height + GUTTER_PX  # grey between: no box spans both
    four = [*square, (100, 600, 516, 1016), (900, 100, 1316, 516)]
    tiles = mosaic_layout(four, 1920, 1080, 416)
    assert tiles is not None and {(t.x > 0, t.y > 0) for t in tiles} == {(False, False), (True, False),
                                                                          (False, True), (True, True)}
    assert detector_inputs(four, 1920, 1080, 416) == 1 and detector_inputs(four, 1920, 1080, 416, False) == 4
    # a 768-px frame at 416 is shown at 0.54 whole; a mosaic would show its crops at 0.49: each crop alone
    assert mosaic_layout([(0, 0, 416, 416), (352, 160, 768, 576)], 768, 576, 416) is None
    assert detector_inputs([(0, 0, 416, 416), (352, 160, 768, 576)], 768, 576, 416) == 2
    assert mosaic_layout(square[:1], 1920, 1080, 416) is None  # one crop is one call anyway
    assert mosaic_layout([*four, (1400, 100, 1816, 516)], 1920, 1080, 416) is None
    assert detector_inputs(None, 1920, 1080, 416) == 1


def test_boxes_found_in_a_mosaic_come_back_to_the_frame_s_pixels() -> None:
    crops = [(100, 100, 516, 516), (1400, 600, 1900, 1016)]  # the second wider than tall: its own scales
    tiles = mosaic_layout(crops, 1920, 1080, 416)
    assert tiles is not None
    truth = [(200.0, 150.0, 260.0, 330.0), (1500.0, 700.0, 1580.0, 900.0)]  # one person in each crop
    seen = []
    for (x1, y1, x2, y2), crop, tile in zip(truth, crops, tiles, strict=True):
        seen.append([tile.x + (x1 - crop[0]) * tile.scale_x, tile.y + (y1 - crop[1]) * tile.scale_y,
                     tile.x + (x2 - crop[0]) * tile.scale_x, tile.y + (y2 - crop[1]) * tile.scale_y])
    grey = [tiles[0].x + tiles[0].width + 1.0, 10.0, tiles[0].x + tiles[0].width + 3.0, 20.0]  # on the gutter
    person = CLASS_ID["person"]
    found = Detections(np.array([*seen, grey], np.float32), np.array([0.9, 0.8, 0.7], np.float32),
                       np.full(3, person, np.int16))
    parts = split(found, tiles)
    assert [len(p) for p in parts] == [1, 1]  # the box on grey belongs to no crop
    back = map_back(parts, crops, 1920, 1080)
    np.testing.assert_allclose(np.sort(back.xyxy, axis=0), np.sort(np.array(truth, np.float32), axis=0), atol=1e-3)
    spill = Detections(np.array([[tiles[0].x + 10, tiles[0].y + 10, tiles[0].x + tiles[0].width + 30,
                                  tiles[0].y + 50]], np.float32), np.array([0.9], np.float32), np.array([person]))
    [cut_box] = split(spill, tiles)[0].xyxy
    assert cut_box[2] == pytest.approx(crops[0][2] - crops[0][0])  # cut at its crop's side, not beyond


def _upscaled(start: int) -> np.ndarray:
    import cv2

    return cv2.resize(read_frames(VTEST, 1, start=start)[0].image, (1920, 1440), interpolation=cv2.INTER_CUBIC)


def test_a_mosaic_finds_the_people_each_crop_finds_alone_on_a_large_frame(coco_detector) -> None:
    # A 1920-px frame (vtest scaled up 2.5x) shows people at 0.22 whole; crops around two walkers far apart, as
    # one mosaic at about 0.5, find the same people as the crops alone at one to one, one box each.
    start = 135
    walkers = _people(coco_detector.detect([read_frames(VTEST, 1, start=start)[0].image])[0]) * 2.5
    first = walkers[0]
    second = max(walkers, key=lambda b: abs(b[0] - first[0]) + abs(b[1] - first[1]))
    image = _upscaled(start)
    crops = [_square(box, 416, 1920, 1440) for box in (first, second)]
    assert mosaic_layout(crops, 1920, 1440, coco_detector.imgsz) is not None
    [alone] = detect_in_regions(coco_detector, [image], [crops], mosaic=False)
    [mosaic] = detect_in_regions(coco_detector, [image], [crops], mosaic=True)
    alone_people, mosaic_people = _people(alone), _people(mosaic)
    assert len(alone_people) >= 2, alone_people
    matched = sum(max((iou(a, m) for m in mosaic_people), default=0.0) >= 0.5 for a in alone_people)
    assert matched >= len(alone_people) - 1, (alone_people, mosaic_people)
    assert len(mosaic_people) <= len(alone_people) + 1, (alone_people, mosaic_people)


def _square(box: np.ndarray, side: int, width: int, height: int) -> tuple[int, int, int, int]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1, y1 = int(min(max(0, cx - side / 2), width - side)), int(min(max(0, cy - side / 2), height - side))
    return (x1, y1, x1 + side, y1 + side)


def test_no_person_is_boxed_twice_where_two_crops_meet_in_a_mosaic(coco_detector) -> None:
    image = _upscaled(255)
    for seam in range(600, 1500, 150):
        crops = [(seam - 416, 400, seam, 816), (seam - 150, 400, seam - 150 + 416, 816)]
        assert mosaic_layout(crops, 1920, 1440, coco_detector.imgsz) is not None
        [found] = detect_in_regions(coco_detector, [image], [crops], mosaic=True)
        for a, b in itertools.combinations(_people(found), 2):
            assert iou(a, b) < 0.5, (seam, a, b)
