"""Frozen-picture tamper: a repeated picture alarms; a still scene seen by a live (noisy) sensor does not."""

import numpy as np

from ingest.tamper import TamperDetector

FPS = 4


def _scene(rng: np.random.Generator) -> np.ndarray:
    base = np.zeros((288, 384, 3), np.uint8)
    base[:, :, :] = rng.integers(40, 200, size=(36, 48, 1), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    return base


def _run(frames: list[np.ndarray]) -> list[str]:
    detector = TamperDetector()
    opened = []
    for i, frame in enumerate(frames):
        opened += [c.kind for c in detector.update(frame, i / FPS) if c.opened]
    return opened


def _with_motion_then(still: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    moving = []
    for i in range(10 * FPS):  # someone walks across for 10 s
        frame = _scene(np.random.default_rng(0)).copy()
        x = 20 + 8 * i
        frame[100:220, x:x + 40] = 30
        moving.append(frame)
    return moving + still


def test_a_repeated_picture_after_motion_is_frozen() -> None:
    rng = np.random.default_rng(1)
    picture = _scene(np.random.default_rng(0))
    assert "frozen" in _run(_with_motion_then([picture.copy() for _ in range(15 * FPS)], rng))


def test_a_still_scene_with_sensor_noise_is_not_frozen() -> None:
    # A queue standing still or traffic waiting at a light: nothing moves, but the sensor's noise does.
    rng = np.random.default_rng(2)
    picture = _scene(np.random.default_rng(0)).astype(np.int16)
    noisy = [np.clip(picture + rng.integers(-4, 5, size=picture.shape), 0, 255).astype(np.uint8)
             for _ in range(15 * FPS)]
    assert "frozen" not in _run(_with_motion_then(noisy, rng))
