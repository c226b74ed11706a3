"""ONVIF probe with onvif-zeep-async: device information, clock skew, profiles, stream and snapshot URIs.

``probe(host, port, username, password)`` answers what an engineer needs to onboard a camera, or raises
one ``OnvifError`` subclass per cause, each with its own CLI exit code:

| error | exit | cause |
|---|---|---|
| ``HostUnreachable`` | 20 | nothing answers on host:port (refused, timed out, no route) |
| ``NotOnvif`` | 21 | something answers but it is not an ONVIF device service |
| ``AuthFailed`` | 22 | the credentials were refused (WS-Security digest, then plain text, both tried) |
| ``ClockSkewTooLarge`` | 23 | the camera's clock is off by more than ``max_skew_s``: set it (NTP) first |
| ``MalformedReply`` | 24 | the reply is not well-formed or not the standard ONVIF shape |
| ``NoUsableProfile`` | 25 | no H.264/H.265 media profile with an RTSP stream |

Clock skew below ``max_skew_s`` is corrected automatically: WS-Security timestamps are shifted by the
difference read from the unauthenticated GetSystemDateAndTime.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cameras.addresses import check_network_uri
from cameras.models import strip_credentials

log = logging.getLogger(__name__)
SKEW_CORRECTION_THRESHOLD_S = 2.0
DEVICE_PATH = "/onvif/device_service"


class OnvifError(Exception):
    """Onboarding failed for a reason the user can act on; ``exit_code`` is the CLI's exit status."""

    exit_code = 1
    hint = ""

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class HostUnreachable(OnvifError):
    exit_code = 20
    hint = "check the address, the port, the cable and any firewall"


class NotOnvif(OnvifError):
    exit_code = 21
    hint = "check the port (often 80, 8000, 8080 or 2020) and that ONVIF is enabled in the camera"


class AuthFailed(OnvifError):
    exit_code = 22
    hint = "check the user name and password; some cameras need a separate ONVIF user"


class ClockSkewTooLarge(OnvifError):
    exit_code = 23
    hint = "set the camera's clock or enable NTP on it, then probe again"


class MalformedReply(OnvifError):
    exit_code = 24
    hint = "the camera's ONVIF implementation is non-standard; try a firmware update or add it by RTSP URL"


class NoUsableProfile(OnvifError):
    exit_code = 25
    hint = "enable an H.264 or H.265 stream in the camera's video settings"


@dataclass
class StreamProfile:
    token: str
    name: str
    encoding: str  # H264, H265, JPEG, MPEG4
    width: int
    height: int
    fps: float | None
    bitrate_kbps: int | None
    stream_uri: str | None
    snapshot_uri: str | None = None

    @property
    def usable(self) -> bool:
        return self.encoding.upper() in ("H264", "H265", "HEVC") and bool(self.stream_uri)

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class DeviceReport:
    """What a probe learned about one camera."""

    host: str
    port: int
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str
    clock_skew_s: float  # camera clock minus ours
    clock_corrected: bool
    auth: str  # digest, plain or none
    profiles: list[StreamProfile] = field(default_factory=list)

    def usable_profiles(self) -> list[StreamProfile]:
        return [p for p in self.profiles if p.usable]

    def main_profile(self) -> StreamProfile:
        """The stream for recording and preview: the largest H.264/H.265 profile."""
        usable = self.usable_profiles()
        if not usable:
            raise NoUsableProfile(f"{self.host}:{self.port} has no H.264/H.265 profile with an RTSP stream "
                                  f"(profiles: {', '.join(f'{p.name} {p.encoding}' for p in self.profiles) or 'none'})")
        return max(usable, key=lambda p: (p.pixels, p.fps or 0))

    def analytics_profile(self, min_width: int = 640) -> StreamProfile:
        """The smallest H.264/H.265 profile at least ``min_width`` wide; the main stream when none is."""
        main = self.main_profile()
        adequate = [p for p in self.usable_profiles() if p.width >= min(min_width, main.width)]
        return min(adequate, key=lambda p: (p.pixels, -(p.fps or 0))) if adequate else main

    def to_info(self) -> dict[str, Any]:
        """The JSON kept in ``cameras.info`` (no credentials)."""
        data = asdict(self)
        data["probed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return data


def check_reachable(host: str, port: int, timeout_s: float) -> None:
    """Raise HostUnreachable unless a TCP connection to host:port opens."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except TimeoutError:
        raise HostUnreachable(f"{host}:{port} did not answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise HostUnreachable(f"cannot reach {host}:{port}: {exc.strerror or exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, *path: str) -> ET.Element | None:
    node: ET.Element | None = root
    for name in path:
        node = next((c for c in node.iter() if _local(c.tag) == name), None) if node is not None else None
    return node


GET_TIME = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
            '{header}<s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body>'
            '</s:Envelope>')
WSSE = ('<s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        '<UsernameToken><Username>{user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-username-token-profile-1.0#{kind}">{password}</Password>{extra}</UsernameToken>'
        '</Security></s:Header>')


def _wsse_header(username: str, password: str, digest: bool) -> str:
    from xml.sax.saxutils import escape

    if not digest:
        return WSSE.format(user=escape(username), kind="PasswordText", password=escape(password), extra="")
    import base64
    import hashlib
    import os

    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    extra = (f'<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-'
             f'1.0#Base64Binary">{base64.b64encode(nonce).decode()}</Nonce><Created xmlns="http://docs.oasis-open.org/'
             f'wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">{created}</Created>')
    return WSSE.format(user=escape(username), kind="PasswordDigest", password=token, extra=extra)


async def read_device_clock(host: str, port: int, timeout_s: float, username: str | None = None,
                            password: str | None = None) -> datetime | None:
    """The camera's UTC clock from GetSystemDateAndTime; classifies what answers.

    Asked without credentials first (the ONVIF standard allows it); a camera that wants them gets a
    digest, then plain-text token. None when the camera refuses all (credentials wrong or clock far off).
    """
    headers = [""]
    if username:
        headers += [_wsse_header(username, password or "", True), _wsse_header(username, password or "", False)]
    for header in headers:
        found = await _ask_clock(host, port, timeout_s, GET_TIME.format(header=header).encode())
        if found is not None:
            return found
    return None


async def _ask_clock(host: str, port: int, timeout_s: float, request: bytes) -> datetime | None:
    import aiohttp

    url = f"http://{host}:{port}{DEVICE_PATH}"
    headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session, \
                session.post(url, data=request, headers=headers) as response:
            body = await response.read()
            status, content_type = response.status, response.headers.get("Content-Type", "")
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        raise HostUnreachable(f"{host}:{port} stopped answering: {exc or type(exc).__name__}") from None
    except aiohttp.ClientError as exc:
        raise NotOnvif(f"{host}:{port} does not speak HTTP as an ONVIF device does: {exc}") from None
    looks_soap = b"Envelope" in body[:2000] or "soap" in content_type or "xml" in content_type
    if not looks_soap:
        raise NotOnvif(f"{host}:{port} answered HTTP {status} ({content_type or 'no content type'}) "
                       f"at {DEVICE_PATH}, not a SOAP reply")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedReply(f"{host}:{port} sent a reply that is not well-formed XML ({exc})") from None
    if _local(root.tag) != "Envelope":
        raise NotOnvif(f"{host}:{port} answered XML that is not a SOAP envelope")
    utc = _find(root, "UTCDateTime")
    if utc is None:
        if _find(root, "Fault") is not None:
            return None  # this camera wants credentials even for its clock
        raise MalformedReply(f"{host}:{port}: GetSystemDateAndTime reply has no UTCDateTime")
    try:
        values = {name: int((_find(utc, name).text or "").strip())  # type: ignore[union-attr]
                  for name in ("Year", "Month", "Day", "Hour", "Minute", "Second")}
        return datetime(values["Year"], values["Month"], values["Day"], values["Hour"], values["Minute"],
                        values["Second"], tzinfo=UTC)
    except (AttributeError, ValueError) as exc:
        raise MalformedReply(f"{host}:{port}: GetSystemDateAndTime has an invalid date ({exc})") from None


def _classify(exc: BaseException, where: str, what: str) -> OnvifError:
    """Turn a zeep/aiohttp/onvif exception into the error a user can act on."""
    import aiohttp
    import zeep.exceptions
    from onvif.exceptions import ONVIFAuthError, ONVIFError

    cause = exc.__cause__ if isinstance(exc, ONVIFError) and exc.__cause__ is not None else exc
    text = str(cause)
    if isinstance(cause, OnvifError):
        return cause
    if isinstance(cause, ONVIFAuthError) or "NotAuthorized" in text or "not authorized" in text.lower():
        return AuthFailed(f"{where} refused the credentials ({what})")
    if isinstance(cause, zeep.exceptions.TransportError):
        if cause.status_code in (401, 403):
            return AuthFailed(f"{where} refused the credentials ({what}: HTTP {cause.status_code})")
        if cause.status_code in (404, 405, 501):
            return NotOnvif(f"{where} has no ONVIF service for {what} (HTTP {cause.status_code})")
        return MalformedReply(f"{where}: {what} failed with HTTP {cause.status_code}")
    if isinstance(cause, zeep.exceptions.Fault):
        return MalformedReply(f"{where}: {what} returned a SOAP fault: {cause.message}")
    if isinstance(cause, (aiohttp.ClientConnectionError, TimeoutError, asyncio.TimeoutError)):
        return HostUnreachable(f"{where} stopped answering during {what}")
    if isinstance(cause, (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError,
                          zeep.exceptions.ValidationError, zeep.exceptions.LookupError, AttributeError,
                          KeyError, TypeError, ValueError, ET.ParseError)):
        return MalformedReply(f"{where}: the {what} reply is not standard ONVIF ({type(cause).__name__}: {text[:200]})")
    return MalformedReply(f"{where}: {what} failed ({type(cause).__name__}: {text[:200]})")


async def _call(where: str, what: str, coroutine: Any) -> Any:
    try:
        return await coroutine
    except Exception as exc:
        raise _classify(exc, where, what) from None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def _read_device(camera: Any, where: str, snapshot_uris: bool, auth: bool) -> tuple[Any, list[StreamProfile]]:
    from onvif.exceptions import ONVIFError

    def op(service: Any, name: str) -> Any:
        return getattr(service, name if auth else f"authless_{name}")

    try:
        devicemgmt = await camera.create_devicemgmt_service()
    except ONVIFError as exc:
        raise _classify(exc, where, "device service set-up") from None
    info = await _call(where, "GetDeviceInformation", op(devicemgmt, "GetDeviceInformation")())
    await _call(where, "GetCapabilities/GetServices", camera.update_xaddrs())
    try:
        media = await camera.create_media_service()
    except Exception as exc:
        raise NotOnvif(f"{where} has no ONVIF media service ({exc})") from None
    raw_profiles = await _call(where, "GetProfiles", op(media, "GetProfiles")())
    profiles = []
    for raw in raw_profiles or []:
        try:
            encoder = raw.VideoEncoderConfiguration
            token = str(raw.token)
            name = str(raw.Name or token)
        except AttributeError as exc:
            raise MalformedReply(f"{where}: a GetProfiles entry has no {exc.name}") from None
        if encoder is None:
            continue
        rate = getattr(encoder, "RateControl", None)
        resolution = getattr(encoder, "Resolution", None)
        request = {"StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}, "ProfileToken": token}
        uri = await _call(where, f"GetStreamUri({name})", op(media, "GetStreamUri")(request))
        snapshot = None
        if snapshot_uris:
            try:
                snapshot = (await op(media, "GetSnapshotUri")({"ProfileToken": token})).Uri
            except Exception:  # a missing snapshot is no reason to refuse a camera
                log.info("%s: no snapshot URI for profile %s", where, name)
        profiles.append(StreamProfile(
            token=token, name=name, encoding=str(getattr(encoder, "Encoding", "") or ""),
            width=int(getattr(resolution, "Width", 0) or 0), height=int(getattr(resolution, "Height", 0) or 0),
            fps=_number(getattr(rate, "FrameRateLimit", None)),
            bitrate_kbps=int(b) if (b := _number(getattr(rate, "BitrateLimit", None))) else None,
            stream_uri=_network(where, getattr(uri, "Uri", None)), snapshot_uri=_network(where, snapshot)))
    return info, profiles


def _network(where: str, uri: Any) -> str | None:
    """A stream or snapshot address the device gave, when it is a network URL: a device naming a local file
    (file:///..., a path) would have the server read its own files as the camera's picture."""
    if not uri:
        return None
    try:
        return check_network_uri(str(uri))
    except ValueError as exc:
        log.warning("%s: ignored the address %r it gave: %s", where, strip_credentials(str(uri))[:200], exc)
        return None


async def probe(host: str, port: int = 80, username: str | None = None, password: str | None = None, *,
                timeout_s: float = 8.0, max_skew_s: float = 86400.0) -> DeviceReport:
    """Probe an ONVIF camera; raise an ``OnvifError`` subclass naming the cause when it cannot be used."""
    from datetime import timedelta

    from onvif import ONVIFCamera

    where = f"{host}:{port}"
    await asyncio.to_thread(check_reachable, host, port, min(timeout_s, 5.0))
    camera_now = await read_device_clock(host, port, timeout_s, username, password)
    if camera_now is None and not username:
        raise AuthFailed(f"{where} wants credentials: give --user and a password")
    if camera_now is None:
        raise AuthFailed(f"{where} refused the credentials for user {username!r} (digest and plain text tried)")
    skew = (camera_now - datetime.now(UTC)).total_seconds()
    if abs(skew) > max_skew_s:
        raise ClockSkewTooLarge(f"{where}: the camera's clock says {camera_now:%Y-%m-%d %H:%M:%S} UTC, "
                                f"{abs(skew) / 3600:.1f} h {'ahead' if skew > 0 else 'behind'}; "
                                f"at most {max_skew_s / 3600:g} h is corrected automatically")
    corrected = abs(skew) > SKEW_CORRECTION_THRESHOLD_S
    attempts = [("digest", True), ("plain", False)] if username else [("none", True)]
    failure: OnvifError | None = None
    for mode, digest in attempts:
        camera = ONVIFCamera(host, port, username or "", password or "", encrypt=digest)
        if corrected:
            camera.dt_diff = timedelta(seconds=skew)  # shift WS-Security timestamps to the camera's clock
        try:
            info, profiles = await asyncio.wait_for(_read_device(camera, where, True, bool(username)), timeout_s)
        except AuthFailed as exc:
            failure = exc
            log.info("%s: %s authentication refused", where, mode)
            continue
        except TimeoutError:
            raise HostUnreachable(f"{where} did not finish answering within {timeout_s:g} s") from None
        finally:
            await camera.close()
        report = DeviceReport(host=host, port=port, manufacturer=str(info.Manufacturer or ""),
                              model=str(info.Model or ""), firmware=str(info.FirmwareVersion or ""),
                              serial=str(info.SerialNumber or ""), hardware_id=str(info.HardwareId or ""),
                              clock_skew_s=round(skew, 1), clock_corrected=corrected, auth=mode, profiles=profiles)
        if not report.usable_profiles():
            report.main_profile()  # raises NoUsableProfile with the profiles named
        return report
    assert failure is not None
    raise AuthFailed(f"{where} refused the credentials for user {username!r} (digest and plain text tried)")


async def fetch_snapshot(uri: str, username: str | None, password: str | None, timeout_s: float = 8.0) -> bytes:
    """A JPEG from the camera's snapshot URI (digest, then basic authentication)."""
    import aiohttp

    attempts: list[dict[str, Any]] = [{}]
    if username:
        attempts = [{"middlewares": (aiohttp.DigestAuthMiddleware(username, password or ""),)},
                    {"auth": aiohttp.BasicAuth(username, password or "")}]
    last_status = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        for extra in attempts:
            async with session.get(uri, **extra) as response:
                last_status = response.status
                if response.status < 300:
                    return await response.read()
    if last_status in (401, 403):
        raise AuthFailed(f"the snapshot URI refused the credentials (HTTP {last_status})")
    raise MalformedReply(f"the snapshot URI answered HTTP {last_status}")
