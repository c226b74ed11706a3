"""The operations side of the settings tree (``core.settings`` assembles it): watching recorded footage, the
service centers' forecast and hall screen, the alarm center's clock and the map page. Kept apart from the
capture side (database, ingest, vision, recording, API) so each file stays readable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A part of the settings tree: unknown keys are errors, and assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PlaybackSettings(Section):
    """Watching and handing out recorded footage (the recorder's own settings are in ``record``; an event's clip
    runs from ``record.pre_roll_s`` before it to ``record.post_roll_s`` after it: the footage retention keeps)."""

    playlist_max_hours: float = Field(default=24.0, gt=0, le=24 * 7, description="Longest range one playlist "
                                                                                 "covers.")
    export_max_hours: float = Field(default=4.0, gt=0, le=72, description="Longest range one MP4 export covers.")
    export_timeout_s: float = Field(default=600.0, gt=0, le=7200, description="An export's ffmpeg run is "
                                                                               "stopped after this long.")
    live_audit_window_s: float = Field(
        default=600.0, ge=0, le=86400,
        description="One audit row per person and camera for live viewing within this long (a live playlist is "
                    "fetched every few seconds); 0: a row per playlist request.")
    engineers_view: bool = Field(
        default=False, description="Engineers may watch (not export) the recordings of the cameras of their "
                                   "sites, e.g. to check a new camera records; off: only the footage's audience.")


class CentersSettings(Section):
    """Service centers: the wait forecast and the public hall screen (issue 17)."""

    default_service_s: float = Field(
        default=300.0, gt=0, le=86400,
        description="Service time the wait forecast assumes for a department that has served nobody recently.")
    recent_sessions: int = Field(default=20, ge=1, le=1000,
                                 description="The forecast's service rate: the mean of this many latest sessions.")
    recent_window_s: float = Field(default=7200.0, gt=0, le=86400,
                                   description="... ended within this long (older ones say little about now).")
    hall_refresh_s: float = Field(default=5.0, ge=1, le=300, description="The hall screen asks for news this often.")
    hall_max_wrong_keys: int = Field(
        default=10, ge=1, le=10_000,
        description="Wrong display keys one client address may send within hall_lockout_s before it is refused "
                    "(429) for as long.")
    hall_lockout_s: float = Field(default=300.0, ge=1, le=86400,
                                  description="Window the wrong display keys are counted in, and the lock-out.")


class AlarmSettings(Section):
    """The alarm center's clock: how long an alarm of each priority may wait for acknowledgement before it is
    escalated, and how often the API looks (which events raise alarms is per site, in the database)."""

    p1_ack_s: float = Field(default=60.0, gt=0, le=86400, description="A priority 1 alarm not acknowledged within "
                                                                      "this long is escalated to the supervisors.")
    p2_ack_s: float = Field(default=120.0, gt=0, le=86400, description="The same for priority 2.")
    p3_ack_s: float = Field(default=300.0, gt=0, le=86400, description="The same for priority 3.")
    p4_ack_s: float = Field(default=900.0, gt=0, le=86400, description="The same for priority 4.")
    p5_ack_s: float = Field(default=1800.0, gt=0, le=86400, description="The same for priority 5.")
    escalation_check_s: float = Field(
        default=1.0, gt=0, le=60, description="Longest the escalation clock sleeps: a newly raised alarm's deadline "
                                              "is seen within this long (known deadlines are met to the moment).")
    auto_close_check_s: float = Field(default=30.0, gt=0, le=3600,
                                      description="How often alarms are checked for their rule's auto-close.")
    related_window_s: float = Field(
        default=300.0, gt=0, le=86400,
        description="The alarm detail shows a neighbouring camera's event picture taken within this long of the "
                    "alarm; its live picture only while the alarm is this recent.")

    @property
    def ack_s(self) -> tuple[float, float, float, float, float]:
        """The acknowledgement time of priorities 1..5, in seconds."""
        return (self.p1_ack_s, self.p2_ack_s, self.p3_ack_s, self.p4_ack_s, self.p5_ack_s)


class MapSettings(Section):
    """The map page: uploaded site plans, and a city map from the operations center's own tile server."""

    tile_url: str | None = Field(
        default=None, max_length=500, pattern=r"^https?://[A-Za-z0-9.:\[\]{}-]+/[^\s;'\"]*\{z\}[^\s;'\"]*$",
        description="Tile URL of the city map, with {z}, {x} and {y} (and optionally {s}), e.g. "
                    "https://tiles.ioc.example/{z}/{x}/{y}.png. Empty: no city map (nothing is fetched from the "
                    "internet). Its origin is allowed in the console's content security policy.")
    tile_attribution: str = Field(default="", max_length=300, description="Text shown in the city map's corner.")
    tile_max_zoom: int = Field(default=19, ge=1, le=24, description="The tile server's deepest zoom level.")
    center_latitude: float = Field(default=10.7769, ge=-90, le=90, description="Where the city map opens (latitude).")
    center_longitude: float = Field(default=106.7009, ge=-180, le=180, description="... and longitude.")
    zoom: int = Field(default=14, ge=0, le=24, description="The city map's zoom level when it opens.")
    plan_max_bytes: int = Field(default=10_000_000, ge=10_000, le=100_000_000,
                                description="Largest site plan picture accepted (PNG, JPEG or WebP).")
    plan_max_pixels: int = Field(default=40_000_000, ge=10_000, le=400_000_000,
                                 description="Largest site plan picture in pixels (width x height).")

    @property
    def tile_origin(self) -> str | None:
        """The tile server's scheme://host[:port] (the content security policy allows its pictures)."""
        if not self.tile_url:
            return None
        scheme, _, rest = self.tile_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}".replace("{s}", "*")
