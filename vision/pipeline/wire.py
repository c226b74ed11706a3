"""The wire between the vision process and its camera processes: message tags, packed boxes, result summaries
and the picklable ``CameraSpec``.

Messages are tuples, their tag first, sent over one ``multiprocessing`` pipe per camera process. Boxes to a
camera process are the exception: one packed float32 message per camera process and batch
(``pack_boxes``), told apart from pickled messages by its first byte, because the vision process's one thread
also launches every batch and unpickling numpy arrays cost it ~45 us per frame. For the same reason results in
the ``"store"`` mode cross back as plain tuples (``summarise``/``from_summary``): the frame's identity and
times, the gate's verdict, events, observations and counter sessions; the boxes and tracks stay behind.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from cameras.geometry import ZoneSpec
from cameras.models import CameraSource
from core.types import Detections, Frame
from vision.engine import FrameResult
from vision.pipeline.feeds import READ_CAMERA, FeedFactory
from vision.rules.base import Rule

ResultsMode = Literal["full", "store"]  # whole results (frames without picture) or what the store needs
ResultSink = Callable[[FrameResult], None]  # called with each camera frame's result; must be quick
MIN_DEPTH = 2  # frames per camera waiting for detection at most, when there are cameras enough to fill batches
NO_IMAGE = np.empty((0, 0, 3), dtype=np.uint8)  # results crossing back to the vision process carry no picture

# camera process -> vision process
READY = "ready"  # (READY, pid)
REQUEST = "req"  # (REQUEST, camera id, sequence number, shared buffer name, picture shape, crops or None): detect
RESULTS = "res"  # (RESULTS, [FrameResult without picture, or a summary tuple in the "store" mode, ...])
EVENT = "event"  # (EVENT, core.types.Event) from a camera's reader
HEALTH = "health"  # (HEALTH, core.types.CameraHealth) from a camera's reader, when it changes
HEALTHS = "healths"  # (HEALTHS, [CameraHealth, ...]) every camera's health, every second
# vision process -> camera process (pickled; packed boxes start with BOXES_TAG instead)
ADD = "add"  # (ADD, CameraSpec): start a camera (replacing one of the same id)
REMOVE = "remove"  # (REMOVE, camera id)
DEPTH = "depth"  # (DEPTH, frames per camera waiting for detection at most)
STOP = "stop"  # (STOP,)

# Boxes to a camera process: b"D", the count of frames, then per frame its camera id, sequence number and box
# count (-1: the batch failed) followed by that many rows of x1, y1, x2, y2, confidence, class (float32).
BOXES_TAG = b"D"
_COUNT = struct.Struct("<I")
_FRAME = struct.Struct("<qqi")


@dataclass(frozen=True)
class CameraSpec:
    """One camera as the pipeline runs it (picklable: it crosses to a camera process): what it is, what
    delivers its frames (``feed``, built where the camera runs), its zones and its rules."""

    source: CameraSource
    zones: Sequence[ZoneSpec] = ()
    rules: Sequence[Rule] = ()
    feed: FeedFactory = READ_CAMERA

    @property
    def camera_id(self) -> int:
        return self.source.id


def pack_boxes(items: Sequence[tuple[int, int, Detections | None]]) -> bytes:
    """(camera id, sequence number, boxes or None when the batch failed) of each frame, as one message."""
    parts = [BOXES_TAG, _COUNT.pack(len(items))]
    for camera_id, seq, found in items:
        if found is None:
            parts.append(_FRAME.pack(camera_id, seq, -1))
            continue
        parts.append(_FRAME.pack(camera_id, seq, len(found)))
        rows = np.empty((len(found), 6), np.float32)
        rows[:, :4], rows[:, 4], rows[:, 5] = found.xyxy, found.confidence, found.class_id
        parts.append(rows.tobytes())
    return b"".join(parts)


def unpack_boxes(data: bytes) -> list[tuple[int, int, Detections | None]]:
    (count,), offset = _COUNT.unpack_from(data, 1), 1 + _COUNT.size
    out: list[tuple[int, int, Detections | None]] = []
    for _ in range(count):
        camera_id, seq, n = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        if n < 0:
            out.append((camera_id, seq, None))
            continue
        rows = np.frombuffer(data, np.float32, n * 6, offset).reshape(n, 6)
        offset += rows.nbytes
        out.append((camera_id, seq, Detections(rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int16))))
    return out


def strip_picture(result: FrameResult) -> FrameResult:
    """The result without its picture (it stays in the camera process)."""
    return replace(result, frame=replace(result.frame, image=NO_IMAGE))


def summarise(result: FrameResult) -> tuple[Any, ...]:
    """What the store and the counts need of a result, as a plain tuple (cheap to pickle both ways)."""
    frame = result.frame
    return (frame.camera_id, frame.index, frame.captured_at, frame.pts_s, result.done_at, result.detected,
            result.gate, result.events or None, result.observations or None, result.sessions or None)


def from_summary(summary: tuple[Any, ...]) -> FrameResult:
    """A result rebuilt from ``summarise``: no picture, boxes, tracks, zones nor crossings."""
    camera_id, index, captured_at, pts_s, done_at, detected, gate, events, observations, sessions = summary
    return FrameResult(Frame(camera_id, NO_IMAGE, captured_at, index, pts_s), _NO_BOXES, [], {}, [], detected, gate,
                       events or [], observations or [], sessions or [], done_at)


_NO_BOXES = Detections.empty()  # shared by every store-mode result: nobody writes into it
