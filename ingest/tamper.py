"""Camera tamper detection on the sampled analytics frames: blackout, frozen image, defocus, moved camera.

``TamperDetector.update(image, t)`` takes a BGR frame and its time (seconds) and returns the changes:
``TamperChange(kind, opened=True)`` when a condition has held long enough, ``opened=False`` when it clears.
The reader turns them into ``camera_tamper`` events with a snapshot. Cheap: everything runs on a
160x120 grey copy (~0.3 ms a frame).

- blackout: the frame is nearly uniform (grey-level spread below ``blackout_std``): covered, painted,
  lights off, a dead sensor.
- frozen: the picture repeats itself for ``frozen_s`` on a scene that had motion in the ``motion_memory_s``
  before (a stuck encoder or a replayed still image). "Repeats" is judged at full resolution with a
  2-level threshold: a live sensor's noise changes pixels even when nothing moves, so a still scene (a
  queue standing, traffic waiting at a light) is not a freeze; only an identical picture is.
- defocus: sharpness (variance of the Laplacian) below ``defocus_ratio`` of the learned reference.
- moved: the slow background no longer matches the reference learned at start (normalized correlation
  of gradient images below ``moved_correlation``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

KINDS = ("blackout", "frozen", "defocus", "moved")
SIZE = (160, 120)
SHARPNESS_SAMPLES = 64  # the reference is the median of at most this many learning frames


@dataclass(frozen=True)
class TamperConfig:
    enabled: bool = True
    learn_s: float = 5.0  # seconds of normal frames before references are trusted
    blackout_std: float = 6.0
    blackout_s: float = 2.0
    frozen_s: float = 8.0
    frozen_change: float = 0.0005  # share of full-resolution pixels that changed by more than 2 levels
    motion_change: float = 0.003  # the share that counts as motion in the scene
    motion_memory_s: float = 300.0
    defocus_ratio: float = 0.3
    defocus_s: float = 3.0
    moved_correlation: float = 0.45
    moved_s: float = 10.0
    background_rate: float = 0.15  # weight of each frame in the slow background


@dataclass(frozen=True)
class TamperChange:
    kind: str
    opened: bool
    t: float
    details: dict[str, float] = field(default_factory=dict)


class TamperDetector:
    """Per-camera tamper state. Feed it every analytics frame in time order."""

    def __init__(self, config: TamperConfig | None = None) -> None:
        self.config = config or TamperConfig()
        self.active: set[str] = set()
        self._since: dict[str, float] = {}  # when each condition started holding
        self._prev: np.ndarray | None = None
        self._prev_fine: np.ndarray | None = None
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._last_motion_t: float | None = None
        self._sharp_samples: deque[float] = deque(maxlen=SHARPNESS_SAMPLES)
        self._sharp_ref: float | None = None
        self._background: np.ndarray | None = None
        self._reference: np.ndarray | None = None
        self.last_scores: dict[str, float] = {}

    def reset_stream(self) -> None:
        """Forget the previous frame (after a reconnect a gap is not a change, and not a freeze)."""
        self._prev = None
        self._prev_fine = None
        self._since.pop("frozen", None)

    def update(self, image: np.ndarray, t: float) -> list[TamperChange]:
        if not self.config.enabled:
            return []
        cfg = self.config
        gray = cv2.cvtColor(cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        if self._last_t is not None and t < self._last_t:
            self._restart_clock(t)
        self._last_t = t
        if self._first_t is None:
            self._first_t = t
        learned = t - self._first_t >= cfg.learn_s
        spread = float(gray.std())
        sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var())
        change = self._change(gray)
        fine = cv2.cvtColor(image[::2, ::2], cv2.COLOR_BGR2GRAY)
        repeat = self._repeat(fine)
        self._prev_fine = fine
        if change is not None and change >= cfg.motion_change:
            self._last_motion_t = t
        blackout = spread < cfg.blackout_std
        self._learn(gray, sharpness, learned, blackout)
        conditions = {
            "blackout": blackout,
            "frozen": (repeat is not None and repeat < cfg.frozen_change and not blackout
                       and self._last_motion_t is not None and t - self._last_motion_t <= cfg.motion_memory_s),
            "defocus": (not blackout and self._sharp_ref is not None
                        and sharpness < cfg.defocus_ratio * self._sharp_ref),
            "moved": not blackout and self._moved_score() < cfg.moved_correlation,
        }
        self.last_scores = {"spread": spread, "sharpness": sharpness, "change": repeat if repeat is not None else -1,
                            "reference_sharpness": self._sharp_ref or 0.0, "correlation": self._moved_score()}
        holds = {"blackout": cfg.blackout_s, "frozen": cfg.frozen_s, "defocus": cfg.defocus_s, "moved": cfg.moved_s}
        changes: list[TamperChange] = []
        for kind, now_true in conditions.items():
            if kind == "frozen" and repeat is None:
                continue  # no previous frame: keep the frozen state as it is
            if now_true:
                start = self._since.setdefault(kind, t)
                if kind not in self.active and t - start >= holds[kind]:
                    self.active.add(kind)
                    changes.append(TamperChange(kind, True, t, self._details(kind)))
            else:
                self._since.pop(kind, None)
                if kind in self.active:
                    self.active.discard(kind)
                    changes.append(TamperChange(kind, False, t, self._details(kind)))
        self._prev = gray
        return changes

    def _restart_clock(self, t: float) -> None:
        """Time went back (a looped file, a stream whose first frame had no timestamp, a camera clock reset):
        every duration measured so far restarts at ``t``, so learning and the hold times keep counting."""
        if self._sharp_ref is None:
            self._first_t = t
        self._since = dict.fromkeys(self._since, t)
        if self._last_motion_t is not None:
            self._last_motion_t = t

    def _repeat(self, fine: np.ndarray) -> float | None:
        """Share of (half-resolution) pixels that changed by more than 2 levels since the previous frame."""
        previous = self._prev_fine
        if previous is None or previous.shape != fine.shape:
            return None
        return float(np.count_nonzero(cv2.absdiff(fine, previous) > 2)) / fine.size

    def _change(self, gray: np.ndarray) -> float | None:
        if self._prev is None:
            return None
        diff = cv2.absdiff(gray, self._prev)
        return float(np.count_nonzero(diff > 12)) / diff.size

    def _learn(self, gray: np.ndarray, sharpness: float, learned: bool, blackout: bool) -> None:
        if blackout or "defocus" in self.active or "moved" in self.active:
            return  # never learn a tampered view as normal
        small = gray.astype(np.float32)
        if self._background is None:
            self._background = small.copy()
        else:
            cv2.accumulateWeighted(small, self._background, self.config.background_rate)
        if self._sharp_ref is None:
            self._sharp_samples.append(sharpness)
            if learned and len(self._sharp_samples) >= 3:
                self._sharp_ref = float(np.median(self._sharp_samples))
                self._reference = _gradient(self._background)
                self._sharp_samples.clear()
        elif sharpness >= self.config.defocus_ratio * self._sharp_ref:
            self._sharp_ref = 0.99 * self._sharp_ref + 0.01 * sharpness  # follow day/night slowly

    def _moved_score(self) -> float:
        if self._reference is None or self._background is None:
            return 1.0
        current = _gradient(self._background)
        a, b = self._reference - self._reference.mean(), current - current.mean()
        denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
        return float((a * b).sum() / denom) if denom > 1e-6 else 1.0

    def _details(self, kind: str) -> dict[str, float]:
        keys = {"blackout": ("spread",), "frozen": ("change",), "defocus": ("sharpness", "reference_sharpness"),
                "moved": ("correlation",)}[kind]
        return {k: round(self.last_scores.get(k, 0.0), 4) for k in keys}


def _gradient(image: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(image, (5, 5), 0)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
    return cv2.magnitude(gx, gy)
