"""Camera onboarding through cameras/ (ONVIF discovery, probe, add by ONVIF or RTSP URL), and what
an engineer looks at while drawing zones: a snapshot and a live preview (MJPEG) with the zones drawn.

When the vision worker keeps an annotated picture fresh (``DATA_DIR/live/<id>.jpg``, boxes and zones
drawn), the snapshot and preview serve it; otherwise one frame is decoded from the stream here and the
zones drawn, once per camera for all its viewers (``ops_api.pictures``). Onboarding records the picture it
took in ``snapshot_path`` (as ``vigil cameras add`` does); that still is never served as the live one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cameras import onvif
from cameras.addresses import check_network_uri
from cameras.onvif import AuthFailed, OnvifError
from cameras.onvif_encoder import EncoderRefused, set_recording_encoder
from core import media
from ops_api import audit, changes
from ops_api.changes import CAMERA
from ops_api.credentials import encrypt_password
from ops_api.deps import client_addr, context, require, require_briefly
from ops_api.errors import ApiError, ApiProblem
from ops_api.roles import Principal
from ops_api.routers.cameras import FILE_CAMERAS, CameraOut
from ops_api.schemas import StrictIn
from ops_api.stream_access import StreamAccess
from store import registry_rows

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
StreamReader = Annotated[Principal, Depends(require_briefly("cameras.read"))]
Writer = Annotated[Principal, Depends(require("cameras.write"))]
BOUNDARY = "vigilframe"


class DiscoverIn(StrictIn):
    timeout_s: float = Field(3.0, gt=0, le=10)


class ProbeIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "host": "192.0.2.10", "port": 80, "username": "admin", "password": "camera-password"}]})
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(80, ge=1, le=65535)
    username: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=200)
    timeout_s: float = Field(8.0, gt=0, le=30)


class OnboardIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "site_id": 1, "name": "Sảnh chính", "kind": "onvif", "host": "192.0.2.10", "port": 80,
        "username": "admin", "password": "camera-password", "analytics_fps": 2}]})
    site_id: int
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["onvif", "rtsp", "file"]
    host: str | None = Field(None, max_length=255, description="onvif: the camera's address")
    port: int = Field(80, ge=1, le=65535)
    url: str | None = Field(None, max_length=2000, description="rtsp: the stream URL")
    path: str | None = Field(None, max_length=1000, description="file: refused; video files are added as cameras"
                             " on the server (`vigil cameras add --file`)")
    username: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=200)
    analytics_fps: float | None = Field(None, gt=0, le=60)


class EncoderIn(ProbeIn):
    profile_token: str = Field(min_length=1, max_length=128, description="The profile whose stream to set (probe's "
                               "profiles[].token), normally the main stream's")


class Onboarded(BaseModel):
    camera: CameraOut
    notes: list[str]
    snapshot_url: str | None


ONVIF_CODES: dict[type[OnvifError], str] = {
    onvif.HostUnreachable: "camera_unreachable", onvif.NotOnvif: "camera_not_onvif", AuthFailed: "camera_auth_failed",
    onvif.ClockSkewTooLarge: "camera_clock_skew", onvif.MalformedReply: "camera_bad_reply",
    onvif.NoUsableProfile: "camera_no_usable_profile", EncoderRefused: "camera_encoder_refused"}


def _onvif_error(exc: OnvifError, host: str | None, port: int) -> ApiError:
    code = next((code for kind, code in ONVIF_CODES.items() if isinstance(exc, kind)), "camera_onvif_failed")
    return ApiError(422, "body.password" if isinstance(exc, AuthFailed) else "body.host", str(exc), code=code,
                    params={"address": f"{host}:{port}", "detail": Exception.__str__(exc)})


@router.post("/discover")
def discover(*, body: DiscoverIn, _: Writer) -> list[dict[str, Any]]:
    """ONVIF devices answering a WS-Discovery probe on the server's network."""
    from cameras.discovery import discover as ws_discover

    try:
        found = ws_discover(body.timeout_s)
    except OSError as exc:
        raise ApiProblem(503, f"discovery is not possible from this server: {exc.strerror or exc}",
                         code="discovery_unavailable", params={"detail": str(exc.strerror or exc)}) from None
    return [{"address": d.address, "host": d.host, "port": d.port, "xaddrs": d.xaddrs, "model": d.model,
             "name": d.scope("name"), "location": d.scope("location")} for d in found]


@router.post("/probe")
async def probe(*, body: ProbeIn, _: Writer) -> dict[str, Any]:
    """Ask an ONVIF camera who it is and which streams it has (nothing is stored)."""
    from cameras.onvif import probe as onvif_probe

    try:
        report = await onvif_probe(body.host, body.port, body.username, body.password, timeout_s=body.timeout_s)
    except OnvifError as exc:
        raise _onvif_error(exc, body.host, body.port) from None
    except (OSError, ValueError) as exc:  # a host name the resolver refuses (NUL, over-long label)
        raise ApiError(422, "body.host", f"not a usable address: {exc}", code="address_unusable",
                       params={"detail": str(exc)}) from None
    return report.to_info()


@router.post("/encoder")
async def recording_encoder(*, body: EncoderIn, request: Request, user: Writer) -> dict[str, Any]:
    """Make a camera's stream fit recording, where the camera allows it over ONVIF: H.264 (the browser does not
    play H.265) with a key frame every 2 s (the recorder's segments). Nothing is sent when it fits already."""
    try:
        change = await set_recording_encoder(body.host, body.port, body.username, body.password, body.profile_token,
                                             timeout_s=body.timeout_s)
    except OnvifError as exc:
        raise _onvif_error(exc, body.host, body.port) from None
    except (OSError, ValueError) as exc:
        raise ApiError(422, "body.host", f"not a usable address: {exc}", code="address_unusable",
                       params={"detail": str(exc)}) from None
    before, after = asdict(change.before), asdict(change.after)
    if change.changed:  # a change a person made to a device: audited like any other
        with context(request).pool.connection() as conn:
            audit.record(conn, user, "camera.encoder", "onvif_device", f"{body.host}:{body.port}", before=before,
                         after=after, remote_addr=client_addr(request), site_ids=None)
    return {"changed": change.changed, "before": before, "after": after, "fits_recording": change.after.fits_recording}


async def _onboard(body: OnboardIn) -> Any:
    from cameras.onboarding import StreamUnreadable, onboard_onvif, onboard_stream

    if body.kind == "file":  # the API would read any file it can as a camera: another site's evidence too
        raise ApiError(422, "body.kind", FILE_CAMERAS, code="file_camera_cli_only")
    try:
        if body.kind == "onvif":
            if not body.host:
                raise ApiError(422, "body.host", "an ONVIF camera needs its address", code="onvif_needs_host")
            return await onboard_onvif(body.host, body.port, body.username, body.password, site_id=body.site_id,
                                       name=body.name, analytics_fps=body.analytics_fps)
        if not body.url or not body.url.startswith(("rtsp://", "rtsps://")) or not _network(body.url):
            raise ApiError(422, "body.url", "an RTSP camera needs an rtsp:// URL", code="rtsp_needs_url")
        return await asyncio.to_thread(onboard_stream, body.url, site_id=body.site_id, name=body.name,
                                       username=body.username, password=body.password,
                                       analytics_fps=body.analytics_fps)
    except OnvifError as exc:
        raise _onvif_error(exc, body.host, body.port) from None
    except (OSError, ValueError) as exc:
        raise ApiError(422, "body.host" if body.kind == "onvif" else "body.url", f"not usable: {exc}",
                       code="source_unusable", params={"detail": str(exc)}) from None
    except StreamUnreadable as exc:
        raise ApiError(422, "body.url" if body.kind == "rtsp" else "body.host", str(exc), code="stream_unreadable",
                       params={"detail": str(exc)}) from None


def _network(url: str) -> bool:
    try:
        check_network_uri(url)
    except ValueError:
        return False
    return True


@router.post("/onboard", response_model=Onboarded, status_code=201)
async def onboard(*, body: OnboardIn, request: Request, user: Writer) -> Onboarded:
    """Probe (ONVIF) or open (RTSP) the camera, choose its streams, take a snapshot, and register it (video files
    are cameras only through `vigil cameras add --file` on the server)."""
    user.check_site_filter([body.site_id])
    ctx = context(request)
    result = await _onboard(body)
    record = result.record
    fields = {"site_id": body.site_id, "name": body.name, "source_kind": record.source_kind.value,
              "onvif_host": record.onvif_host, "onvif_port": record.onvif_port, "username": record.username,
              "main_uri": record.main_uri, "sub_uri": record.sub_uri, "snapshot_uri": record.snapshot_uri,
              "analytics_fps": record.analytics_fps}

    def insert(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
        row = registry_rows.insert_camera(conn, values)
        if result.snapshot_jpeg:  # kept and recorded as `vigil cameras add` does
            path = media.snapshot_file(ctx.settings.data_dir, row["id"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(result.snapshot_jpeg)
            row = registry_rows.set_snapshot_path(conn, row["id"], str(path)) or row
        return row

    def store() -> dict[str, Any]:
        values = {**fields, "info": record.info or {},
                  "password_enc": encrypt_password(ctx.settings, result.password) if result.password else None}
        with ctx.pool.connection() as conn:
            changes.known_site(conn, body.site_id)
            return changes.create(conn, request, user, CAMERA, values, action="onboard", insert=insert)

    row = await asyncio.to_thread(store)
    return Onboarded(camera=CameraOut(**row), notes=result.notes,
                     snapshot_url=f"/api/cameras/{row['id']}/snapshot" if result.snapshot_jpeg else None)


async def _visible_camera(request: Request, camera_id: int, user: Principal) -> dict[str, Any]:
    """The camera row (404 outside the user's sites), read on a connection returned to the pool at once."""
    ctx = context(request)

    def read() -> dict[str, Any]:
        with ctx.pool.connection() as conn:
            return registry_rows.get_camera(conn, camera_id, user.scope)

    return await run_in_threadpool(read)


@router.get("/{camera_id}/snapshot", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def snapshot(*, camera_id: int, request: Request, zones: bool = True, user: StreamReader) -> Response:
    """A current picture of the camera (zones drawn; boxes too when the vision worker supplies the picture)."""
    await _visible_camera(request, camera_id, user)
    jpeg = await context(request).pictures.picture(camera_id, zones=zones)
    return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "no-store"})


@router.get("/{camera_id}/preview", response_class=StreamingResponse,
            responses={200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}}})
async def preview(*, camera_id: int, request: Request, fps: Annotated[float, Query(gt=0, le=5)] = 1.0,
                  seconds: Annotated[int, Query(ge=1, le=600)] = 120, user: StreamReader) -> StreamingResponse:
    """A live preview as MJPEG (an <img> shows it) for ``seconds`` at ``fps`` pictures per second.

    Served from memory: every viewer of a camera gets the same picture (``ops_api.pictures``); the stream
    holds no database connection and no thread, and ends when the client goes away or its user may no longer
    watch (``ops_api.stream_access``)."""
    await _visible_camera(request, camera_id, user)
    pictures = context(request).pictures
    first = await pictures.picture(camera_id)  # fail now, with a status, when the camera gives nothing
    metrics = context(request).metrics

    access = StreamAccess(context(request), user, "cameras.read")
    period = 1.0 / fps
    # Every viewer of a camera at this rate ticks at the same instants (one picture read, one loop wake-up for
    # all of them); cameras are spread over the period so the pictures do not all leave at once.
    phase = camera_id * 0.6180339887 % 1.0 * period

    async def frames() -> AsyncIterator[bytes]:
        metrics.previews.inc()
        try:
            jpeg, end = first, time.monotonic() + seconds
            while True:
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                       + jpeg + b"\r\n")
                now = time.monotonic()
                # The tick nearest to a period from now: a timer that fires a little early (uvloop's are
                # millisecond-grained) must not send the next picture at once.
                await asyncio.sleep(phase + round((now + period - phase) / period) * period - now)
                if time.monotonic() >= end or not await access.allowed():
                    return
                try:
                    jpeg = await pictures.picture(camera_id)
                except HTTPException:
                    return  # the camera stopped giving pictures: the console retries later
        finally:
            metrics.previews.dec()
            access.close()

    return StreamingResponse(frames(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                             headers={"cache-control": "no-store"})
