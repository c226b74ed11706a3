"""What a camera is, as the other layers see it.

``CameraSource`` is the one value a reader needs: which camera, where its stream is, what kind of
source it is and how many frames per second analytics wants. Build one directly or with the helpers::

    CameraSource.from_file(7, "var/footage/vtest.mp4")                   # loops at its native rate
    CameraSource.from_file(7, "clip.mp4", loop=False, realtime=False)    # offline: as fast as decoded
    CameraSource.from_rtsp(3, "rtsp://10.0.0.5/stream2", username="u", password="p", analytics_fps=5)

Credentials are already resolved (decrypted) here; ``password`` never appears in ``repr`` and
``display_uri`` is the form to log. ``open_uri`` puts the credentials into an RTSP URL for the decoder.
The registry's own rows (sites, cameras, counters, zones) are the ``*Record`` types below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from cameras.geometry import ZoneSpec
from core.redact import PASSWORD_PARAMS


class SourceKind(StrEnum):
    ONVIF = "onvif"  # an ONVIF camera: its RTSP stream URI came from GetStreamUri
    RTSP = "rtsp"  # a bare RTSP URL
    FILE = "file"  # a video file: loops at its native rate (demo) or is read once (offline analysis)


class SiteKind(StrEnum):
    SERVICE_CENTER = "service_center"
    STREET = "street"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CameraSource:
    """Everything a reader needs to pull frames from one camera."""

    id: int
    uri: str  # rtsp:// URL without credentials, or a file path
    kind: SourceKind = SourceKind.RTSP
    analytics_fps: float | None = None  # None: settings.ingest.analytics_fps
    name: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    loop: bool = True  # file cameras: start again at the end
    realtime: bool = True  # file cameras: pace at the native frame rate (False: as fast as decoded)
    site_id: int | None = None  # copied into the camera's events

    @classmethod
    def from_file(cls, camera_id: int, path: str | Path, *, analytics_fps: float | None = None,
                  loop: bool = True, realtime: bool = True, name: str = "") -> CameraSource:
        return cls(camera_id, str(path), SourceKind.FILE, analytics_fps, name or Path(path).stem,
                   loop=loop, realtime=realtime)

    @classmethod
    def from_rtsp(cls, camera_id: int, url: str, *, username: str | None = None, password: str | None = None,
                  analytics_fps: float | None = None, name: str = "",
                  kind: SourceKind = SourceKind.RTSP) -> CameraSource:
        """A stream URL; credentials inside the URL are moved to ``username``/``password``."""
        clean, url_user, url_password = split_credentials(url)
        if url_user is not None and username is None:
            username = url_user
        if url_password is not None and password is None:
            password = url_password
        return cls(camera_id, clean, kind, analytics_fps, name, username, password)

    @property
    def is_file(self) -> bool:
        return self.kind == SourceKind.FILE

    @property
    def open_uri(self) -> str:
        """The URI to hand to the decoder, credentials included. Never log it."""
        if self.is_file or not (self.username or self.password):
            return self.uri
        return with_credentials(self.uri, self.username, self.password)

    @property
    def display_uri(self) -> str:
        """The URI safe to log and show (no credentials)."""
        return self.uri if self.is_file else strip_credentials(self.uri)

    def label(self) -> str:
        return self.name or f"camera {self.id}"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without secrets, username, password)``. Secrets are ``user:password@`` and query parameters that
    carry a password (``?user=admin&pwd=...``, as some cameras' snapshot and stream URLs do): such a parameter
    stays in the URL with an empty value, which ``with_credentials`` fills in again when the camera is opened."""
    parts = urlsplit(url)
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    query = parts.query
    if query and "=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_param(key) and value for key, value in pairs):
            kept = []
            for key, value in pairs:
                if _secret_param(key):
                    password = password if password is not None or not value else value
                    value = ""
                kept.append((key, value))
            query = urlencode(kept, safe="/:")
    if netloc == parts.netloc and query == parts.query:
        return url, username, password
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), username, password


def _secret_param(key: str) -> bool:
    return key.lower() in PASSWORD_PARAMS


def strip_credentials(url: str) -> str:
    """The URL without ``user:password@`` and with password query parameters blanked."""
    return split_credentials(url)[0]


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL with ``user:password@`` (percent-encoded) in front of the host when there is a user name, and
    the password in the blanked password query parameters it has (see ``split_credentials``)."""
    parts = urlsplit(strip_credentials(url))
    netloc = parts.netloc
    if username:
        auth = quote(username, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        netloc = f"{auth}@{netloc}"
    query = parts.query
    if password is not None and query and "=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_param(key) for key, _ in pairs):
            query = urlencode([(k, password if _secret_param(k) else v) for k, v in pairs], safe="/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(slots=True)
class SiteRecord:
    """A service center or a street point (a row of ``sites``)."""

    code: str
    name: str
    kind: SiteKind = SiteKind.SERVICE_CENTER
    level: str | None = None  # province | district | commune
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    working_hours: dict[str, Any] = field(default_factory=dict)  # core.calendar.WorkingCalendar.to_dict()
    capacity: int | None = None
    id: int | None = None


@dataclass(slots=True)
class CameraRecord:
    """A registered camera (a row of ``cameras``); the password is never held here in clear."""

    site_id: int
    name: str
    source_kind: SourceKind = SourceKind.ONVIF
    onvif_host: str | None = None
    onvif_port: int | None = None
    username: str | None = None
    has_password: bool = False
    main_uri: str | None = None
    sub_uri: str | None = None
    snapshot_uri: str | None = None
    analytics_fps: float | None = None
    enabled: bool = True
    position: dict[str, float] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    snapshot_path: str | None = None
    state: str = "starting"
    id: int | None = None

    @property
    def analytics_uri(self) -> str | None:
        """The stream analytics reads: the sub-stream, else the main stream."""
        return self.sub_uri or self.main_uri


@dataclass(slots=True)
class CounterRecord:
    """A service counter of a site (a row of ``counters``) and the camera/zones that watch it."""

    site_id: int
    number: int
    department: str
    officer: str | None = None
    camera_id: int | None = None
    staff_zone_id: int | None = None
    customer_zone_id: int | None = None
    id: int | None = None


@dataclass(slots=True)
class ZoneRecord:
    """A zone of a camera (a row of ``zones``): the validated geometry plus its ids."""

    camera_id: int
    spec: ZoneSpec
    id: int | None = None
