"""Cut-outs of real people (and the parked van) from the shipped real footage, for the compositor.

People: the footage's median background (the pedestrians move, so the median is the empty junction),
then on sampled frames the detector's person boxes intersected with the foreground mask (pixels that
differ from the background), cleaned with a morphological opening. Only isolated, whole people are kept
(not touching another person's box or the image edge, with a plausible mask fill), and consecutive cut-outs
of the same person (overlapping boxes in consecutive samples) are chained into a walking sequence.
The parked van is static, so it is cut from the background with GrabCut seeded by its detector box.

Everything is deterministic for a given footage file and detector, and cached under the cache folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.types import CLASS_ID, CLASSES, VEHICLE_CLASSES

log = logging.getLogger("vigil.scenarios")

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@dataclass
class Sprite:
    """One cut-out: BGR pixels and an alpha mask (0..1), with its foot point at the bottom centre."""

    image: np.ndarray  # h x w x 3 uint8
    alpha: np.ndarray  # h x w float32
    score: float = 1.0  # the detector's confidence on the frame it was cut from

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass
class SpriteBank:
    background: np.ndarray
    walkers: list[list[Sprite]]  # one list per person: the clearest cut-out, then consecutive ones (a walk cycle)
    vehicle: Sprite
    height_at: tuple[float, float]  # person height in pixels = a * foot_y + b (perspective of the footage)

    def person_height(self, foot_y_px: float) -> float:
        a, b = self.height_at
        return max(20.0, a * foot_y_px + b)

    def digest(self) -> str:
        """A digest of every picture in the bank: a scene rendered from another bank is rendered again."""
        import hashlib

        h = hashlib.sha256(np.asarray(self.height_at, dtype=np.float64).tobytes())
        for array in (self.background, self.vehicle.image, self.vehicle.alpha,
                      *(a for walker in self.walkers for sprite in walker for a in (sprite.image, sprite.alpha))):
            h.update(repr(array.shape).encode())
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()[:16]


def median_background(path: Path, step: int = 8) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok = cap.grab()
        if not ok:
            break
        if index % step == 0:
            ok, frame = cap.retrieve()
            if ok:
                frames.append(frame)
        index += 1
    cap.release()
    if not frames:
        raise RuntimeError(f"{path}: no frames")
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def _foreground(frame: np.ndarray, background: np.ndarray, threshold: int = 28) -> np.ndarray:
    diff = cv2.absdiff(frame, background).max(axis=2)
    mask = (diff > threshold).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _cut(frame: np.ndarray, mask: np.ndarray, box: np.ndarray, score: float) -> Sprite | None:
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in box)
    x1, y1, x2, y2 = max(0, x1 - 2), max(0, y1 - 2), min(w, x2 + 2), min(h, y2 + 2)
    if y2 - y1 < 60 or x2 - x1 < 15:
        return None
    region = mask[y1:y2, x1:x2].astype(np.float32)
    fill = float(region.mean())
    if not 0.3 <= fill <= 0.85:
        return None
    # Keep the largest blob only: bits of other people or shadows are dropped.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8))
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    alpha = (labels == biggest).astype(np.float32)
    rows = np.where(alpha.any(axis=1))[0]
    cols = np.where(alpha.any(axis=0))[0]
    if len(rows) < 50:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    alpha = cv2.GaussianBlur(alpha[r0:r1, c0:c1], (3, 3), 0)
    return Sprite(frame[y1:y2, x1:x2][r0:r1, c0:c1].copy(), alpha, score)


def extract_walkers(path: Path, background: np.ndarray, detector: object, step: int = 3,
                    min_length: int = 6) -> tuple[list[list[Sprite]], tuple[float, float]]:
    """Walking sequences of isolated people, and the footage's person height as a function of foot y."""
    cap = cv2.VideoCapture(str(path))
    chains: list[tuple[np.ndarray, list[Sprite]]] = []  # (last box, sprites) of chains still growing
    done: list[list[Sprite]] = []
    heights: list[tuple[float, float]] = []
    index = -1
    while True:
        if not cap.grab():
            break
        index += 1
        if index % step:
            continue
        ok, frame = cap.retrieve()
        if not ok:
            break
        found = detector.detect([frame])[0]  # type: ignore[attr-defined]
        people = found.xyxy[(found.class_id == CLASS_ID["person"]) & (found.confidence >= 0.6)]
        mask = _foreground(frame, background)
        grown: list[tuple[np.ndarray, list[Sprite]]] = []
        scores = found.confidence[(found.class_id == CLASS_ID["person"]) & (found.confidence >= 0.6)]
        for i, box in enumerate(people):
            others = [b for j, b in enumerate(people) if j != i]
            heights.append((float(box[3]), float(box[3] - box[1])))
            edge = box[0] < 4 or box[1] < 4 or box[2] > frame.shape[1] - 4 or box[3] > frame.shape[0] - 4
            if edge or any(_iou(box, o) > 0 or _near(box, o) for o in others):
                continue
            sprite = _cut(frame, mask, box, float(scores[i]))
            if sprite is None:
                continue
            match = next((k for k, c in enumerate(chains) if _iou(c[0], box) > 0.3), None)
            if match is not None:
                grown.append((box, [*chains.pop(match)[1], sprite]))
            else:
                grown.append((box, [sprite]))
        done += [c[1] for c in chains if len(c[1]) >= min_length]
        chains = grown
    cap.release()
    done += [c[1] for c in chains if len(c[1]) >= min_length]
    # A person standing still is drawn with their clearest cut-out (the detector's surest frame).
    done = [sorted(w, key=lambda s: -s.score)[:1] + w for w in done if max(s.score for s in w) >= 0.85]
    ys, hs = np.array([h[0] for h in heights]), np.array([h[1] for h in heights])
    a, b = np.polyfit(ys, hs, 1) if len(ys) > 2 else (0.0, 80.0)
    return done, (float(a), float(b))


def _near(a: np.ndarray, b: np.ndarray, margin: float = 6.0) -> bool:
    return not (a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1])


def cut_vehicle(background: np.ndarray, detector: object) -> Sprite:
    """The largest vehicle the detector finds in the background, cut out with GrabCut."""
    found = detector.detect([background])[0]  # type: ignore[attr-defined]
    vehicles = [(b, c) for b, c, k in zip(found.xyxy, found.confidence, found.class_id, strict=True)
                if CLASSES[int(k)] in VEHICLE_CLASSES and c >= 0.5]
    if not vehicles:
        raise RuntimeError("no vehicle found in the background to cut out")
    box = max(vehicles, key=lambda v: (v[0][2] - v[0][0]) * (v[0][3] - v[0][1]))[0]
    x1, y1, x2, y2 = (round(v) for v in box)
    cv2.setRNGSeed(7)
    mask = np.zeros(background.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(background, mask, (x1, y1, x2 - x1, y2 - y1), bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)
    alpha = np.isin(mask[y1:y2, x1:x2], (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    return Sprite(background[y1:y2, x1:x2].copy(), cv2.GaussianBlur(alpha, (3, 3), 0))


def reference_detector(models_dir: Path) -> object:
    """The detector that cuts the sprites: yolov3-tiny on OpenCV DNN (fp32) whatever runs the analysis, so the
    scenes (and every figure measured on them) are the same on every machine; OpenVINO's bf16 boxes cut other
    sprites, and so render other scenes."""
    from core.settings import VisionSettings
    from vision.detectors import load_detector

    return load_detector(VisionSettings(model="yolov3-tiny", backend="opencv"), models_dir)


def load_bank(cache: Path, models_dir: Path, footage: Path = VTEST) -> SpriteBank:
    """The sprite bank, built once (a minute on a CPU) by ``reference_detector`` and cached as
    ``cache/sprites.npz``."""
    cache.mkdir(parents=True, exist_ok=True)
    file = cache / "sprites.npz"
    if file.is_file():
        try:
            return _read(file)
        except (KeyError, ValueError, OSError) as exc:  # a cache written by an older version of this module
            log.warning("sprite cache %s is unreadable (%s): building it again", file, exc)
    detector = reference_detector(models_dir)
    background = median_background(footage)
    walkers, height_at = extract_walkers(footage, background, detector)
    vehicle = cut_vehicle(background, detector)
    log.info("sprites: %d walkers (%d cut-outs), perspective h = %.3f*y + %.1f", len(walkers),
             sum(len(w) for w in walkers), *height_at)
    _write(file, SpriteBank(background, walkers, vehicle, height_at))
    return _read(file)


def _write(file: Path, bank: SpriteBank) -> None:
    arrays: dict[str, np.ndarray] = {"background": bank.background, "height_at": np.array(bank.height_at),
                                     "vehicle_image": bank.vehicle.image, "vehicle_alpha": bank.vehicle.alpha,
                                     "walker_lengths": np.array([len(w) for w in bank.walkers])}
    for i, walker in enumerate(bank.walkers):
        for j, sprite in enumerate(walker):
            arrays[f"w{i}_{j}_image"], arrays[f"w{i}_{j}_alpha"] = sprite.image, sprite.alpha
            arrays[f"w{i}_{j}_score"] = np.array(sprite.score)
    tmp = file.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(file)


def _read(file: Path) -> SpriteBank:
    data = np.load(file)
    walkers = [[Sprite(data[f"w{i}_{j}_image"], data[f"w{i}_{j}_alpha"], float(data[f"w{i}_{j}_score"]))
                for j in range(int(n))]
               for i, n in enumerate(data["walker_lengths"])]
    a, b = data["height_at"].tolist()
    return SpriteBank(data["background"], walkers, Sprite(data["vehicle_image"], data["vehicle_alpha"]), (a, b))
