"""One tracker per camera: Ultralytics' ByteTrack fed with Vigil's Detections.

Frames the motion gate skipped never reach the tracker: an empty update would tell ByteTrack "nobody is
there" and age every track toward removal while people stand still. The camera keeps its last tracks
instead; their ``last_seen`` advances with the frame (an unchanged scene still shows them), and the forced
refresh of the gate confirms or drops them with a real detection a few seconds later.

The tracker is tuned to its camera's analytics rate (``fps``): a lost track is kept ``LOST_KEEP_S`` seconds
whatever the rate, and association compares boxes widened by what a walker covers between two frames, so at
2 frames/s a walker is still matched (and a new one confirmed by its second detection, within a second).

A track the detector missed for a frame or two is not dropped from what the rules see: for ``coast_s``
seconds it is handed on at its Kalman-predicted place with its ``last_seen`` left at its last detection,
so a rule can tell a coasting track from a seen one (``vision.rules.base.live_tracks``).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from core.types import CLASSES, Detections, Track

BYTETRACK_DEFAULTS = {
    "tracker_type": "bytetrack",
    "track_high_thresh": 0.25,
    "track_low_thresh": 0.1,
    "new_track_thresh": 0.25,
    "track_buffer": 30,  # frames a lost track is kept for re-identification (set from the rate: LOST_KEEP_S)
    # Association cost ceiling (1 - IoU x score). Ultralytics' 0.8 suits 25-30 fps; at the analytics rates
    # (2-5 fps) a walker's boxes overlap less from frame to frame: on vtest sampled at 2 fps, 0.9 gave 11
    # identities for 7 people where 0.8 gave 14, and the same tracks at 10 fps.
    "match_thresh": 0.9,
    "fuse_score": True,
}
DEFAULT_FPS = 4.0  # the rate a tracker assumes when its camera's rate is not given
LOST_KEEP_S = 7.5  # a lost track waits this long to be found again (30 frames at 4 fps, as before rates counted)
# How far a walker moves in a second, in widths of their own box (vtest's brisk walkers: about 1.5). Boxes are
# widened by half of what they can move between two frames, so a walker's box still overlaps its next one at
# 2 frames/s: on vtest at 2 fps, 93 % of people seen in three frames running are tracked in the third (86 %
# with 1.0, 59 % before boxes were widened) and 48 identities are made where 54 were with 1.0.
WALK_WIDTHS_PER_S = 1.5
# A new track is confirmed by its second detection when that matches it with a cost under this (1 - IoU x
# score, IoU of the widened boxes). Ultralytics fixes 0.7, too tight at 2 fps: a walker's second box missed
# it, the first was dropped and a new track started at every frame, so walkers were never confirmed.
CONFIRM_THRESH = 0.8
# A new track waits this long for its second detection (Ultralytics drops it at the first frame without one: at
# 30 fps a thirtieth of a second, at 2 fps half a second). A walker the detector misses on the frame after their
# first box, or on the motion gate's next run, was never confirmed: on the short counter's held-out rendering 56
# a newcomer crossing the hall was boxed at 120.5 s, missed at 121.0 s, and tracked only at 123 s, already
# standing in the queue, where the queues could not tell them from a second box on someone waiting.
CONFIRM_WITHIN_S = 1.0


def rate_settings(fps: float) -> dict[str, float | int]:
    """ByteTrack's frame-counted settings for a camera analysed at ``fps`` frames per second."""
    fps = max(0.1, float(fps))
    return {"track_buffer": max(2, math.ceil(LOST_KEEP_S * fps)),
            "box_margin": WALK_WIDTHS_PER_S / fps / 2, "confirm_thresh": CONFIRM_THRESH,
            "confirm_frames": max(1, math.ceil(CONFIRM_WITHIN_S * fps))}


def _widen(boxes: np.ndarray, margin: float | np.ndarray) -> np.ndarray:
    """xyxy boxes grown by ``margin`` of their width and height on every side (one margin, or one per box)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if not len(boxes) or not np.any(margin):
        return boxes
    w, h = (boxes[:, 2] - boxes[:, 0]) * margin, (boxes[:, 3] - boxes[:, 1]) * margin
    return np.stack((boxes[:, 0] - w, boxes[:, 1] - h, boxes[:, 2] + w, boxes[:, 3] + h), axis=1)


def preload_tracker() -> None:
    """Import the tracker (Ultralytics, and torch under it: 1.5 s in a quiet process) now. Imported by the first
    camera while the pipeline's reader and detector threads already ran, the import's pure-Python work fought
    them for the interpreter and took 80-100 s on this 2-core machine: the first camera analysed nothing
    meanwhile (``vigil bench capacity``'s one-camera run took 99 s, 3 of them measured)."""
    _rate_tracker_class()


def _rate_tracker(args: SimpleNamespace) -> Any:
    return _rate_tracker_class()(args)


@functools.cache
def _rate_tracker_class() -> type:
    """A BYTETracker whose association reads widened boxes (``args.box_margin``) and confirms new tracks
    with ``args.confirm_thresh`` within ``args.confirm_frames`` frames: its matching is scaled to the camera's
    frame rate."""
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.trackers.utils import matching

    class RateTracker(BYTETracker):
        def get_dists(self, tracks: list[Any], detections: list[Any], frames: list[int] | None = None) -> np.ndarray:
            """1 - IoU x score of widened boxes; a track's box widened ``frames[i]`` times as much (unconfirmed
            tracks are not predicted forward: one first seen two frames ago may have walked twice as far)."""
            margin = self.args.box_margin * (np.asarray(frames, dtype=np.float32) if frames else 1.0)
            a = list(_widen(np.array([t.xyxy for t in tracks]), margin)) if tracks else []
            b = list(_widen(np.array([d.xyxy for d in detections]), self.args.box_margin)) if detections else []
            dists = matching.iou_distance(a, b)
            return matching.fuse_score(dists, detections) if self.args.fuse_score else dists

        def _unconfirmed_association(self, unconfirmed: list[Any], u_detection: list[int], detections: list[Any],
                                     activated: list[Any], removed: list[Any]) -> tuple[list[int], list[Any]]:
            detections = [detections[i] for i in u_detection]
            if not unconfirmed:
                return list(range(len(detections))), detections
            dists = self.get_dists(unconfirmed, detections, [self.frame_id - t.start_frame for t in unconfirmed])
            matches, u_unconfirmed, u_left = matching.linear_assignment(dists, thresh=self.args.confirm_thresh)
            for itracked, idet in matches:
                unconfirmed[itracked].update(detections[idet], self.frame_id)
                activated.append(unconfirmed[itracked])
            for it in u_unconfirmed:  # not seen again: asked again next frame, until its time to confirm is up
                if self.frame_id - unconfirmed[it].start_frame >= self.args.confirm_frames:
                    unconfirmed[it].mark_removed()
                    removed.append(unconfirmed[it])
            return u_left, detections

    return RateTracker


class _ByteTrackInput:
    """The view of Detections that BYTETracker reads: conf, cls, xywh (centre) and boolean indexing."""

    def __init__(self, detections: Detections) -> None:
        self.detections = detections
        xyxy = detections.xyxy.astype(np.float32)
        self.conf = detections.confidence.astype(np.float32)
        self.cls = detections.class_id.astype(np.float32)
        self.xyxy = xyxy
        self.xywh = np.stack(((xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2,
                              xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]), axis=1).reshape(-1, 4)

    def __len__(self) -> int:
        return len(self.detections)

    def __getitem__(self, index: np.ndarray) -> _ByteTrackInput:
        return _ByteTrackInput(self.detections[index])


class _RemovedTrack:
    """What ByteTrack reads of a track it removed: the id."""

    __slots__ = ("track_id",)

    def __init__(self, track_id: int) -> None:
        self.track_id = track_id


class CameraTracker:
    """Tracks of one camera. ``update`` takes a frame's detections; ``hold`` carries tracks over a skipped frame."""

    def __init__(self, fps: float = DEFAULT_FPS, coast_s: float = 1.0, **overrides: float | int | bool) -> None:
        args = SimpleNamespace(**{**BYTETRACK_DEFAULTS, **rate_settings(fps), **overrides})
        self._tracker = _rate_tracker(args)
        self.fps, self.coast_s = fps, coast_s
        self._first_seen: dict[int, float] = {}
        self._last_seen: dict[int, float] = {}
        self.current = Detections.empty()  # the last tracked detections, pixels, tracker_id set

    def update(self, detections: Detections, now: float) -> Detections:
        """Associate this frame's detections; return those that belong to a confirmed track (tracker_id set)."""
        rows = self._tracker.update(_ByteTrackInput(detections))
        self._drop_removed_history()
        if len(rows) == 0:
            self.current = Detections.empty()
        else:
            index = rows[:, 7].astype(np.int64)  # detection index: keep the detector's own box, not the Kalman one
            tracked = detections[index]
            tracked.tracker_id = rows[:, 4].astype(np.int64)
            self.current = tracked
        for track_id in self.current.tracker_id:
            self._first_seen.setdefault(int(track_id), now)
            self._last_seen[int(track_id)] = now
        self._forget_gone()
        return self.current

    def _drop_removed_history(self) -> None:
        """Keep only the ids of ByteTrack's removed tracks, not the tracks themselves.

        ByteTrack keeps its last 1,000 removed tracks per camera (Kalman state and all, about 2 KB each) and
        reads only their ids (to take them out of its lost pool): 16 cameras grew by about 30 MB over their
        first hour before the buffers filled. Ids alone keep its behaviour exactly, at a few dozen bytes each.
        """
        removed = self._tracker.removed_stracks
        fresh = len(getattr(self._tracker, "removed_stracks_frame", ()))  # appended at the end this frame
        for i in range(max(0, len(removed) - fresh), len(removed)):
            removed[i] = _RemovedTrack(int(removed[i].track_id))

    def _forget_gone(self) -> None:
        """Forget the times of tracks ByteTrack no longer holds (tracked or lost).

        Its per-frame removal list does not cover them all: ``remove_duplicate_stracks`` drops a lost track
        overlapping a tracked one without marking it removed, so a camera whose detector boxes one object
        twice (a van as both car and truck) would keep the times of every such track for the whole run.
        """
        held = {int(t.track_id) for t in self._tracker.tracked_stracks}
        held.update(int(t.track_id) for t in self._tracker.lost_stracks)
        for track_id in [t for t in self._last_seen if t not in held]:
            del self._last_seen[track_id]
            self._first_seen.pop(track_id, None)

    @property
    def remembered(self) -> int:
        """Tracks whose first/last-seen times are kept: those ByteTrack holds, however long the camera runs."""
        return len(self._last_seen)

    @property
    def held(self) -> int:
        """Tracks ByteTrack holds with their Kalman state: tracked (confirmed or not), lost and removed."""
        t = self._tracker
        return len(t.tracked_stracks) + len(t.lost_stracks) + sum(
            not isinstance(r, _RemovedTrack) for r in t.removed_stracks)

    def hold(self, now: float) -> Detections:
        """The tracks as they were, for a frame that skipped inference (an unchanged scene still shows them)."""
        for track_id in self.current.tracker_id:
            self._last_seen[int(track_id)] = now
        return self.current

    def tracks(self, width: int, height: int, now: float) -> list[Track]:
        """The current tracks in normalized coordinates of a width x height frame."""
        out = []
        scale = np.array([width, height, width, height], dtype=np.float64)
        for box, conf, cls, track_id in zip(self.current.xyxy, self.current.confidence, self.current.class_id,
                                             self.current.tracker_id, strict=True):
            x1, y1, x2, y2 = (np.clip(box / scale, 0.0, 1.0)).tolist()
            tid = int(track_id)
            out.append(Track(tid, CLASSES[int(cls)], float(conf), (x1, y1, x2, y2),
                             self._first_seen.get(tid, now), self._last_seen.get(tid, now)))
        shown = {t.track_id for t in out}
        for lost in self._tracker.lost_stracks:  # missed for a moment: coast at the predicted place
            tid = int(lost.track_id)
            seen = self._last_seen.get(tid)
            if tid in shown or seen is None or now - seen > self.coast_s:
                continue
            x1, y1, x2, y2 = np.clip(np.asarray(lost.xyxy, dtype=np.float64) / scale, 0.0, 1.0).tolist()
            out.append(Track(tid, CLASSES[int(lost.cls)], float(lost.score), (x1, y1, x2, y2),
                             self._first_seen.get(tid, seen), seen))
        return out
