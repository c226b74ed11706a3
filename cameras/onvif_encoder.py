"""A camera's stream encoder over ONVIF (the media service's Get/SetVideoEncoderConfiguration): what recording
wants of the main stream, and setting it where the camera allows.

Recording copies the main stream as it comes (no re-encoding) into 2-s segments cut at key frames, and the console
plays it through the browser, which plays H.264 and not H.265. So the main stream should be **H.264 with a key
frame at least every 2 s** (GovLength <= 2 x frame rate). ``set_recording_encoder`` reads the profile's encoder
and, when it is not that, asks the camera to switch (H.264, GovLength = 2 s of frames, ForcePersistence);
a camera that refuses (many do not implement the call, or lock it) raises ``EncoderRefused`` with its reason.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cameras import onvif
from cameras.onvif import AuthFailed, MalformedReply, NotOnvif, OnvifError

RECORDING_GOP_S = 2.0  # the recorder's segment length: a longer GOP makes longer segments and coarser exports
DEFAULT_FPS = 25.0
NO_MULTICAST = {"Address": {"Type": "IPv4", "IPv4Address": "0.0.0.0"}, "Port": 0, "TTL": 1, "AutoStart": False}


class EncoderRefused(OnvifError):
    exit_code = 26
    hint = "set H.264 and a key frame every 2 s in the camera's own web page, or leave it: H.265 records, and " \
           "exports play in other players"


@dataclass(frozen=True)
class EncoderState:
    """One profile's video encoder as the camera reports it."""

    profile_token: str
    token: str
    encoding: str
    width: int
    height: int
    fps: float | None
    gov_length: int | None  # frames between key frames (H.264 only)

    @property
    def gop_s(self) -> float | None:
        return self.gov_length / self.fps if self.gov_length and self.fps else None

    @property
    def fits_recording(self) -> bool:
        """H.264 with key frames at most ``RECORDING_GOP_S`` apart (an unknown GOP counts as fitting)."""
        gop = self.gop_s
        return self.encoding.upper() == "H264" and (gop is None or gop <= RECORDING_GOP_S + 1e-6)


@dataclass(frozen=True)
class EncoderChange:
    before: EncoderState
    after: EncoderState
    changed: bool


def _state(profile_token: str, config: Any) -> EncoderState:
    rate = getattr(config, "RateControl", None)
    resolution = getattr(config, "Resolution", None)
    h264 = getattr(config, "H264", None)
    fps = onvif._number(getattr(rate, "FrameRateLimit", None))
    gov = onvif._number(getattr(h264, "GovLength", None))
    return EncoderState(profile_token, str(config.token), str(getattr(config, "Encoding", "") or ""),
                        int(getattr(resolution, "Width", 0) or 0), int(getattr(resolution, "Height", 0) or 0),
                        fps, int(gov) if gov else None)


async def _media(host: str, port: int, username: str | None, password: str | None, timeout_s: float) -> tuple[Any, Any]:
    """An ONVIF camera and its media service, signed in as ``probe`` does (clock skew corrected, digest then
    plain text); the caller closes the camera."""
    from onvif import ONVIFCamera
    from onvif.exceptions import ONVIFError

    where = f"{host}:{port}"
    await asyncio.to_thread(onvif.check_reachable, host, port, min(timeout_s, 5.0))
    camera_now = await onvif.read_device_clock(host, port, timeout_s, username, password)
    if camera_now is None:
        raise AuthFailed(f"{where} refused the credentials for user {username!r}")
    skew = (camera_now - datetime.now(UTC)).total_seconds()
    failure: OnvifError | None = None
    for digest in ((True, False) if username else (True,)):
        camera = ONVIFCamera(host, port, username or "", password or "", encrypt=digest)
        if abs(skew) > onvif.SKEW_CORRECTION_THRESHOLD_S:
            camera.dt_diff = timedelta(seconds=skew)
        try:
            await onvif._call(where, "GetCapabilities/GetServices", camera.update_xaddrs())
            try:
                media = await camera.create_media_service()
            except ONVIFError as exc:
                raise NotOnvif(f"{where} has no ONVIF media service ({exc})") from None
            return camera, media
        except AuthFailed as exc:
            failure = exc
            await camera.close()
        except BaseException:
            await camera.close()
            raise
    assert failure is not None
    raise failure


async def _encoder(media: Any, where: str, profile_token: str) -> Any:
    profiles = await onvif._call(where, "GetProfiles", media.GetProfiles())
    profile = next((p for p in profiles or [] if str(p.token) == profile_token), None)
    if profile is None or getattr(profile, "VideoEncoderConfiguration", None) is None:
        raise MalformedReply(f"{where} has no profile {profile_token!r} with a video encoder")
    token = str(profile.VideoEncoderConfiguration.token)
    return await onvif._call(where, "GetVideoEncoderConfiguration",
                             media.GetVideoEncoderConfiguration({"ConfigurationToken": token}))


async def set_recording_encoder(host: str, port: int, username: str | None, password: str | None,
                                profile_token: str, *, gov_length: int | None = None,
                                timeout_s: float = 8.0) -> EncoderChange:
    """Make the profile's stream H.264 with a key frame every ``RECORDING_GOP_S`` (or every ``gov_length``
    frames when given); nothing is sent when it already fits and no ``gov_length`` is asked for."""
    where = f"{host}:{port}"
    camera, media = await _media(host, port, username, password, timeout_s)
    try:
        config = await asyncio.wait_for(_encoder(media, where, profile_token), timeout_s)
        before = _state(profile_token, config)
        if gov_length is None and before.fits_recording:
            return EncoderChange(before, before, False)
        frames = gov_length or max(1, math.floor(RECORDING_GOP_S * (before.fps or DEFAULT_FPS)))
        profile = getattr(getattr(config, "H264", None), "H264Profile", None) or "Main"
        config.Encoding = "H264"
        config.H264 = {"GovLength": frames, "H264Profile": profile}
        config.MPEG4 = None
        if getattr(config, "Multicast", None) is None:  # required by the schema; this unicast stream ignores it
            config.Multicast = NO_MULTICAST
        request = media.create_type("SetVideoEncoderConfiguration")
        request.Configuration = config
        request.ForcePersistence = True
        try:
            await asyncio.wait_for(media.SetVideoEncoderConfiguration(request), timeout_s)
        except TimeoutError:
            raise EncoderRefused(f"{where} did not answer the encoder change within {timeout_s:g} s") from None
        except Exception as exc:  # a SOAP fault: the camera's own words
            raise EncoderRefused(f"{where} refused to change its encoder: {getattr(exc, 'message', None) or exc}") \
                from None
        after = _state(profile_token, await asyncio.wait_for(_encoder(media, where, profile_token), timeout_s))
        if after.encoding.upper() != "H264":
            raise EncoderRefused(f"{where} accepted the change but still sends {after.encoding}")
        return EncoderChange(before, after, True)
    finally:
        await camera.close()
