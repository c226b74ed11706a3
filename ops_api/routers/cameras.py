"""Cameras: list, read, register, change, remove (engineers and admins change; operators read), their
health, a snapshot and a live preview (MJPEG) with zones drawn.

Over the API a camera's addresses are network URLs only, and a video file is never a camera (those come from
``vigil cameras add --file`` on the server). Moving an address of a camera with a stored password to a new
host or port needs the password again (``cameras.addresses``): the stored one only goes where it was entered
for."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from cameras.addresses import NETWORK_SCHEMES, check_network_uri, new_addresses
from cameras.models import split_credentials
from core.redact import redact_value
from ops_api import changes
from ops_api.changes import CAMERA
from ops_api.credentials import encrypt_password
from ops_api.deps import Conn, context, require
from ops_api.errors import ApiError
from ops_api.params import Moment
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import registry_rows
from store.queries.live import cameras_health, health_samples

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
Reader = Annotated[Principal, Depends(require("cameras.read"))]
Writer = Annotated[Principal, Depends(require("cameras.write"))]
Health = Annotated[Principal, Depends(require("health.read"))]


FILE_CAMERAS = "video files are added as cameras on the server, with `vigil cameras add --file`"


def _network_uri(value: str) -> str:
    try:
        return check_network_uri(value)
    except ValueError as exc:
        raise PydanticCustomError("uri_not_network", "{reason}",
                                  {"reason": str(exc), "schemes": ", ".join(NETWORK_SCHEMES)}) from None


def _not_a_file(value: str) -> str:
    if value == "file":
        raise PydanticCustomError("file_camera_cli_only", FILE_CAMERAS)
    return value


NetworkUri = Annotated[str, Field(max_length=2000), AfterValidator(_network_uri)]
SourceKind = Annotated[Literal["onvif", "rtsp", "file"], AfterValidator(_not_a_file),
                       Field(description="onvif or rtsp; file cameras are added with `vigil cameras add --file`")]


class Position(StrictIn):
    """On the site's plan (the map page places cameras with PUT /api/cameras/{id}/placement)."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    direction: float | None = Field(None, ge=0, lt=360, description="Degrees clockwise from up.")
    fov: float | None = Field(None, ge=1, le=360, description="Field of view in degrees.")


class CameraFields(StrictIn):
    name: str | None = Field(None, min_length=1, max_length=200, examples=["Sảnh chính - quầy 1-4"])
    source_kind: SourceKind | None = None
    onvif_host: str | None = Field(None, max_length=255, pattern=r"^[A-Za-z0-9._:\[\]-]+$", examples=["192.0.2.10"])
    onvif_port: int | None = Field(None, ge=1, le=65535)
    username: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=200, description="Write-only; stored encrypted. Needed again "
                                 "when an address of a camera with a password moves to another host or port.")
    main_uri: NetworkUri | None = Field(None, examples=["rtsp://192.0.2.10:554/stream1"])
    sub_uri: NetworkUri | None = None
    snapshot_uri: NetworkUri | None = None
    analytics_fps: float | None = Field(None, gt=0, le=60)
    enabled: bool | None = None
    position: Position | None = None


class CameraCreate(CameraFields):
    site_id: int
    name: str = Field(min_length=1, max_length=200, examples=["Sảnh chính - quầy 1-4"])
    source_kind: SourceKind = "rtsp"


class CameraOut(BaseModel):
    id: int
    site_id: int
    name: str
    source_kind: str
    onvif_host: str | None
    onvif_port: int | None
    username: str | None
    has_password: bool
    main_uri: str | None
    sub_uri: str | None
    snapshot_uri: str | None
    analytics_fps: float | None
    enabled: bool
    position: dict[str, float] | None
    info: dict[str, Any]
    state: str
    state_since: datetime
    created_at: datetime
    updated_at: datetime

    @field_validator("main_uri", "sub_uri", "snapshot_uri", "info")
    @classmethod
    def _no_secrets(cls, value: Any) -> Any:  # rows stored before credentials were moved out of query strings
        return redact_value(value)


class HealthPoint(BaseModel):
    time: datetime
    state: str
    input_fps: float
    analytics_fps: float
    decode_errors: int
    reconnects: int
    last_frame_age_s: float | None
    width: int | None
    height: int | None
    lag_s: float | None


class CameraHealthOut(BaseModel):
    camera_id: int
    site_id: int
    name: str
    enabled: bool
    state: str
    state_since: datetime
    latest: HealthPoint | None = None


def _columns(request: Request, fields: dict[str, Any]) -> dict[str, Any]:
    """Body fields as columns: credentials moved out of URIs, the password encrypted."""
    if isinstance(fields.get("position"), dict):  # a plan place without direction or field of view stores none
        fields["position"] = {k: v for k, v in fields["position"].items() if v is not None}
    for key in ("main_uri", "sub_uri", "snapshot_uri"):
        uri = fields.get(key)
        if not uri:
            continue
        fields[key], username, password = split_credentials(uri)  # user:password@ and ?pwd= alike
        if username and not fields.get("username"):
            fields["username"] = username
        if password and not fields.get("password"):
            fields["password"] = password
    if "password" in fields:
        password = fields.pop("password")
        fields["password_enc"] = encrypt_password(context(request).settings, password) if password else None
    return fields


def _check_address_change(before: dict[str, Any], fields: dict[str, Any]) -> None:
    """A file camera's source stays as the server's command line set it; an address moving to a new host or
    port of a camera with a stored password needs the password with it (it then replaces the stored one)."""
    if before["source_kind"] == "file":
        for key in ("source_kind", "main_uri", "sub_uri", "snapshot_uri"):
            if key in fields:
                raise ApiError(422, f"body.{key}", f"a file camera's source stays as set on the server: {FILE_CAMERAS}",
                               code="file_camera_cli_only")
    moved = new_addresses(before, fields)
    if moved and before["has_password"] and "password_enc" not in fields:
        key, (host, port) = next(iter(moved.items()))
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise ApiError(422, "body.password", f"{key} moves to {address}: give the camera's password again (the stored"
                       " one is only sent to the addresses it was entered for)", code="camera_password_needed",
                       params={"field": key, "address": address})


@router.get("", response_model=list[CameraOut])
def cameras(*, site_id: Annotated[int | None, Query()] = None, user: Reader, conn: Conn) -> list[CameraOut]:
    if site_id is not None:
        user.check_site_filter([site_id])
    return [CameraOut(**r) for r in registry_rows.list_cameras(conn, user.scope, site_id)]


@router.get("/health", response_model=list[CameraHealthOut], tags=["health"])
def health(*, site_id: Annotated[int | None, Query()] = None, user: Health, conn: Conn) -> list[CameraHealthOut]:
    """Every camera in scope with its state and latest health sample."""
    if site_id is not None:
        user.check_site_filter([site_id])
    out = []
    for r in cameras_health(conn, user.scope, site_id):
        latest = None
        if r["time"] is not None:
            latest = HealthPoint(**{k: r[k] for k in HealthPoint.model_fields if k != "state"}, state=r["h_state"])
        out.append(CameraHealthOut(**{k: r[k] for k in CameraHealthOut.model_fields if k != "latest"}, latest=latest))
    return out


@router.get("/{camera_id}", response_model=CameraOut)
def one_camera(*, camera_id: int, user: Reader, conn: Conn) -> CameraOut:
    return CameraOut(**registry_rows.get_camera(conn, camera_id, user.scope))


@router.get("/{camera_id}/health", response_model=list[HealthPoint], tags=["health"])
def camera_health(*, camera_id: int, since: Moment | None = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 360, user: Health, conn: Conn) -> list[HealthPoint]:
    """Health samples of one camera, newest first."""
    registry_rows.get_camera(conn, camera_id, user.scope)
    return [HealthPoint(**{k: r[k] for k in HealthPoint.model_fields})
            for r in health_samples(conn, camera_id, since, limit)]


@router.post("", response_model=CameraOut, status_code=201)
def create_camera(*, body: CameraCreate, request: Request, user: Writer, conn: Conn) -> CameraOut:
    user.check_site_filter([body.site_id])
    changes.known_site(conn, body.site_id)
    fields = _columns(request, {k: v for k, v in body.model_dump().items() if v is not None})
    return CameraOut(**changes.create(conn, request, user, CAMERA, fields))


@router.patch("/{camera_id}", response_model=CameraOut)
def update_camera(*, camera_id: int, body: CameraFields, request: Request, user: Writer, conn: Conn) -> CameraOut:
    fields = body.model_dump(exclude_unset=True)
    for required in ("name", "source_kind", "enabled"):
        if required in fields and fields[required] is None:
            raise ApiError(422, f"body.{required}", "cannot be null", code="cannot_be_null")
    fields = _columns(request, fields)
    row = changes.update(conn, request, user, CAMERA, camera_id, fields,
                         check=lambda before: _check_address_change(before, fields))
    context(request).pictures.forget(camera_id)
    return CameraOut(**row)


@router.delete("/{camera_id}", status_code=204, response_class=Response)
def delete_camera(*, camera_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    """Remove a camera and its zones (its history stays in the time series)."""
    changes.delete(conn, request, user, CAMERA, camera_id)
    context(request).pictures.forget(camera_id)
    return Response(status_code=204)
