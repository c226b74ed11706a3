"""Integrations: queue-ticket machines and satisfaction terminals post here with their own device keys
(idempotent by the device's event id); admins manage device keys and outbound webhook/MQTT targets.

A site-scoped admin sees and manages only the devices of its sites and the targets whose sites are all its own,
and a target it creates must name some of its sites (never every site: it would receive other sites' events).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import psycopg
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, context, require
from ops_api.errors import ApiError, ApiProblem
from ops_api.params import Moment
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from ops_api.security import DEVICE_PREFIX, new_token, token_hash
from store import integrations as store
from store.accounts import unknown_sites
from store.officers import officer_by_staff_code

router = APIRouter(tags=["integrations"])
Admin = Annotated[Principal, Depends(require("integrations.admin"))]
DeviceKey = Annotated[str, Header(alias="X-Device-Key", description="The device's key (vgd_...)")]


class DeviceCreate(StrictIn):
    device_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$", examples=["kiosk-q1-01"])
    kind: Literal["ticket_machine", "terminal"]
    site_id: int
    counter_id: int | None = Field(None, description="Terminals at one desk: the counter they rate.")


class DeviceOut(BaseModel):
    id: int
    device_id: str
    kind: str
    site_id: int
    counter_id: int | None
    prefix: str
    active: bool
    created_at: datetime
    last_seen: datetime | None


class DeviceCreated(DeviceOut):
    key: str = Field(description="Shown once: the device sends it as X-Device-Key.")


class TicketIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "device_event_id": "evt-000123", "time": "2026-11-20T01:30:00Z", "kind": "issued", "ticket_number": "A015",
        "service": "Hộ tịch"}]})
    device_event_id: str = Field(min_length=1, max_length=100)
    time: Moment | None = Field(None, description="When it happened at the device (default: now).")
    kind: Literal["issued", "called", "served", "skipped", "login", "logout"] = Field(
        description="A ticket's step, or an officer logging in to (out of) a counter's calling terminal.")
    ticket_number: str | None = Field(None, min_length=1, max_length=32, description="Every kind but login/logout.")
    service: str | None = Field(None, max_length=200)
    counter_number: int | None = Field(None, gt=0, le=10_000, description="For called/served/skipped/login/logout.")
    staff_code: str | None = Field(None, pattern=r"^[A-Za-z0-9._:-]{1,64}$",
                                   description="login/logout: the officer's staff code at this site.")


class RatingIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "device_event_id": "r-88412", "score": 5, "comment": "Cán bộ nhiệt tình"}]})
    device_event_id: str = Field(min_length=1, max_length=100)
    time: Moment | None = None
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)
    counter_number: int | None = Field(None, gt=0, le=10_000)


class Accepted(BaseModel):
    duplicate: bool = Field(description="True when this device event id was already recorded (nothing changed).")
    device_event_id: str
    time: datetime
    counter_id: int | None


class TargetIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "webhook", "name": "IOC incident bus", "url": "https://ioc.example.vn/hooks/vigil", "secret": "s3cr3t",
        "event_types": ["wrong_way", "stopped_vehicle"]}]})
    kind: Literal["webhook", "mqtt"]
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000, description="http(s)://... or mqtt://host:port/topic-prefix")
    secret: str | None = Field(None, max_length=200, description="Webhook HMAC key or MQTT password; write-only.")
    username: str | None = Field(None, max_length=100)
    event_types: list[str] | None = Field(None, max_length=50)
    site_ids: list[int] | None = Field(None, min_length=1, max_length=1000, description="Null: every site.")
    active: bool = True


class TargetOut(BaseModel):
    id: int
    kind: str
    name: str
    url: str
    username: str | None
    has_secret: bool
    event_types: list[str] | None
    site_ids: list[int] | None
    active: bool
    created_at: datetime
    last_ok: datetime | None
    last_error: str | None


def _device(conn: psycopg.Connection, key: str, kind: str) -> dict[str, Any]:
    row = store.device_by_key(conn, token_hash(key))
    if row is None:
        raise ApiProblem(401, "unknown or disabled device key", code="device_key_unknown",
                         headers={"WWW-Authenticate": "X-Device-Key"})
    if row["kind"] != kind:
        raise ApiProblem(403, f"this device is a {row['kind']}, not a {kind}", code="device_wrong_kind",
                         params={"kind": row["kind"], "expected": kind})
    return row


def _when(value: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if value is None:
        return now
    if value.tzinfo is None:
        raise ApiError(422, "body.time", "must include a UTC offset (e.g. 2026-11-20T08:30:00+07:00)",
                       code="time_needs_offset")
    if not now - timedelta(days=30) <= value <= now + timedelta(minutes=10):
        raise ApiError(422, "body.time", "must be within the last 30 days (check the device's clock)",
                       code="time_out_of_range", params={"max_days": 30})
    return value


def _counter(conn: psycopg.Connection, device: dict[str, Any], number: int | None) -> int | None:
    if number is None:
        return device["counter_id"]
    found = store.counter_by_number(conn, device["site_id"], number)
    if found is None:
        raise ApiError(422, "body.counter_number", f"no counter {number} at this device's site",
                       code="unknown_counter_number", params={"number": number})
    return found


def _record_once(conn: psycopg.Connection, table: str, device: dict[str, Any], body: TicketIn | RatingIn,
                 values: dict[str, Any]) -> JSONResponse:
    """Insert unless this device event id is already recorded: 201 first time, 200 with duplicate=true after."""
    existing = store.record_once(conn, table, device, body.device_event_id, values)
    stored = existing or values
    out = Accepted(duplicate=existing is not None, device_event_id=body.device_event_id, time=stored["time"],
                   counter_id=stored["counter_id"])
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if existing else 201)


@router.post("/api/integrations/tickets", response_model=Accepted, status_code=201, responses={200: {}, 401: {}})
def ticket_event(*, body: TicketIn, x_device_key: DeviceKey, conn: Conn) -> JSONResponse:
    """A queue-ticket machine reports a ticket issued, called, served or skipped, or an officer's log-in to (or
    log-out of) a counter: from a log-in until the log-out, reports attribute that counter to that officer."""
    device = _device(conn, x_device_key, "ticket_machine")
    if body.kind in ("login", "logout"):
        return _record_once(conn, "officer_checkins", device, body, _checkin(conn, device, body))
    if body.ticket_number is None:
        raise ApiError(422, "body.ticket_number", "a ticket event needs its ticket number", code="needed_for_kind",
                       params={"kind": body.kind})
    values = {"time": _when(body.time), "counter_id": _counter(conn, device, body.counter_number),
              "kind": body.kind, "ticket_number": body.ticket_number, "service": body.service}
    return _record_once(conn, "ticket_events", device, body, values)


def _checkin(conn: psycopg.Connection, device: dict[str, Any], body: TicketIn) -> dict[str, Any]:
    """A log-in or log-out's row: the counter and the officer (by staff code) of the device's site."""
    counter_id = _counter(conn, device, body.counter_number)
    if counter_id is None:
        raise ApiError(422, "body.counter_number", "a log-in names its counter (or the device has one)",
                       code="needed_for_kind", params={"kind": body.kind})
    if body.staff_code is None:
        raise ApiError(422, "body.staff_code", "a log-in names the officer's staff code", code="needed_for_kind",
                       params={"kind": body.kind})
    officer = officer_by_staff_code(conn, device["site_id"], body.staff_code)
    if officer is None:
        raise ApiError(422, "body.staff_code", f"no active officer {body.staff_code} at this device's site",
                       code="unknown_staff_code", params={"staff_code": body.staff_code})
    return {"time": _when(body.time), "counter_id": counter_id, "officer_id": officer["id"], "kind": body.kind}


@router.post("/api/integrations/ratings", response_model=Accepted, status_code=201, responses={200: {}, 401: {}})
def rating(*, body: RatingIn, x_device_key: DeviceKey, conn: Conn) -> JSONResponse:
    """A satisfaction terminal reports a citizen's rating (1-5)."""
    device = _device(conn, x_device_key, "terminal")
    values = {"time": _when(body.time), "counter_id": _counter(conn, device, body.counter_number),
              "score": body.score, "comment": body.comment}
    return _record_once(conn, "ratings", device, body, values)


@router.get("/api/devices", response_model=list[DeviceOut])
def devices(*, user: Admin, conn: Conn) -> list[DeviceOut]:
    return [DeviceOut(**r) for r in store.list_devices(conn, user.scope)]


@router.post("/api/devices", response_model=DeviceCreated, status_code=201, responses={403: {}})
def create_device(*, body: DeviceCreate, request: Request, user: Admin, conn: Conn) -> DeviceCreated:
    """Register a ticket machine or terminal; its key is shown only in this answer."""
    user.check_site_filter([body.site_id])
    if unknown_sites(conn, [body.site_id]):
        raise ApiError(422, "body.site_id", f"no site with id {body.site_id}", code="unknown_site",
                       params={"site_id": body.site_id})
    if body.counter_id is not None and not store.counter_of_site(conn, body.counter_id, body.site_id):
        raise ApiError(422, "body.counter_id", "must be a counter of the device's site", code="counter_not_of_site")
    key = new_token(DEVICE_PREFIX)
    with conn.transaction():
        row = store.add_device(conn, body.device_id, body.kind, body.site_id, body.counter_id, token_hash(key),
                               key[:10])
        audit.record(conn, user, "device.create", "device", row["id"], after=row, remote_addr=client_addr(request))
    return DeviceCreated(**row, key=key)


@router.delete("/api/devices/{device_id}", status_code=204, response_class=Response)
def disable_device(*, device_id: int, request: Request, user: Admin, conn: Conn) -> Response:
    """Disable a device key (its past reports stay)."""
    with conn.transaction():
        row = store.disable_device(conn, device_id, user.scope)
        if row is None:
            raise ApiProblem(404, "device not found", code="device_not_found")
        audit.record(conn, user, "device.disable", "device", device_id, after=row, remote_addr=client_addr(request))
    return Response(status_code=204)


def _check_target(body: TargetIn) -> None:
    url = urlsplit(body.url)
    schemes = ("http", "https") if body.kind == "webhook" else ("mqtt",)
    if url.scheme not in schemes or not url.hostname:
        raise ApiError(422, "body.url", f"a {body.kind} needs a {' or '.join(schemes)}:// URL with a host",
                       code="target_needs_url", params={"kind": body.kind, "schemes": " / ".join(schemes)})


@router.get("/api/outbound", response_model=list[TargetOut])
def targets(*, user: Admin, conn: Conn) -> list[TargetOut]:
    return [TargetOut(**r) for r in store.list_targets(conn, user.scope)]


@router.post("/api/outbound", response_model=TargetOut, status_code=201, responses={403: {}})
def create_target(*, body: TargetIn, request: Request, user: Admin, conn: Conn) -> TargetOut:
    """Send events to a webhook (signed POST) or an MQTT broker; a site-scoped admin must name some of its
    sites."""
    user.check_grant(body.site_ids, "body.site_ids")
    _check_target(body)
    with conn.transaction():
        row = store.add_target(conn, body.model_dump())
        audit.record(conn, user, "outbound.create", "outbound_target", row["id"], after=row,
                     remote_addr=client_addr(request))
    if context(request).outbound is not None:
        context(request).outbound.refresh()
    return TargetOut(**row)


@router.delete("/api/outbound/{target_id}", status_code=204, response_class=Response)
def delete_target(*, target_id: int, request: Request, user: Admin, conn: Conn) -> Response:
    with conn.transaction():
        row = store.delete_target(conn, target_id, user.scope)
        if row is None:
            raise ApiProblem(404, "outbound target not found", code="outbound_target_not_found")
        audit.record(conn, user, "outbound.delete", "outbound_target", target_id, before=row,
                     remote_addr=client_addr(request))
    if context(request).outbound is not None:
        context(request).outbound.refresh()
    return Response(status_code=204)
