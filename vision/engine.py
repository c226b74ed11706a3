"""The vision engine: motion gate -> one batched detection -> per-camera tracker -> zones -> rules -> evidence.

``VisionEngine.process(frames)`` takes frames of several cameras (the scheduler's batch), runs the detector
once on those whose gate is open, and returns one :class:`FrameResult` per frame, in order. Rules are the
analytics engineer's objects (``vision.rules.base.Rule``: ``update(tracks, now) -> RuleOutput``), handed
in per camera, so new rules need no change here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import numpy as np

from cameras.geometry import ZoneSpec
from core.settings import VisionSettings
from core.types import CounterSession, Detections, Event, Frame, Observation, Track
from vision.detectors.base import Detector
from vision.evidence import write_evidence
from vision.gate import GateDecision, MotionGate
from vision.regions import Box, detect_in_regions, detects_regions, hold_outside, plan_crops, zone_boxes
from vision.rules.base import Rule, SnapshotRequest
from vision.tracking import CameraTracker, preload_tracker
from vision.zones import LineWatch, zone_membership

log = logging.getLogger("vigil.vision")


@dataclass
class CameraSetup:
    """What the engine needs to know about one camera: its zones/lines and its rules."""

    camera_id: int
    zones: Sequence[ZoneSpec] = ()
    rules: Sequence[Rule] = ()
    name: str = ""
    fps: float | None = None  # the camera's analytics rate (the tracker is tuned to it); None: the tracker's default


@dataclass
class FrameResult:
    """One processed frame of one camera."""

    frame: Frame
    detections: Detections  # tracked boxes, pixels of the frame, tracker_id set
    tracks: list[Track]  # the same, normalized 0..1, as the rules see them
    zones: dict[int, tuple[str, ...]]  # track_id -> polygon zones its foot point is in
    crossings: list[tuple[int, str, int]]  # (track_id, line name, +1 with its direction / -1 against)
    detected: bool  # True: the detector ran on this frame; False: the gate held the previous tracks
    gate: str  # the gate's reason: first, motion, refresh, still, off
    events: list[Event] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    sessions: list[CounterSession] = field(default_factory=list)
    done_at: float = 0.0  # wall clock when the result was ready

    @property
    def latency_s(self) -> float:
        return self.done_at - self.frame.captured_at


class _Camera:
    def __init__(self, setup: CameraSetup, vision: VisionSettings) -> None:
        self.setup = setup
        self.gate = MotionGate(vision.motion_threshold, vision.forced_refresh_s, enabled=vision.motion_gate)
        self.tracker = CameraTracker(setup.fps) if setup.fps else CameraTracker()
        self.lines = LineWatch(setup.zones)
        self.regions = detects_regions(vision, setup.zones)
        self.evidence: dict[UUID, dict[str, str]] = {}  # open event id -> {"start": path, ...}


class VisionEngine:
    """Per-camera state (gate, tracker, zones, rules) around one shared detector. Not thread-safe: one
    worker thread calls ``process``."""

    def __init__(self, detector: Detector | None, vision: VisionSettings, cameras: Iterable[CameraSetup] = (),
                 data_dir: Path | None = None) -> None:
        self.detector, self.vision, self.data_dir = detector, vision, data_dir
        preload_tracker()  # before any camera's threads run (see vision.tracking.preload_tracker)
        self._cameras: dict[int, _Camera] = {}
        self.inferences = 0  # detector calls
        self.detected_frames = 0  # frames that went through the detector
        for setup in cameras:
            self.add_camera(setup)

    def add_camera(self, setup: CameraSetup) -> None:
        self._cameras[setup.camera_id] = _Camera(setup, self.vision)

    def remove_camera(self, camera_id: int) -> None:
        self._cameras.pop(camera_id, None)

    def zones_of(self, camera_id: int) -> Sequence[ZoneSpec]:
        camera = self._cameras.get(camera_id)
        return camera.setup.zones if camera is not None else ()

    def _camera(self, camera_id: int) -> _Camera:
        if camera_id not in self._cameras:  # a camera without zones or rules still gets tracks
            self.add_camera(CameraSetup(camera_id))
        return self._cameras[camera_id]

    def process(self, frames: Sequence[Frame]) -> list[FrameResult]:
        """Gate each frame, detect the open ones in one batch, track, apply zones and rules."""
        cameras = [self._camera(f.camera_id) for f in frames]  # once: a camera removed meanwhile is not re-added
        decisions = [camera.gate.check(f.image, f.captured_at) for camera, f in zip(cameras, frames, strict=True)]
        to_detect = [i for i, d in enumerate(decisions) if d.run]
        plans = {i: self.plan(frames[i], decisions[i]) for i in to_detect}
        found: dict[int, Detections] = {}
        if to_detect:
            if self.detector is None:
                raise RuntimeError("this engine has no detector: use decide() and finish()")
            try:
                batch = detect_in_regions(self.detector, [frames[i].image for i in to_detect],
                                          [plans[i] for i in to_detect], self.vision.region_mosaic)
            except Exception:
                for i in to_detect:  # the gate must not believe these frames were seen
                    cameras[i].gate.forget()
                raise
            found = dict(zip(to_detect, batch, strict=True))
            self.inferences += 1
            self.detected_frames += len(to_detect)
        return [self._finish(cameras[i], frame, decision.reason, found.get(i), plans.get(i)) for i, (frame, decision)
                in enumerate(zip(frames, decisions, strict=True))]

    def plan(self, frame: Frame, decision: GateDecision) -> list[Box] | None:
        """The crops to detect in a frame the gate opened (``vision.regions``, or ``vision.counter_regions`` on a
        counter camera), or None for the whole frame."""
        camera = self._camera(frame.camera_id)
        if not camera.regions or decision.reason not in ("first", "motion", "refresh"):
            return None
        width, height = frame.size
        imgsz = self.detector.imgsz if self.detector is not None else self.vision.imgsz
        if decision.reason != "motion":  # where the rules look: the zones (none: the whole frame)
            wanted = zone_boxes(camera.setup.zones, width, height)
        else:
            wanted = list(decision.regions or ())
        return plan_crops(wanted, width, height, imgsz, self.vision.max_regions) or None

    # -- the two halves of ``process``, for a camera process whose detector runs elsewhere (vision.pipeline) --
    def decide(self, frame: Frame) -> GateDecision:
        """The motion gate's decision for one frame of its camera (the reference moves when it runs)."""
        return self._camera(frame.camera_id).gate.check(frame.image, frame.captured_at)

    def forget(self, camera_id: int) -> None:
        """A detection asked for by ``decide`` will not come (it failed): the gate must not count on it."""
        if camera_id in self._cameras:
            self._cameras[camera_id].gate.forget()

    def finish(self, frame: Frame, reason: str, detections: Detections | None,
               crops: list[Box] | None = None) -> FrameResult:
        """Track, zones and rules of one frame, given its detections (None: the gate held its tracks; with
        ``crops``, found in those crops only)."""
        if detections is not None:  # ``inferences`` (detector calls) are counted where the detector runs
            self.detected_frames += 1
        return self._finish(self._camera(frame.camera_id), frame, reason, detections, crops)

    def _finish(self, camera: _Camera, frame: Frame, reason: str, detections: Detections | None,
                crops: list[Box] | None = None) -> FrameResult:
        now = frame.captured_at
        if detections is not None and crops:  # outside the crops nothing moved: what stood there still does
            detections = hold_outside(camera.tracker.current, detections, crops)
        tracked = (camera.tracker.update(detections, now) if detections is not None
                   else camera.tracker.hold(now))
        width, height = frame.size
        tracks = camera.tracker.tracks(width, height, now)
        result = FrameResult(frame, tracked, tracks, zone_membership(tracks, camera.setup.zones),
                             [(t.track_id, line.name, sign) for t, line, sign in camera.lines.update(tracks)],
                             detected=detections is not None, gate=reason)
        if camera.setup.rules:
            self._apply_rules(camera, result, datetime.fromtimestamp(now, UTC))
        result.done_at = time.time()
        return result

    def _apply_rules(self, camera: _Camera, result: FrameResult, now: datetime) -> None:
        snapshots: list[SnapshotRequest] = []
        for rule in camera.setup.rules:
            output = rule.update(result.tracks, now)
            result.events.extend(output.events)
            result.observations.extend(output.observations)
            result.sessions.extend(output.sessions)
            snapshots.extend(output.snapshots)
        by_id = {event.id: event for event in result.events}
        for request in snapshots:
            event = by_id.get(request.event_id)
            if event is not None and self.data_dir is not None:
                self._snapshot(camera, result, event, request)
        for event in result.events:  # re-sent updates carry the evidence already taken
            saved = camera.evidence.get(event.id)
            if saved:
                event.attributes["evidence"] = dict(saved)
                event.evidence_path = event.evidence_path or next(iter(saved.values()))
            if event.end is not None:
                camera.evidence.pop(event.id, None)

    def _snapshot(self, camera: _Camera, result: FrameResult, event: Event, request: SnapshotRequest) -> None:
        assert self.data_dir is not None
        wanted = {int(t) for t in request.track_ids}
        shown = result.detections
        if wanted and len(shown.tracker_id) == len(shown):
            shown = shown[np.array([int(t) in wanted for t in shown.tracker_id], dtype=bool)]
        zones = camera.setup.zones
        zone_id = request.zone_id
        highlight = next((z.name for z in zones if zone_id is not None and z.id == zone_id), None)
        label = request.label
        try:
            path = write_evidence(self.data_dir, event, result.frame.image, shown, zones,
                                  self.vision.evidence_jpeg_quality, label=label, highlight_zone=highlight)
        except OSError as exc:  # evidence is best effort: the event itself must still be stored
            log.warning("camera %s: evidence for event %s not written: %s", result.frame.camera_id, event.id, exc)
            return
        camera.evidence.setdefault(event.id, {})[label] = str(path)
