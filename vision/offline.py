"""Offline analysis of a recorded video through the same engine as live cameras.

The file is decoded sequentially (cv2.VideoCapture) in a prefetch thread, sampled to the wanted rate,
and consecutive sampled frames go through the detector in batches (the engine then tracks them in
order), so a GPU host runs faster than real time. Each frame's time is ``start + its time in the file``.
Results go to a sink: :class:`JsonlSink` writes detections.jsonl and events.jsonl; the CLI adds the
database writer.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import cv2

from cameras.geometry import ZoneSpec
from core.types import Event, Frame
from vision.engine import FrameResult, VisionEngine


class VideoError(Exception):
    """The video cannot be opened or decoded."""


class ResultSink(Protocol):
    def add(self, result: FrameResult) -> None: ...

    def close(self) -> None: ...


@dataclass
class VideoInfo:
    path: Path
    fps: float
    frames: int  # as the container says; may be 0 when unknown
    width: int
    height: int


def probe(path: Path) -> VideoInfo:
    """Frame rate, frame count and size of a video file; VideoError when it cannot be opened."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoError(f"{path}: cannot be opened as a video")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        info = VideoInfo(Path(path), fps if fps > 0 else 25.0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
                         int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()
    return info


def sampled_frames(path: Path, camera_id: int, start_ts: float, fps: float | None = None,
                   limit: int | None = None) -> Iterator[Frame]:
    """Decode the file and yield frames at about ``fps`` per second of video (None: every frame).

    ``Frame.index`` is the frame's index in the source, ``pts_s`` its time in the file and
    ``captured_at`` = ``start_ts + pts_s``.
    """
    info = probe(path)
    cap = cv2.VideoCapture(str(path))
    step = 0.0 if not fps or fps >= info.fps else 1.0 / fps
    next_t, index, yielded = 0.0, -1, 0
    try:
        while limit is None or yielded < limit:
            if not cap.grab():
                break
            index += 1
            t = index / info.fps
            if t + 1e-9 < next_t:
                continue  # skipped frames are grabbed, not decoded
            ok, image = cap.retrieve()
            if not ok:
                continue
            while step and next_t <= t + 1e-9:
                next_t += step  # keep to the schedule, so 10 fps sampled at 3 gives 3, not 2.5
            yielded += 1
            yield Frame(camera_id, image, start_ts + t, index, pts_s=t)
    finally:
        cap.release()


def _prefetch(frames: Iterator[Frame], depth: int) -> Iterator[Frame]:
    """Decode ahead in a thread (bounded queue), so decoding overlaps inference."""
    q: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: Frame | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for frame in frames:
                if not offer(frame):
                    return
            offer(None)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    thread = threading.Thread(target=run, name="analyze-decode", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def analyze(engine: VisionEngine, frames: Iterator[Frame], sinks: Sequence[ResultSink], batch: int = 8,
            progress: Callable[[int], None] | None = None) -> int:
    """Run frames through the engine in batches of consecutive frames; hand each result to every sink.

    Returns the number of frames analysed. Sinks are not closed here.
    """
    done = 0
    pending: list[Frame] = []

    def flush() -> None:
        nonlocal done
        for result in engine.process(pending):
            for sink in sinks:
                sink.add(result)
        done += len(pending)
        if progress is not None:
            progress(len(pending))
        pending.clear()

    for frame in _prefetch(frames, depth=max(2, 2 * batch)):
        pending.append(frame)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return done


def detection_record(result: FrameResult) -> dict[str, Any]:
    """One line of detections.jsonl: the frame's index and time in the source and its tracked objects."""
    d = result.detections
    ids = d.tracker_id if len(d.tracker_id) == len(d) else [None] * len(d)
    objects = [{"cls": name, "conf": round(float(conf), 3), "box": [round(float(v), 1) for v in box],
                "track": None if tid is None else int(tid)}
               for box, conf, name, tid in zip(d.xyxy, d.confidence, d.class_names, ids, strict=True)]
    t = result.frame.pts_s if result.frame.pts_s is not None else 0.0
    return {"frame": result.frame.index, "t": round(t, 3), "objects": objects}


def event_record(event: Event, zone_names: dict[int, str]) -> dict[str, Any]:
    """One line of events.jsonl."""
    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    zone = zone_names.get(event.zone_id, event.zone_id) if event.zone_id is not None else None
    attributes = dict(event.attributes)
    if event.evidence_path:
        attributes.setdefault("evidence_path", event.evidence_path)
    return {"id": str(event.id), "type": str(event.type), "start": when(event.start), "end": when(event.end),
            "zone": zone, "track": event.track_id, "severity": str(event.severity), "attributes": attributes}


class JsonlSink:
    """DIR/detections.jsonl (one line per analysed frame, written as it goes) and DIR/events.jsonl (one line
    per event, its last version, written at close)."""

    def __init__(self, folder: Path, zones: Sequence[ZoneSpec] = ()) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._detections = (folder / "detections.jsonl").open("w", encoding="utf-8")
        self._events: dict[Any, Event] = {}
        self._zone_names = {z.id: z.name for z in zones if z.id is not None}
        self.frames = 0

    def add(self, result: FrameResult) -> None:
        self._detections.write(json.dumps(detection_record(result), separators=(",", ":")) + "\n")
        self.frames += 1
        for event in result.events:
            self._events[event.id] = event  # re-sent updates replace the earlier version

    @property
    def events(self) -> list[Event]:
        return list(self._events.values())

    def close(self) -> None:
        self._detections.close()
        with (self.folder / "events.jsonl").open("w", encoding="utf-8") as out:
            for event in sorted(self._events.values(), key=lambda e: e.start):
                out.write(json.dumps(event_record(event, self._zone_names), default=str) + "\n")


def run_analysis(engine: VisionEngine, path: Path, camera_id: int, start: datetime, sinks: Sequence[ResultSink],
                 fps: float | None = None, batch: int = 8, limit: int | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Analyse one video file from ``start`` (aware datetime); return the number of frames analysed."""
    frames = sampled_frames(path, camera_id, start.timestamp(), fps, limit)
    return analyze(engine, frames, sinks, batch, progress)


def expected_frames(info: VideoInfo, fps: float | None, limit: int | None = None) -> int:
    """How many frames sampling at ``fps`` will give (for the progress bar)."""
    total = info.frames
    if fps and fps < info.fps and total:
        total = int(total * fps / info.fps) + 1
    return min(total, limit) if limit else total
