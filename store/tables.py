"""The time-series tables as the writer sees them: columns, row conversion, validation, spool encoding.

A row is a plain tuple in column order (what COPY and INSERT take); the spool stores it as JSON with
timestamps in ISO 8601 and UUIDs as text, and ``decode`` gives the same tuple back.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.redact import redact_value
from core.types import CameraHealth, CounterSession, Event, Observation, utcnow
from store.errors import StoreInputError

MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_METRIC_LENGTH = 100
Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableSpec:
    """One time-series table: its columns as the writer sends them and what a conflicting row does.

    Types are those of the staging table and of the parameters (JSON travels as text and is cast once).
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    on_conflict: str
    # Events take their site from the camera when the rule did not set it.
    select_exprs: tuple[str, ...] | None = None
    join: str = ""

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def types(self) -> list[str]:
        return [pg_type for _, pg_type in self.columns]


OBSERVATIONS = TableSpec(
    "observations",
    (("time", "timestamptz"), ("camera_id", "int8"), ("zone_id", "int8"), ("metric", "text"), ("value", "float8")),
    "ON CONFLICT DO NOTHING",
)
EVENTS = TableSpec(
    "events",
    (("id", "uuid"), ("time", "timestamptz"), ("end_time", "timestamptz"), ("site_id", "int8"),
     ("camera_id", "int8"), ("zone_id", "int8"), ("counter_id", "int8"), ("type", "text"), ("severity", "text"),
     ("track_id", "int8"), ("attributes", "text"), ("evidence_path", "text"), ("updated_at", "timestamptz")),
    # Only the rule-owned fields change; status/assignee belong to people. An older version (spool replay,
    # a second writer thread) never overwrites a newer one.
    "ON CONFLICT (id, time) DO UPDATE SET end_time = EXCLUDED.end_time, severity = EXCLUDED.severity,"
    " attributes = EXCLUDED.attributes, evidence_path = EXCLUDED.evidence_path, updated_at = EXCLUDED.updated_at"
    " WHERE events.updated_at <= EXCLUDED.updated_at",
    select_exprs=("s.id", "s.time", "s.end_time", "coalesce(s.site_id, c.site_id)", "s.camera_id", "s.zone_id",
                  "s.counter_id", "s.type", "s.severity", "s.track_id", "s.attributes::jsonb", "s.evidence_path",
                  "s.updated_at"),
    join="LEFT JOIN cameras c ON c.id = s.camera_id",
)
COUNTER_SESSIONS = TableSpec(
    "counter_sessions",
    (("id", "uuid"), ("time", "timestamptz"), ("service_end", "timestamptz"), ("counter_id", "int8"),
     ("camera_id", "int8"), ("track_id", "int8"), ("queue_enter", "timestamptz")),
    "ON CONFLICT DO NOTHING",
    select_exprs=("s.id", "s.time", "s.service_end", "s.counter_id", "coalesce(s.camera_id, k.camera_id)",
                  "s.track_id", "s.queue_enter"),
    join="LEFT JOIN counters k ON k.id = s.counter_id",
)
CAMERA_HEALTH = TableSpec(
    "camera_health",
    (("time", "timestamptz"), ("camera_id", "int8"), ("state", "text"), ("input_fps", "float4"),
     ("analytics_fps", "float4"), ("decode_errors", "int8"), ("reconnects", "int8"),
     ("last_frame_age_s", "float4"), ("width", "int4"), ("height", "int4"), ("lag_s", "float4")),
    "ON CONFLICT DO NOTHING",
)
TABLES: dict[str, TableSpec] = {t.name: t for t in (OBSERVATIONS, EVENTS, COUNTER_SESSIONS, CAMERA_HEALTH)}


def _aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise StoreInputError(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise StoreInputError(field, "must carry a time zone (naive datetimes are ambiguous)")
    return value


def observation_row(obs: Observation) -> Row:
    if not obs.metric or len(obs.metric) > MAX_METRIC_LENGTH:
        raise StoreInputError("observation.metric", f"must be 1..{MAX_METRIC_LENGTH} characters")
    value = float(obs.value)
    if not math.isfinite(value):
        raise StoreInputError("observation.value", f"must be a finite number, got {obs.value!r}")
    return (_aware(obs.time, "observation.time"), obs.camera_id, obs.zone_id, obs.metric, value)


def event_row(event: Event, updated_at: datetime | None = None) -> Row:
    try:
        # Producers quote camera errors here; nothing stored may carry a camera's credentials.
        attributes = json.dumps(redact_value(event.attributes), ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:
        raise StoreInputError("event.attributes", f"not representable as JSON: {exc}") from None
    size = len(attributes.encode())
    if size > MAX_ATTRIBUTES_BYTES:
        raise StoreInputError("event.attributes", f"{size} bytes of JSON, the limit is {MAX_ATTRIBUTES_BYTES}")
    start = _aware(event.start, "event.start")
    if event.end is not None and _aware(event.end, "event.end") < start:
        raise StoreInputError("event.end", "is before event.start")
    return (event.id, start, event.end, event.site_id, event.camera_id, event.zone_id, event.counter_id,
            str(event.type), str(event.severity), event.track_id, attributes, event.evidence_path,
            updated_at or utcnow())


def session_row(session: CounterSession, camera_id: int | None = None) -> Row:
    start = _aware(session.service_start, "counter_session.service_start")
    if _aware(session.service_end, "counter_session.service_end") < start:
        raise StoreInputError("counter_session.service_end", "is before service_start")
    if session.queue_enter is not None and _aware(session.queue_enter, "counter_session.queue_enter") > start:
        raise StoreInputError("counter_session.queue_enter", "is after service_start")
    return (session.id, start, session.service_end, session.counter_id, camera_id, session.track_id,
            session.queue_enter)


def health_row(health: CameraHealth) -> Row:
    return (_aware(health.time, "camera_health.time"), health.camera_id, str(health.state), health.input_fps,
            health.analytics_fps, health.decode_errors, health.reconnects, health.last_frame_age_s,
            health.width, health.height, health.lag_s)


def latest_event_versions(rows: Sequence[Row]) -> list[Row]:
    """One row per event id, the newest version (ON CONFLICT cannot touch one row twice in a statement)."""
    newest: dict[Any, Row] = {}
    for row in rows:
        key = (row[0], row[1])
        kept = newest.get(key)
        if kept is None or kept[12] <= row[12]:
            newest[key] = row
    return list(newest.values())


# -- spool encoding -------------------------------------------------------------------------------
def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot spool {type(value).__name__}")


def encode_batch(table: str, rows: Sequence[Row]) -> str:
    """One spool line: ``{"t": table, "r": [[...], ...]}``."""
    return json.dumps({"t": table, "r": rows}, default=_encode_value, separators=(",", ":"))


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "timestamptz": datetime.fromisoformat,
    "uuid": uuid.UUID,
}


def decode_batch(line: str) -> tuple[str, list[Row]]:
    """The table and rows of one spool line, with datetimes and UUIDs restored."""
    document = json.loads(line)
    spec = TABLES[document["t"]]
    converters = [(i, _DECODERS[t]) for i, t in enumerate(spec.types) if t in _DECODERS]
    rows: list[Row] = []
    for raw in document["r"]:
        for index, convert in converters:
            value = raw[index]
            if value is not None:
                raw[index] = convert(value)
        rows.append(tuple(raw))
    return spec.name, rows
