"""Zones and lines of a camera, validated by cameras.geometry: an error names the zone and the point."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cameras.geometry import GeometryError, make_zone
from cameras.thresholds import ZoneThresholds
from core.calendar import CalendarError, WorkingCalendar
from ops_api import changes
from ops_api.changes import ZONE
from ops_api.deps import Conn, require
from ops_api.errors import ApiError
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import registry_rows

router = APIRouter(tags=["zones"])
Reader = Annotated[Principal, Depends(require("cameras.read"))]
Writer = Annotated[Principal, Depends(require("cameras.write"))]
ZoneKindName = Literal["counter_staff", "counter_customer", "queue", "restricted", "no_stopping", "crowd", "lane",
                       "line"]


class ZoneIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "queue-hall", "kind": "queue", "points": [[0.1, 0.5], [0.6, 0.5], [0.6, 0.95], [0.1, 0.95]]}]})
    name: str = Field(min_length=1, max_length=200)
    kind: ZoneKindName
    points: list[list[float]] = Field(min_length=2, max_length=64, description="[[x, y], ...] normalized 0..1")
    direction: list[float] | None = Field(None, min_length=2, max_length=2, description="[dx, dy] lanes and lines")
    classes: list[str] | None = Field(None, max_length=16)
    thresholds: ZoneThresholds = Field(default_factory=ZoneThresholds,
                                       description="Known keys only (cameras/thresholds.py); null: the rule's default.")
    schedule: dict[str, Any] | None = None


class ZoneOut(BaseModel):
    id: int
    camera_id: int
    name: str
    kind: str
    points: list[list[float]]
    direction: list[float] | None
    classes: list[str] | None
    thresholds: dict[str, Any]
    schedule: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> ZoneOut:
        return cls(**{k: row[k] for k in cls.model_fields if k != "points"}, points=row["geometry"])


FIELD_OF_CODE = {"zone_needs_name": "body.name", "zone_unknown_kind": "body.kind", "zone_unknown_class": "body.classes",
                 "zone_needs_direction": "body.direction", "direction_not_pair": "body.direction",
                 "direction_zero": "body.direction"}


def _field_of(error: GeometryError) -> str:
    if "key" in error.params:
        return f"body.thresholds.{error.params['key']}"
    if error.point is not None:
        return f"body.points.{error.point}"
    return FIELD_OF_CODE.get(error.code, "body.points")


def _validated(body: ZoneIn) -> dict[str, Any]:
    """Columns of a valid zone, or 422 naming the zone and the point at fault."""
    try:
        spec = make_zone(body.name, body.kind, body.points, body.direction, body.classes,
                         body.thresholds.model_dump(exclude_none=True), body.schedule)
    except GeometryError as exc:
        raise ApiError(422, _field_of(exc), str(exc), code=exc.code, params=exc.params) from None
    if body.schedule is not None:
        try:
            WorkingCalendar.from_dict(body.schedule, field="body.schedule")
        except CalendarError as exc:
            field, _, message = str(exc).partition(": ")
            # The calendar's text is the only account of what is wrong: it travels as the detail.
            raise ApiError(422, field, f"zone '{spec.name}': {message}", code="invalid_schedule",
                           params={"zone": spec.name, "detail": message}) from None
    return {"name": spec.name, "kind": spec.kind.value, "geometry": [list(p) for p in spec.points],
            "direction": list(spec.direction) if spec.direction else None,
            "classes": sorted(spec.classes) if spec.classes is not None else None,
            "thresholds": dict(spec.thresholds), "schedule": body.schedule or None}


@router.get("/api/cameras/{camera_id}/zones", response_model=list[ZoneOut])
def zones(*, camera_id: int, user: Reader, conn: Conn) -> list[ZoneOut]:
    registry_rows.get_camera(conn, camera_id, user.scope)
    return [ZoneOut.of(r) for r in registry_rows.list_zones(conn, camera_id)]


@router.post("/api/cameras/{camera_id}/zones", response_model=ZoneOut, status_code=201)
def create_zone(*, camera_id: int, body: ZoneIn, request: Request, user: Writer, conn: Conn) -> ZoneOut:
    registry_rows.get_camera(conn, camera_id, user.scope)
    fields = {"camera_id": camera_id, **_validated(body)}
    return ZoneOut.of(changes.create(conn, request, user, ZONE, fields))


@router.get("/api/zones/{zone_id}", response_model=ZoneOut)
def one_zone(*, zone_id: int, user: Reader, conn: Conn) -> ZoneOut:
    return ZoneOut.of(registry_rows.get_zone(conn, zone_id, user.scope))


@router.put("/api/zones/{zone_id}", response_model=ZoneOut)
def replace_zone(*, zone_id: int, body: ZoneIn, request: Request, user: Writer, conn: Conn) -> ZoneOut:
    """Replace a zone's name, kind, points and options (the zone editor saves the whole zone)."""
    return ZoneOut.of(changes.update(conn, request, user, ZONE, zone_id, _validated(body)))


@router.delete("/api/zones/{zone_id}", status_code=204, response_class=Response)
def delete_zone(*, zone_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    changes.delete(conn, request, user, ZONE, zone_id)
    return Response(status_code=204)
