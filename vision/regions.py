"""Region detection (as Frigate does): the detector looks only where the scene moved, at its own input size.

The motion gate yields motion boxes (``vision.gate``); those that overlap are merged into one region, and each
region becomes a crop of at least the model's input size (``imgsz``) centred on it, so a far person fills the
network's input at one to one instead of being shrunk with the whole frame (crops may overlap one another: their
seams are de-duplicated). More than ``max_regions`` crops, or crops as costly as the frame: the whole frame. The
gate's forced refresh (and a camera's first frame) detects crops around the camera's zones (``zone_boxes``: where
its rules look), so people standing still in a long queue, or an officer at a far desk, are seen at the model's
own scale too; a camera without zones refreshes the whole frame. Boxes found in a crop are moved back to the
frame's pixels exactly (a crop detected alone is cut at whole pixels and never scaled here: the detector
letterboxes each one as it would a frame) and de-duplicated where crops meet. What lies outside every crop did not
move: the camera's previous boxes there stand (``hold_outside``), and the gate's forced refresh runs the whole
frame.

Each crop is a detector call of its own, so on a busy scene two to four crops would cost two to four times
the whole frame. Where one ``imgsz`` picture can hold them all (``mosaic_layout``: scaled into a grid of two
or four) and still show every crop larger than the whole frame shows it, as on a camera of 1080p or on
vtest at 320, the crops go to the detector as that one mosaic (``vision.region_mosaic``): a frame then never
costs more than the whole frame, and a quiet one only its crops, or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from cameras.geometry import ZoneSpec
from cameras.plan import CameraRole, camera_role
from core.settings import VisionSettings
from core.types import CLASS_ID, Detections

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in whole pixels of the frame, x2/y2 exclusive
MARGIN = 0.15  # motion boxes grow by this share of their size each side: a moved limb brings its whole person
SAME_CROP = 0.5  # crops sharing more than this share of the smaller one are one crop around both
WHOLE_FRAME_SHARE = 0.7  # a crop covering this much of the frame: detect the frame itself
EDGE_PX = 2.0  # a box this close to a crop's side that is not the frame's side was cut by the crop
CONTAINED = 0.8  # a cut box this much inside another box is the same object seen whole elsewhere
GUTTER_PX = 4  # grey between a mosaic's tiles: no box spans two crops
PAD = 114  # the grey Ultralytics letterboxes with


def detects_regions(vision: VisionSettings, zones: Sequence[ZoneSpec]) -> bool:
    """Whether a camera watching ``zones`` detects in motion regions: every camera with ``vision.regions``,
    counter cameras with ``vision.counter_regions``."""
    return vision.regions or (vision.counter_regions and camera_role(zones) is CameraRole.COUNTER)


def plan_crops(motion: Sequence[Box], width: int, height: int, imgsz: int, max_regions: int = 4) -> list[Box] | None:
    """The crops to detect for these motion boxes, or None for the whole frame: motion boxes that overlap (with
    a margin) are merged into one region, each region gets a crop of at least ``imgsz`` around it; more than
    ``max_regions`` crops, or crops that would cost as much as the frame, mean the whole frame."""
    if not motion:
        return []
    regions = _merge_overlapping([_grown(box, MARGIN, width, height) for box in motion], width, height)
    crops = _merge_overlapping([_square_around(box, imgsz, width, height) for box in regions], width, height,
                               SAME_CROP)
    if len(crops) > max_regions or sum((c[2] - c[0]) * (c[3] - c[1]) for c in crops) >= width * height:
        return None
    if any((c[2] - c[0]) * (c[3] - c[1]) >= WHOLE_FRAME_SHARE * width * height for c in crops):
        return None
    return crops


def _grown(box: Box, share: float, width: int, height: int) -> Box:
    dx, dy = round((box[2] - box[0]) * share), round((box[3] - box[1]) * share)
    return (max(0, box[0] - dx), max(0, box[1] - dy), min(width, box[2] + dx), min(height, box[3] + dy))


def _square_around(box: Box, side: float, width: int, height: int) -> Box:
    """A box at least ``side`` wide and tall (as far as the frame allows) centred on ``box``, inside the frame."""
    w = min(width, max(round(side), box[2] - box[0]))
    h = min(height, max(round(side), box[3] - box[1]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1 = int(min(max(0, round(cx - w / 2)), width - w))
    y1 = int(min(max(0, round(cy - h / 2)), height - h))
    return (x1, y1, x1 + w, y1 + h)


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _overlap(a: Box, b: Box, share: float = 0.0) -> bool:
    """Whether two boxes overlap by more than ``share`` of the smaller one's area (0: at all)."""
    ix, iy = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy > share * smaller


def _merge_overlapping(crops: list[Box], width: int, height: int, share: float = 0.0) -> list[Box]:
    """Boxes that overlap (by more than ``share`` of the smaller) become one box around both, until none do."""
    crops = list(crops)
    merged = True
    while merged:
        merged = False
        for i in range(len(crops)):
            for j in range(i + 1, len(crops)):
                if _overlap(crops[i], crops[j], share):
                    joined = _square_around(_union([crops[i], crops[j]]), 0, width, height)
                    crops = [c for k, c in enumerate(crops) if k not in (i, j)] + [joined]
                    merged = True
                    break
            if merged:
                break
    return crops


def zone_boxes(zones: Sequence[ZoneSpec], width: int, height: int) -> list[Box]:
    """Each polygon zone's bounding box in pixels, raised by a quarter of the frame: a zone holds people's feet,
    their heads stand above it."""
    out = []
    for zone in zones:
        if zone.is_line or not zone.points:
            continue
        xs, ys = [p[0] for p in zone.points], [p[1] for p in zone.points]
        x1, x2 = max(0, int(min(xs) * width)), min(width, int(np.ceil(max(xs) * width)))
        y1, y2 = max(0, int((min(ys) - 0.25) * height)), min(height, int(np.ceil(max(ys) * height)))
        if x2 > x1 and y2 > y1:
            out.append((x1, y1, x2, y2))
    return out


def cut(image: np.ndarray, crops: Sequence[Box]) -> list[np.ndarray]:
    """The crops' pixels (contiguous copies: the detectors batch them)."""
    return [np.ascontiguousarray(image[y1:y2, x1:x2]) for x1, y1, x2, y2 in crops]


def map_back(found: Sequence[Detections], crops: Sequence[Box], width: int, height: int,
             iou: float = 0.5, edge_px: Sequence[float] | None = None) -> Detections:
    """Boxes found in each crop, in the frame's pixels, one per object: duplicates where crops meet go (the
    most confident of overlapping boxes stays, and a box cut by a crop's inner side yields to the whole one;
    ``edge_px``: how near a crop's side, per crop, counts as cut, EDGE_PX unless told)."""
    parts, cut_flags = [], []
    edges = list(edge_px) if edge_px is not None else [EDGE_PX] * len(crops)
    for detections, (x1, y1, x2, y2), edge in zip(found, crops, edges, strict=True):
        if not len(detections):
            continue
        moved = detections.xyxy.astype(np.float32) + np.array([x1, y1, x1, y1], dtype=np.float32)
        parts.append(Detections(moved, detections.confidence, detections.class_id))
        inner = np.zeros(len(detections), dtype=bool)  # touches a side of the crop that is not the frame's
        if x1 > 0:
            inner |= moved[:, 0] <= x1 + edge
        if y1 > 0:
            inner |= moved[:, 1] <= y1 + edge
        if x2 < width:
            inner |= moved[:, 2] >= x2 - edge
        if y2 < height:
            inner |= moved[:, 3] >= y2 - edge
        cut_flags.append(inner)
    if not parts:
        return Detections.empty()
    merged = Detections(np.concatenate([p.xyxy for p in parts]), np.concatenate([p.confidence for p in parts]),
                        np.concatenate([p.class_id for p in parts]))
    keep = _deduplicate(merged, np.concatenate(cut_flags), iou)
    return merged[keep]


def _deduplicate(found: Detections, cut_off: np.ndarray, iou: float) -> np.ndarray:
    """Indices to keep: per group (people; vehicles), most confident first; a box goes when it overlaps a kept
    one by ``iou``, or when one of the two was cut by a crop and lies mostly inside the other (the cut one
    goes, or the kept one is replaced by the whole one)."""
    group = (found.class_id != CLASS_ID["person"]).astype(np.int8)
    boxes = found.xyxy.astype(np.float64)
    area = np.maximum(0.0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0.0, boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    for i in np.argsort(-found.confidence, kind="stable"):
        duplicate = False
        for slot, k in enumerate(kept):
            if group[k] != group[i]:
                continue
            ix = max(0.0, min(boxes[i, 2], boxes[k, 2]) - max(boxes[i, 0], boxes[k, 0]))
            iy = max(0.0, min(boxes[i, 3], boxes[k, 3]) - max(boxes[i, 1], boxes[k, 1]))
            inter = ix * iy
            if inter <= 0:
                continue
            if inter / (area[i] + area[k] - inter) > iou:
                duplicate = True
                break
            if cut_off[i] and inter / max(area[i], 1e-9) > CONTAINED:
                duplicate = True
                break
            if cut_off[k] and inter / max(area[k], 1e-9) > CONTAINED:
                kept[slot] = int(i)  # the kept one was the cut part of this whole one
                duplicate = True
                break
        if not duplicate:
            kept.append(int(i))
    return np.array(sorted(kept), dtype=np.int64)


def hold_outside(current: Detections, found: Detections, crops: Sequence[Box]) -> Detections:
    """This frame's boxes: those found in the crops, and the camera's previous boxes lying mostly outside every
    crop (that part of the scene did not move, so what stood there still does)."""
    if not len(current):
        return found
    boxes = current.xyxy.astype(np.float64)
    area = np.maximum(1e-9, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    inside = np.zeros(len(current))
    for x1, y1, x2, y2 in crops:
        ix = np.clip(np.minimum(boxes[:, 2], x2) - np.maximum(boxes[:, 0], x1), 0, None)
        iy = np.clip(np.minimum(boxes[:, 3], y2) - np.maximum(boxes[:, 1], y1), 0, None)
        inside = np.maximum(inside, ix * iy / area)
    held = current[inside < 0.5]
    if not len(held):
        return found
    held = Detections(held.xyxy, held.confidence, held.class_id)  # detections again: the tracker names them
    if not len(found):
        return held
    return Detections(np.concatenate([found.xyxy, held.xyxy]), np.concatenate([found.confidence, held.confidence]),
                      np.concatenate([found.class_id, held.class_id]))


@dataclass(frozen=True)
class Tile:
    """Where one crop lies in a mosaic: its corner and size there (the crop scaled by ``scale_x``/``scale_y``)."""

    x: int
    y: int
    width: int
    height: int
    scale_x: float
    scale_y: float


def mosaic_layout(crops: Sequence[Box], width: int, height: int, imgsz: int) -> list[Tile] | None:
    """Two to four crops packed into one ``imgsz`` square picture, one detector call instead of one each: the
    grid (two side by side, one above the other, or two by two) that keeps the crops largest, each scaled down
    to its cell. None when it would show some crop smaller than the whole frame shows it (``imgsz`` over the
    frame's longer side): the crops are then detected one by one at the model's own scale."""
    if not 2 <= len(crops) <= 4:
        return None
    best: tuple[float, int, float, float] | None = None  # smallest crop scale, columns, cell width and height
    for cols, rows in ((2, 1), (1, 2), (2, 2)):
        if cols * rows < len(crops):
            continue
        cell_w, cell_h = (imgsz - GUTTER_PX * (cols - 1)) / cols, (imgsz - GUTTER_PX * (rows - 1)) / rows
        smallest = min(min(1.0, cell_w / (c[2] - c[0]), cell_h / (c[3] - c[1])) for c in crops)
        if best is None or smallest > best[0]:
            best = (smallest, cols, cell_w, cell_h)
    assert best is not None
    smallest, cols, cell_w, cell_h = best
    if smallest <= imgsz / max(width, height):
        return None
    tiles = []
    for k, (x1, y1, x2, y2) in enumerate(crops):
        scale = min(1.0, cell_w / (x2 - x1), cell_h / (y2 - y1))
        w, h = max(1, round((x2 - x1) * scale)), max(1, round((y2 - y1) * scale))
        col, row = k % cols, k // cols
        tiles.append(Tile(round(col * (cell_w + GUTTER_PX)), round(row * (cell_h + GUTTER_PX)), w, h,
                          w / (x2 - x1), h / (y2 - y1)))
    return tiles


def compose(image: np.ndarray, crops: Sequence[Box], tiles: Sequence[Tile], imgsz: int) -> np.ndarray:
    """The mosaic: each crop scaled into its tile on a grey ``imgsz`` square."""
    canvas = np.full((imgsz, imgsz, 3), PAD, dtype=image.dtype)
    for (x1, y1, x2, y2), tile in zip(crops, tiles, strict=True):
        part = image[y1:y2, x1:x2]
        if (tile.width, tile.height) != (x2 - x1, y2 - y1):
            part = cv2.resize(part, (tile.width, tile.height), interpolation=cv2.INTER_AREA)
        canvas[tile.y:tile.y + tile.height, tile.x:tile.x + tile.width] = part
    return canvas


def split(found: Detections, tiles: Sequence[Tile]) -> list[Detections]:
    """The mosaic's boxes as each crop's own, in the crop's pixels: a box belongs to the tile holding its centre
    (cut to that tile); one whose centre lies on grey belongs to none."""
    centre_x = (found.xyxy[:, 0] + found.xyxy[:, 2]) / 2 if len(found) else np.empty(0, np.float32)
    centre_y = (found.xyxy[:, 1] + found.xyxy[:, 3]) / 2 if len(found) else np.empty(0, np.float32)
    out = []
    for tile in tiles:
        mine = ((centre_x >= tile.x) & (centre_x < tile.x + tile.width)
                & (centre_y >= tile.y) & (centre_y < tile.y + tile.height))
        part = found[mine]
        boxes = part.xyxy.astype(np.float32).copy()
        boxes[:, [0, 2]] = (np.clip(boxes[:, [0, 2]], tile.x, tile.x + tile.width) - tile.x) / tile.scale_x
        boxes[:, [1, 3]] = (np.clip(boxes[:, [1, 3]], tile.y, tile.y + tile.height) - tile.y) / tile.scale_y
        out.append(Detections(boxes, part.confidence, part.class_id))
    return out


def detector_inputs(plan: list[Box] | None, width: int, height: int, imgsz: int, mosaic: bool = True) -> int:
    """How many pictures the detector is given for one frame under this plan (its cost)."""
    if plan is None:
        return 1
    if mosaic and mosaic_layout(plan, width, height, imgsz) is not None:
        return 1
    return len(plan)


def detect_in_regions(detector: object, images: Sequence[np.ndarray], plans: Sequence[list[Box] | None],
                      mosaic: bool = True) -> list[Detections]:
    """One detector call for several frames, each whole (plan None), as its crops, or (``mosaic``, where it
    shows every crop larger than the whole frame would) as one mosaic of its crops; boxes in each frame's
    pixels, de-duplicated across its crops."""
    imgsz = int(getattr(detector, "imgsz", 0))
    inputs: list[np.ndarray] = []
    spans: list[tuple[int, int, list[Tile] | None]] = []
    for image, crops in zip(images, plans, strict=True):
        start = len(inputs)
        tiles = mosaic_layout(crops, image.shape[1], image.shape[0], imgsz) if mosaic and crops and imgsz else None
        if crops is None:
            inputs.append(image)
        elif tiles is not None:
            inputs.append(compose(image, crops, tiles, imgsz))
        else:
            inputs.extend(cut(image, crops))
        spans.append((start, len(inputs), tiles))
    found = detector.detect(inputs) if inputs else []  # type: ignore[attr-defined]
    out = []
    for image, crops, (a, b, tiles) in zip(images, plans, spans, strict=True):
        if crops is None:
            out.append(found[a])
        elif tiles is not None:
            edges = [EDGE_PX / min(t.scale_x, t.scale_y) for t in tiles]  # a mosaic pixel is 1/scale of the frame's
            out.append(map_back(split(found[a], tiles), crops, image.shape[1], image.shape[0], edge_px=edges))
        else:
            out.append(map_back(found[a:b], crops, image.shape[1], image.shape[0]))
    return out
