"""Value types that several layers pass to each other (ingest -> vision -> store -> ops_api).

Small, typed and free of behaviour beyond simple conversions, in the manner of supervision's
``Detections``: one value flows from the detector through the tracker to the rules.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np

# The one class vocabulary every detector maps onto (COCO names, "motorbike" spelled "motorcycle").
CLASSES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
CLASS_ID: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}
VEHICLE_CLASSES: frozenset[str] = frozenset({"bicycle", "car", "motorcycle", "bus", "truck"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class ZoneKind(StrEnum):
    COUNTER_STAFF = "counter_staff"
    COUNTER_CUSTOMER = "counter_customer"
    QUEUE = "queue"
    RESTRICTED = "restricted"
    NO_STOPPING = "no_stopping"
    CROWD = "crowd"
    LANE = "lane"
    LINE = "line"


class EventType(StrEnum):
    OFFICER_ABSENT = "officer_absent"
    COUNTER_UNATTENDED_WITH_QUEUE = "counter_unattended_with_queue"
    LONG_WAIT = "long_wait"
    HALL_OVERCROWDED = "hall_overcrowded"
    STOPPED_VEHICLE = "stopped_vehicle"
    WRONG_WAY = "wrong_way"
    CONGESTION = "congestion"
    CROWD = "crowd"
    INTRUSION = "intrusion"
    LOITERING = "loitering"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_ONLINE = "camera_online"
    CAMERA_TAMPER = "camera_tamper"
    # The recorder's health (record/): opened when recording stops, closed when segments flow again.
    RECORDING_OFFLINE = "recording_offline"
    RECORDING_STALLED = "recording_stalled"
    RECORDING_STORAGE_FULL = "recording_storage_full"


# Events about the equipment, not the scene: no footage is kept or held around them.
EQUIPMENT_EVENTS: frozenset[str] = frozenset({
    EventType.CAMERA_OFFLINE, EventType.CAMERA_ONLINE, EventType.RECORDING_OFFLINE, EventType.RECORDING_STALLED,
    EventType.RECORDING_STORAGE_FULL})


class RecordMode(StrEnum):
    """What a camera records (``cameras.record``)."""

    OFF = "off"
    CONTINUOUS = "continuous"
    EVENTS = "events"  # recorded continuously, kept only around events (retention prunes the rest)


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class EventStatus(StrEnum):
    """The human workflow of an event (the rule's own open/closed state is ``end`` being set)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class CameraState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    TAMPER = "tamper"
    DISABLED = "disabled"


@dataclass(slots=True)
class Frame:
    """One decoded frame handed from a reader to vision."""

    camera_id: int
    image: np.ndarray  # BGR, HxWx3, uint8
    captured_at: float  # wall clock, unix seconds, when the frame was read (or source time for files)
    index: int  # frame number in the source stream
    pts_s: float | None = None  # presentation time in the stream, seconds, when known

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.image.shape[:2]
        return width, height


@dataclass(slots=True)
class Detections:
    """Boxes of one frame: parallel arrays, pixels of the source frame."""

    xyxy: np.ndarray  # (N, 4) float32
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int16, index into CLASSES
    tracker_id: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # (N,) or empty

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.empty((0, 4), dtype=np.float32),
            confidence=np.empty(0, dtype=np.float32),
            class_id=np.empty(0, dtype=np.int16),
            tracker_id=np.empty(0, dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: np.ndarray | slice) -> Detections:
        tracked = self.tracker_id[index] if len(self.tracker_id) == len(self) else self.tracker_id
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index], tracked)

    @property
    def class_names(self) -> list[str]:
        return [CLASSES[int(c)] for c in self.class_id]

    @property
    def foot_points(self) -> np.ndarray:
        """(N, 2) bottom-centre of each box: where a person stands or a vehicle touches the road."""
        return np.stack(((self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]), axis=1)


@dataclass(slots=True)
class Track:
    """One tracked object as the rules see it, in normalized 0..1 coordinates of its camera."""

    track_id: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 normalized
    first_seen: float  # unix seconds
    last_seen: float

    @property
    def foot(self) -> tuple[float, float]:
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2, y2)


@dataclass(slots=True)
class Observation:
    """One measured value: a row of the ``observations`` time series."""

    time: datetime
    camera_id: int
    metric: str  # e.g. queue_length, zone_count, officer_present, line_count:car:in
    value: float
    zone_id: int | None = None


@dataclass(slots=True)
class Event:
    """An incident or alert. A rule opens it (end None), may update it, and closes it (end set).

    The same ``id`` is written again for each update; the store upserts by it.
    """

    type: EventType
    camera_id: int | None
    start: datetime
    severity: Severity = Severity.MEDIUM
    end: datetime | None = None
    zone_id: int | None = None
    counter_id: int | None = None
    site_id: int | None = None
    track_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    evidence_path: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(slots=True)
class CameraHealth:
    """A snapshot of one camera's health: a row of the ``camera_health`` time series."""

    time: datetime
    camera_id: int
    state: CameraState
    input_fps: float = 0.0
    analytics_fps: float = 0.0
    decode_errors: int = 0
    reconnects: int = 0
    last_frame_age_s: float | None = None
    width: int | None = None
    height: int | None = None
    lag_s: float | None = None


@dataclass(slots=True)
class CounterSession:
    """One citizen served at a counter: a row of ``counter_sessions``."""

    counter_id: int
    service_start: datetime
    service_end: datetime
    track_id: int | None = None
    queue_enter: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def service_s(self) -> float:
        return (self.service_end - self.service_start).total_seconds()

    @property
    def wait_s(self) -> float | None:
        if self.queue_enter is None:
            return None
        return (self.service_start - self.queue_enter).total_seconds()


@dataclass(frozen=True, slots=True)
class RecordedSegment:
    """One closed segment of a camera's main stream: a row of ``recording_segments``."""

    camera_id: int
    start: datetime  # wall clock of its first frame
    end: datetime
    path: str  # relative to the recordings area (core.media.recording_file resolves it)
    bytes: int
    node: str  # the worker that recorded it
    run_id: str  # one recorder process run: a new run is a discontinuity
    codec: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()
