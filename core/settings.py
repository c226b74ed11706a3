"""The one settings tree: a YAML file plus ``VIGIL_`` environment variables.

The tree mirrors the YAML one to one, so a wrong key or value fails at start with its dotted path
(``vision.max_batch: Input should be greater than 0``). Environment variables override the file and use
``__`` between levels: ``VIGIL_VISION__MAX_BATCH=4``. ``DATABASE_URL`` is honoured as well.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from core import media
from core.settings_ops import AlarmSettings, CentersSettings, MapSettings, PlaybackSettings
from core.settings_ops import Section as _Section

CONFIG_ENV = "VIGIL_CONFIG"
# The YAML file of the load in progress (settings sources are chosen per class, not per call).
_YAML_FILE: ContextVar[Path | None] = ContextVar("vigil_settings_yaml", default=None)
DEFAULT_CONFIG_FILE = Path("vigil.yaml")


class SettingsError(Exception):
    """Settings could not be loaded; the message names every bad key and why."""


class DatabaseSettings(_Section):
    url: str | None = Field(
        default=None,
        description="postgresql:// URL of an existing server. Empty: run the embedded cluster.",
    )
    embedded_port: int = Field(default=55432, ge=1024, le=65535, description="Port of the embedded cluster.")
    pool_size: int = Field(default=8, ge=1, le=200, description="Connections per API process.")
    pool_timeout_s: float = Field(
        default=2.0, gt=0, le=300,
        description="A request waits at most this long for a database connection, then answers 503 "
                    "database_unavailable (the database is down, or every connection is busy).")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120, description="Give up connecting after this long.")
    statement_timeout_s: float = Field(
        default=60.0, ge=0, le=3600,
        description="The API's queries run at most this long: the server stops a longer one (or one stuck behind a "
                    "lock) and the request answers 503 query_timeout, so it cannot hold one of the pool's few "
                    "connections for good (0: no limit). Reports are bounded by their range limits and take well "
                    "under a second (docs/benchmarks.md).")


class StoreSettings(_Section):
    retention_days: int = Field(default=90, ge=1, description="Raw observations/health older than this go.")
    event_retention_days: int = Field(default=365, ge=1, description="Events older than this go.")
    compress_after_days: int = Field(default=7, ge=1, description="TimescaleDB: compress chunks this old.")
    writer_queue_max: int = Field(default=200_000, ge=1000, description="Rows held in memory before spooling.")
    writer_batch_rows: int = Field(default=5000, ge=1, le=1_000_000, description="Rows per COPY batch.")
    writer_flush_interval_s: float = Field(default=0.5, gt=0, le=60, description="Longest a row waits in memory.")
    writer_threads: int = Field(default=1, ge=1, le=16, description="Parallel database writers.")
    spool_segment_rows: int = Field(default=20_000, ge=100, description="Rows per disk-spool segment file.")
    rollup_refresh_interval_s: float = Field(
        default=60.0, gt=0, description="Plain PostgreSQL: refresh rollups this often."
    )


class TamperSettings(_Section):
    """Camera tamper checks on the analytics frames (ingest/tamper.py tells how each is judged)."""

    enabled: bool = Field(default=True, description="Check for blackout, frozen image, defocus and moved camera.")
    learn_s: float = Field(default=5.0, gt=0, le=3600, description="Normal frames seen before references count.")
    blackout_std: float = Field(default=6.0, ge=0, le=128, description="Grey-level spread below this is black.")
    blackout_s: float = Field(default=2.0, gt=0, le=3600, description="Black this long = a tamper_blackout.")
    frozen_s: float = Field(default=8.0, gt=0, le=3600, description="The same picture this long = frozen.")
    frozen_change: float = Field(default=0.0005, ge=0, le=1,
                                 description="Share of full-resolution pixels changed by > 2 levels below which "
                                             "a picture repeats the last.")
    motion_change: float = Field(default=0.003, ge=0, le=1, description="Share that counts as motion in the scene.")
    motion_memory_s: float = Field(default=300.0, gt=0, le=86400,
                                   description="A scene that moved within this long may not freeze unnoticed.")
    defocus_ratio: float = Field(default=0.3, gt=0, lt=1, description="Sharpness below this share of normal = defocus.")
    defocus_s: float = Field(default=3.0, gt=0, le=3600, description="Defocused this long = a tamper_defocus.")
    moved_correlation: float = Field(default=0.45, gt=-1, lt=1,
                                     description="Edge-image correlation with the reference below this = moved.")
    moved_s: float = Field(default=10.0, gt=0, le=3600, description="Moved this long = a tamper_moved.")
    background_rate: float = Field(default=0.15, gt=0, le=1, description="Weight of each frame in the slow background.")


class IngestSettings(_Section):
    analytics_fps: float = Field(default=2.0, gt=0, le=60, description="Frames/s handed to vision for a camera "
                                 "without zones (cameras with zones take their role's rate below).")
    counter_fps: float = Field(default=2.0, gt=0, le=60, description="Frames/s of a camera watching counters or "
                               "queues, unless the camera sets its own (people standing and walking indoors).")
    street_fps: float = Field(default=5.0, gt=0, le=60, description="Frames/s of a camera watching a street "
                              "(lanes, lines, no-stopping, restricted or crowd zones), unless the camera sets its "
                              "own: a car crosses the view in a few seconds.")
    open_timeout_s: float = Field(default=5.0, gt=0, le=120, description="Give up opening a stream after this long.")
    read_timeout_s: float = Field(default=5.0, gt=0, le=120, description="A read blocking this long fails.")
    watchdog_s: float = Field(default=4.0, gt=0, le=120, description="No frame for this long = stalled.")
    offline_grace_s: float = Field(default=10.0, ge=0, le=3600, description="Lost this long = camera_offline.")
    backoff_initial_s: float = Field(default=0.5, gt=0, description="First reconnect delay.")
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest reconnect delay.")
    decode: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto and cpu decode on the CPU (cheaper than NVDEC plus copy-back, measured); "
        "cuda forces NVDEC."
    )
    health_interval_s: float = Field(default=10.0, gt=0, description="Write camera health this often.")
    tamper: TamperSettings = Field(default_factory=TamperSettings)


class VisionSettings(_Section):
    model: str = Field(default="yolov3-tiny", description="yolov3-tiny, person-yolov8s, or a model path.")
    imgsz: int = Field(default=416, ge=64, le=4096, description="Detector input size in pixels.")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N.")
    backend: Literal["auto", "torch", "onnxruntime", "openvino", "opencv"] = Field(
        default="auto", description="What runs the model on a CPU: auto = the fastest installed whose exported model "
                                    "setup made (person-yolov8s: OpenVINO, then ONNX Runtime, then torch; yolov3-tiny: "
                                    "OpenVINO where its boxes agree with OpenCV DNN's, else OpenCV DNN); opencv runs "
                                    "Darknet models only; GPU hosts run torch on CUDA whatever this says.")
    int8: Literal["auto", "on", "off"] = Field(
        default="auto", description="The int8 model on ONNX Runtime/OpenVINO: auto = only when setup measured its "
                                    "boxes agreeing with fp32's (models/person-yolov8s-int8.json).")
    detectors: int = Field(
        default=0, ge=0, le=64, description="Detector instances of a worker on a CPU, each with its own thread and "
                                            "cameras (0: one per core); 1 on a GPU host.")
    confidence: float = Field(default=0.35, gt=0, lt=1, description="Detections below this are dropped.")
    iou: float = Field(default=0.45, gt=0, lt=1, description="Non-maximum suppression overlap.")
    max_batch: int = Field(default=8, ge=1, le=256, description="Frames per detector call.")
    max_wait_ms: float = Field(default=30.0, ge=0, le=5000, description="Longest wait to fill a batch.")
    motion_gate: bool = Field(default=True, description="Skip detection on cameras without motion.")
    motion_threshold: float = Field(default=0.002, ge=0, le=1, description="Share of changed pixels.")
    forced_refresh_s: float = Field(default=3.0, gt=0, le=600, description="Detect at least this often anyway.")
    regions: bool = Field(
        default=False, description="Region detection: on motion, detect only crops of the moving areas at the "
                                   "model's input size (far people seen larger); the whole frame at each refresh.")
    counter_regions: bool = Field(
        default=True, description="Region detection on counter cameras only (those with counter or queue zones): "
                                  "packed queues are counted right (busy counter at 2 fps: queue MAE 1.11 -> 0.33, "
                                  "waits 28 -> 1.3 %) at 20 instead of 23 counter cameras per 2 cores "
                                  "(docs/benchmarks.md); false: whole frames, for short queues only.")
    max_regions: int = Field(default=4, ge=1, le=32, description="More crops than this in a frame: the whole "
                                                                 "frame instead.")
    region_mosaic: bool = Field(
        default=True, description="Two to four crops go to the detector as one picture (scaled into a grid) where "
                                  "that still shows each crop larger than the whole frame would (a 1080p camera; "
                                  "not a 768-px one at 416): a frame costs at most one detector call; false: "
                                  "each crop at the model's own scale, one call each.")
    evidence_jpeg_quality: int = Field(default=85, ge=10, le=100, description="JPEG quality of evidence.")
    camera_processes: int = Field(
        default=-1, ge=-1, le=256,
        description="Processes that decode, gate and track the cameras while the detector runs in the worker's "
                    "own: -1 auto (none on a CPU, where the cores are the detector's; on a GPU host one per core "
                    "but one, at most one per camera); 0 everything in one process; N that many.")


class RecordSettings(_Section):
    """The recorder (record/): each camera's main stream copied by ffmpeg into short segments, and retention."""

    segment_s: float = Field(default=2.0, ge=0.5, le=60,
                             description="Target segment length (ffmpeg cuts at the next key frame after it).")
    live_segments: int = Field(default=6, ge=2, le=100, description="Segments listed in the live playlist.")
    io_timeout_s: float = Field(default=5.0, gt=0, le=120,
                                description="ffmpeg gives up on a camera that sends nothing for about twice this.")
    stall_s: float = Field(default=12.0, gt=0, le=3600,
                           description="No new segment for this long while ffmpeg runs = stalled: it is killed and "
                                       "restarted (a recording_stalled event). Keep it above a few key-frame "
                                       "intervals of the slowest camera (a segment ends at a key frame).")
    offline_grace_s: float = Field(default=10.0, ge=0, le=3600,
                                   description="Nothing recorded for this long = a recording_offline event.")
    backoff_initial_s: float = Field(default=1.0, gt=0, le=600, description="First restart delay of a recorder.")
    backoff_max_s: float = Field(default=30.0, gt=0, le=3600, description="Longest restart delay.")
    index_interval_s: float = Field(default=1.0, gt=0, le=60,
                                    description="How often the live playlists are read for closed segments.")
    days: int = Field(default=30, ge=1, le=3650,
                      description="Continuous footage is kept this many days (a site's or camera's record_days wins).")
    event_days: int = Field(default=90, ge=1, le=3650,
                            description="Footage around events is kept this many days (record_event_days wins); "
                                        "at least days.")
    pre_roll_s: float = Field(default=10.0, ge=0, le=3600, description="Footage kept (and clipped) before an event.")
    post_roll_s: float = Field(default=10.0, ge=0, le=3600, description="Footage kept (and clipped) after an event.")
    events_buffer_s: float = Field(
        default=1800.0, ge=60, le=86400,
        description="Cameras that record 'events': continuous footage is kept this long before footage away from "
                    "events is pruned (longer than any rule takes to open its event).")
    max_disk_percent: float | None = Field(
        default=90.0, gt=0, le=100,
        description="Disk budget: the volume of the recordings area may be this full; the oldest continuous footage "
                    "goes first. Empty: no percentage limit.")
    max_bytes: int | None = Field(default=None, gt=0,
                                  description="Disk budget: footage may take this many bytes. Empty: no byte limit.")
    storage_alarm_percent: float = Field(
        default=90.0, gt=0, le=100,
        description="Footage that retention may not delete (held, or around events) over this share of the budget "
                    "opens a recording_storage_full alarm (closed below 10 points less).")
    retention_interval_s: float = Field(default=300.0, ge=1, le=86400, description="How often retention runs.")
    ffmpeg: str = Field(default="ffmpeg", description="The ffmpeg program that records.")
    ffprobe: str = Field(default="ffprobe", description="The ffprobe program that reads a segment's codec and size.")

    @model_validator(mode="after")
    def _event_days_cover_days(self) -> RecordSettings:
        if self.event_days < self.days:
            raise ValueError(f"record.event_days ({self.event_days}) must be at least record.days ({self.days}): "
                             "footage around events is kept at least as long as the rest")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("record.backoff_max_s must be at least record.backoff_initial_s")
        return self


class ApiSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address the API and console listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port of the API and console.")
    session_secret: str | None = Field(default=None, description="Empty: a key file in the data folder.")
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="Sign-in lasts this long.")
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Larger request bodies get 413.")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins (or password changes) for one user name from one client "
                                     "address within login_lockout_s before that name is locked out there.")
    login_max_failures_per_addr: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address, whatever the names, within "
                                      "login_lockout_s before the address is locked out.")
    login_lockout_s: float = Field(default=300.0, ge=1, description="Window the failures are counted in, and "
                                                                      "how long a lock-out lasts.")
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses or networks (10.0.0.0/8) of the reverse proxies whose X-Forwarded-Proto and "
                    "X-Forwarded-For are believed. Empty: nobody's (the headers are ignored).")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="The session cookie's Secure flag: auto = when the request came over HTTPS "
                                    "(itself or through a trusted proxy); always (behind any TLS proxy); never.")
    metrics_token: str | None = Field(
        default=None, min_length=16,
        description="A bearer token that may read /metrics (Prometheus). Empty: only a signed-in admin may.")
    header_timeout_s: float = Field(
        default=10.0, gt=0, le=300,
        description="A connection that has not sent a whole request head (request line and headers) in this "
                    "long is closed (slow-header attacks).")
    max_streams_per_user: int = Field(
        default=100, ge=1, le=100_000,
        description="Live streams (event feeds, previews, picture streams) one user may hold open at once in one "
                    "API process; one more is a 429.")
    stream_recheck_s: float = Field(
        default=10.0, ge=1, le=300,
        description="A live stream (events, alarms, camera pictures) checks its user's sign-in this often and "
                    "ends once it was signed out, deactivated or given other sites or another role.")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (such as 10.0.0.0/8)") from None
        return value


class Settings(BaseSettings):
    """Root of the settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIL_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(default=Path("var"), description="Database cluster, spool, evidence, keys.")
    models_dir: Path = Field(default=Path("models"), description="Where setup put the model weights.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of every process."
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Default time zone of new sites (IANA name).")
    secret_key_file: Path | None = Field(
        default=None, description="Key that encrypts camera passwords. Empty: DATA_DIR/secret.key."
    )
    database: DatabaseSettings = DatabaseSettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    vision: VisionSettings = VisionSettings()
    record: RecordSettings = RecordSettings()
    api: ApiSettings = ApiSettings()
    playback: PlaybackSettings = PlaybackSettings()
    centers: CentersSettings = CentersSettings()
    alarms: AlarmSettings = AlarmSettings()
    map: MapSettings = MapSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from core.calendar import check_timezone

        return check_timezone(value)  # a CalendarError is a ValueError: pydantic names the key

    @property
    def database_url(self) -> str | None:
        """The external server's URL, or None when the embedded cluster is used."""
        return self.database.url or os.environ.get("DATABASE_URL") or None

    @property
    def key_file(self) -> Path:
        return self.secret_key_file or media.key_file(self.data_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_file = _YAML_FILE.get()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per bad key: ``vision.max_batch: Input should be greater than 0 (got 0)``."""
    lines = [f"Invalid settings ({source}):"]
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(root)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        got = item.get("input")
        shown = "" if isinstance(got, dict | list) or item["type"] == "extra_forbidden" else f" (got {got!r})"
        lines.append(f"  {path}: {message}{shown}")
    return "\n".join(lines)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load and validate the settings; raise SettingsError naming each bad key.

    The file is ``config_file``, else ``$VIGIL_CONFIG``, else ``./vigil.yaml`` when it exists.
    """
    explicit = config_file or os.environ.get(CONFIG_ENV)
    path = Path(explicit) if explicit else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    if path is not None:
        if not path.exists():
            raise SettingsError(f"Settings file {path} does not exist")
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SettingsError(f"Settings file {path} is not valid YAML: {exc}") from exc
        if content is not None and not isinstance(content, dict):
            raise SettingsError(f"Settings file {path} must hold a mapping at its top level")
    source = f"{path} and VIGIL_* environment" if path else "VIGIL_* environment"
    token = _YAML_FILE.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc, source)) from None
    finally:
        _YAML_FILE.reset(token)
