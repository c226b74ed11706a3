"""Service counters: which desk, department and officer, and the camera and zones that watch it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ops_api import changes
from ops_api.changes import COUNTER
from ops_api.deps import Conn, require
from ops_api.errors import ApiError
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import registry_rows

router = APIRouter(prefix="/api/counters", tags=["counters"])
Reader = Annotated[Principal, Depends(require("counters.read"))]
Writer = Annotated[Principal, Depends(require("counters.write"))]


class CounterFields(StrictIn):
    number: int | None = Field(None, gt=0, le=10_000, examples=[3])
    department: str | None = Field(None, min_length=1, max_length=200, examples=["Tư pháp - Hộ tịch"])
    officer: str | None = Field(None, max_length=200, examples=["Trần Thị Bình"])
    camera_id: int | None = None
    staff_zone_id: int | None = None
    customer_zone_id: int | None = None


class CounterCreate(CounterFields):
    site_id: int
    number: int = Field(gt=0, le=10_000, examples=[3])
    department: str = Field(min_length=1, max_length=200, examples=["Tư pháp - Hộ tịch"])


class CounterOut(BaseModel):
    id: int
    site_id: int
    number: int
    department: str
    officer: str | None
    camera_id: int | None
    staff_zone_id: int | None
    customer_zone_id: int | None
    created_at: datetime
    updated_at: datetime


def _check_links(conn: psycopg.Connection, site_id: int, fields: dict[str, Any], current: dict | None = None) -> None:
    """The camera must be of the counter's site and the zones of kinds counter_staff / counter_customer on it."""
    merged = {**(current or {}), **fields}
    camera_id = merged.get("camera_id")
    if camera_id is not None:
        camera = registry_rows.find_camera(conn, camera_id)
        if camera is None or camera["site_id"] != site_id:
            raise ApiError(422, "body.camera_id", "must be a camera of the counter's site", code="camera_not_of_site")
    for key, kind in (("staff_zone_id", "counter_staff"), ("customer_zone_id", "counter_customer")):
        zone_id = merged.get(key)
        if zone_id is None:
            continue
        zone = registry_rows.find_zone(conn, zone_id)
        if zone is None or zone["camera_id"] != camera_id or zone["kind"] != kind:
            raise ApiError(422, f"body.{key}", f"must be a {kind} zone of the counter's camera",
                           code="zone_not_of_camera", params={"kind": kind})


@router.get("", response_model=list[CounterOut])
def counters(*, site_id: Annotated[int | None, Query()] = None, user: Reader, conn: Conn) -> list[CounterOut]:
    if site_id is not None:
        user.check_site_filter([site_id])
    return [CounterOut(**r) for r in registry_rows.list_counters(conn, user.scope, site_id)]


@router.get("/{counter_id}", response_model=CounterOut)
def one_counter(*, counter_id: int, user: Reader, conn: Conn) -> CounterOut:
    return CounterOut(**registry_rows.get_counter(conn, counter_id, user.scope))


@router.post("", response_model=CounterOut, status_code=201)
def create_counter(*, body: CounterCreate, request: Request, user: Writer, conn: Conn) -> CounterOut:
    user.check_site_filter([body.site_id])
    changes.known_site(conn, body.site_id)
    fields = {k: v for k, v in body.model_dump().items() if v is not None}
    _check_links(conn, body.site_id, fields)
    return CounterOut(**changes.create(conn, request, user, COUNTER, fields))


@router.patch("/{counter_id}", response_model=CounterOut)
def update_counter(*, counter_id: int, body: CounterFields, request: Request, user: Writer,
                   conn: Conn) -> CounterOut:
    fields = body.model_dump(exclude_unset=True)
    for required in ("number", "department"):
        if required in fields and fields[required] is None:
            raise ApiError(422, f"body.{required}", "cannot be null", code="cannot_be_null")
    return CounterOut(**changes.update(conn, request, user, COUNTER, counter_id, fields,
                                       check=lambda before: _check_links(conn, before["site_id"], fields, before)))


@router.delete("/{counter_id}", status_code=204, response_class=Response)
def delete_counter(*, counter_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    changes.delete(conn, request, user, COUNTER, counter_id)
    return Response(status_code=204)
