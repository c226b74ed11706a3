"""Onboarding: turn what an engineer types (an ONVIF address, an RTSP URL, a video file) into a camera
record ready to store, with its streams chosen and a snapshot taken.

ONVIF: the main stream (largest H.264/H.265 profile) is for recording and preview; analytics reads the
smallest profile at least ``min_width`` pixels wide (the detector's input size: nothing is gained by
decoding more, and upscaling loses), else the main stream. The snapshot comes from the camera's
snapshot URI, or from the first picture of the stream when the camera has none.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cameras.models import CameraRecord, CameraSource, SourceKind, strip_credentials
from cameras.onvif import DeviceReport, OnvifError, fetch_snapshot, probe
from core.redact import redact

log = logging.getLogger(__name__)


class StreamUnreadable(RuntimeError):
    """The stream or file gives no picture (the message says why)."""


@dataclass
class Onboarded:
    record: CameraRecord
    password: str | None = None
    snapshot_jpeg: bytes | None = None
    report: DeviceReport | None = None
    notes: list[str] = field(default_factory=list)


def grab_jpeg(uri: str, timeout_s: float = 10.0, username: str | None = None, password: str | None = None) -> bytes:
    """The first decoded picture of a stream or file, as JPEG bytes."""
    import av
    import cv2

    source = CameraSource.from_rtsp(0, uri, username=username, password=password) if "://" in uri else None
    target = source.open_uri if source else uri
    options = {"rtsp_transport": "tcp"} if target.startswith("rtsp") else {}
    try:
        with av.open(target, options=options, timeout=(timeout_s, timeout_s)) as container:
            for frame in container.decode(video=0):
                ok, jpeg = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    return jpeg.tobytes()
    except (av.error.FFmpegError, OSError) as exc:
        secrets = [password, source.password if source else None]
        raise StreamUnreadable(redact(f"{strip_credentials(uri)}: {exc}", secrets)) from None
    raise StreamUnreadable(f"{strip_credentials(uri)}: no picture in the stream")


async def onboard_onvif(host: str, port: int, username: str | None, password: str | None, *, site_id: int,
                        name: str, analytics_fps: float | None = None, min_width: int = 416,
                        timeout_s: float = 8.0, max_skew_s: float = 86400.0, snapshot: bool = True) -> Onboarded:
    """Probe, choose the main and analytics streams, take a snapshot; raises OnvifError subclasses."""
    report = await probe(host, port, username, password, timeout_s=timeout_s, max_skew_s=max_skew_s)
    main = report.main_profile()
    analytics = report.analytics_profile(min_width)
    info = report.to_info()
    info["main_profile"], info["analytics_profile"] = main.token, analytics.token
    record = CameraRecord(site_id=site_id, name=name, source_kind=SourceKind.ONVIF, onvif_host=host, onvif_port=port,
                          username=username, has_password=bool(password), main_uri=main.stream_uri,
                          sub_uri=analytics.stream_uri if analytics.token != main.token else None,
                          snapshot_uri=main.snapshot_uri or analytics.snapshot_uri, analytics_fps=analytics_fps,
                          info=info)
    result = Onboarded(record, password, report=report)
    if report.clock_corrected:
        result.notes.append(f"camera clock is {report.clock_skew_s:+.0f} s off ours: corrected automatically; "
                            "enable NTP on the camera")
    if snapshot:
        result.snapshot_jpeg = await _onvif_snapshot(record, username, password, timeout_s, result.notes)
    return result


async def _onvif_snapshot(record: CameraRecord, username: str | None, password: str | None, timeout_s: float,
                          notes: list[str]) -> bytes | None:
    if record.snapshot_uri:
        try:
            return await fetch_snapshot(record.snapshot_uri, username, password, timeout_s)
        except (TimeoutError, OnvifError, OSError) as exc:
            notes.append(redact(f"snapshot URI failed ({exc}); took a picture from the stream instead", [password]))
    try:
        return await asyncio.to_thread(grab_jpeg, record.main_uri or "", timeout_s, username, password)
    except StreamUnreadable as exc:
        notes.append(f"no snapshot: {exc}")
        return None


def onboard_stream(url: str, *, site_id: int, name: str, username: str | None = None, password: str | None = None,
                   sub_url: str | None = None, analytics_fps: float | None = None, snapshot: bool = True,
                   timeout_s: float = 10.0) -> Onboarded:
    """A bare RTSP camera; credentials inside the URL are moved out of it (and encrypted when stored)."""
    source = CameraSource.from_rtsp(0, url, username=username, password=password)
    record = CameraRecord(site_id=site_id, name=name, source_kind=SourceKind.RTSP, username=source.username,
                          has_password=source.password is not None, main_uri=source.uri,
                          sub_uri=strip_credentials(sub_url) if sub_url else None, analytics_fps=analytics_fps)
    result = Onboarded(record, source.password)
    if snapshot:
        result.snapshot_jpeg = grab_jpeg(source.uri, timeout_s, source.username, source.password)
    return result


def onboard_file(path: str | Path, *, site_id: int, name: str, analytics_fps: float | None = None,
                 snapshot: bool = True) -> Onboarded:
    """A video file camera (the demo, offline analysis): loops at its native rate when read live."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise StreamUnreadable(f"{file}: no such file")
    record = CameraRecord(site_id=site_id, name=name, source_kind=SourceKind.FILE, main_uri=str(file),
                          analytics_fps=analytics_fps)
    return Onboarded(record, snapshot_jpeg=grab_jpeg(str(file)) if snapshot else None)
