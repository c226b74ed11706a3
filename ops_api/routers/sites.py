"""Sites: service centers and streets (everyone reads the sites in scope; admins change them: a site-scoped
admin only its own sites, and it cannot create sites, which would lie outside its scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from core.calendar import CalendarError, WorkingCalendar, check_timezone
from ops_api import changes
from ops_api.changes import SITE
from ops_api.deps import Conn, require
from ops_api.errors import ApiError, ApiProblem
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import provinces, registry_rows

router = APIRouter(prefix="/api/sites", tags=["sites"])
Reader = Annotated[Principal, Depends(require("sites.read"))]
Writer = Annotated[Principal, Depends(require("sites.write"))]

WORKING_HOURS_EXAMPLE = {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": [["07:30", "11:30"]]},
                         "holidays": ["2026-09-02"]}


class SiteFields(StrictIn):
    name: str | None = Field(None, min_length=1, max_length=200, examples=["Trung tâm Phục vụ hành chính công quận 1"])
    kind: Literal["service_center", "street", "other"] | None = None
    level: Literal["province", "commune"] | None = Field(
        None, description="Province or commune center (two levels since 1 July 2025; district is read only).")
    province_id: int | None = Field(None, description="The province the site belongs to (admins of every site).")
    address: str | None = Field(None, max_length=500)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = Field(None, max_length=64, examples=["Asia/Ho_Chi_Minh"])
    working_hours: dict[str, Any] | None = Field(None, examples=[WORKING_HOURS_EXAMPLE])
    capacity: int | None = Field(None, gt=0, le=100_000, description="Hall capacity (hall_overcrowded).")


class SiteCreate(SiteFields):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["q1-hcc"])
    name: str = Field(min_length=1, max_length=200, examples=["Trung tâm Phục vụ hành chính công quận 1"])
    kind: Literal["service_center", "street", "other"] = "service_center"


class SiteOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    level: str | None = Field(description="province, commune, or district (created before the reform)")
    province_id: int | None = None
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    working_hours: dict[str, Any]
    capacity: int | None
    created_at: datetime
    updated_at: datetime


def _province(conn: Conn, user: Principal, fields: dict[str, Any]) -> None:
    """Putting a site in a province widens who sees it (the province's managers): admins of every site only."""
    if "province_id" not in fields:
        return
    if user.site_ids is not None:
        raise ApiProblem(403, "only an admin of every site may change a site's province",
                         code="province_change_needs_every_site")
    if fields["province_id"] is not None and provinces.find_province(conn, fields["province_id"]) is None:
        raise ApiError(422, "body.province_id", f"no province with id {fields['province_id']}", code="unknown_province",
                       params={"province_id": fields["province_id"]})


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    if "timezone" in fields and fields["timezone"] is not None:
        try:
            check_timezone(fields["timezone"])
        except CalendarError as exc:
            raise ApiError(422, "body.timezone", str(exc), code="unknown_time_zone",
                           params={"timezone": fields["timezone"]}) from None
    if fields.get("working_hours") is not None:
        try:
            WorkingCalendar.from_dict(fields["working_hours"], field="body.working_hours")
        except CalendarError as exc:
            field, _, message = str(exc).partition(": ")
            # The calendar's text is the only account of what is wrong: it travels as the detail.
            raise ApiError(422, field or "body.working_hours", message or str(exc), code="invalid_working_hours",
                           params={"detail": message or str(exc)}) from None
    return fields


@router.get("", response_model=list[SiteOut])
def sites(*, kind: Annotated[Literal["service_center", "street", "other"] | None, Query()] = None, user: Reader,
          conn: Conn) -> list[SiteOut]:
    return [SiteOut(**r) for r in registry_rows.list_sites(conn, user.scope, kind)]


@router.get("/{site_id}", response_model=SiteOut)
def one_site(*, site_id: int, user: Reader, conn: Conn) -> SiteOut:
    return SiteOut(**registry_rows.get_site(conn, site_id, user.scope))


@router.post("", response_model=SiteOut, status_code=201, responses={403: {}})
def create_site(*, body: SiteCreate, request: Request, user: Writer, conn: Conn) -> SiteOut:
    if user.site_ids is not None:
        raise ApiProblem(403, "only an admin of every site may create sites", code="site_create_needs_every_site")
    fields = _validated({k: v for k, v in body.model_dump().items() if v is not None})
    _province(conn, user, fields)
    return SiteOut(**changes.create(conn, request, user, SITE, fields))


@router.patch("/{site_id}", response_model=SiteOut)
def update_site(*, site_id: int, body: SiteFields, request: Request, user: Writer, conn: Conn) -> SiteOut:
    fields = _validated(body.model_dump(exclude_unset=True))
    for required in ("name", "kind", "timezone", "working_hours"):
        if required in fields and fields[required] is None:
            raise ApiError(422, f"body.{required}", "cannot be null", code="cannot_be_null")
    _province(conn, user, fields)
    return SiteOut(**changes.update(conn, request, user, SITE, site_id, fields))


@router.delete("/{site_id}", status_code=204, response_class=Response, responses={409: {}})
def delete_site(*, site_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    """Delete a site without cameras (409 while cameras still belong to it)."""

    def no_cameras(_: dict[str, Any]) -> None:
        if registry_rows.site_has_cameras(conn, site_id):
            raise ApiProblem(409, "the site still has cameras; move or delete them first", code="site_has_cameras")

    changes.delete(conn, request, user, SITE, site_id, check=no_cameras)
    return Response(status_code=204)
