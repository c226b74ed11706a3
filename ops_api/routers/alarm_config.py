"""What raises an alarm and what an operator does about it: alarm rules (per site, overridable per camera and
zone; priority, schedule, grouping, auto-close) and procedures (each event type's checklist, per site or for every
site). Everyone who reads alarms reads them; managers and admins change them, a site-scoped one for its own sites
only (the defaults of every site belong to admins of every site). Every change is an audit row."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from core.calendar import DEFAULT_TIMEZONE, CalendarError, WorkingCalendar
from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import alarm_rules as store
from store.registry_rows import find_site

router = APIRouter(tags=["alarm rules"])
Reader = Annotated[Principal, Depends(require("events.read"))]
Configurer = Annotated[Principal, Depends(require("alarms.configure"))]
EventType = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$", examples=["intrusion"])]
NIGHT = {"weekly": {d: [["00:00", "06:00"], ["18:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                                         "sun")}}


class RuleSettings(StrictIn):
    raises: bool | None = Field(None, description="False: such events stay events (searchable, no alarm).")
    priority: int | None = Field(None, ge=1, le=5, description="1 most urgent .. 5")
    schedule: dict[str, Any] | None = Field(None, examples=[NIGHT], description="When it raises alarms, in the "
                                            "site's time zone (the working-hours shape: weekly sessions, holidays, "
                                            "extra_days); null: always.")
    group_s: int | None = Field(None, ge=0, le=86400, description="Events of the type on one camera within this "
                                "long of its open alarm's newest event join that alarm (0: never).")
    auto_close_s: int | None = Field(None, ge=60, le=2592000, description="Close an unresolved alarm this long "
                                     "after its incident ended (null: never).")


class RuleCreate(RuleSettings):
    event_type: EventType
    site_id: int | None = Field(None, description="null: the default of every site (admins of every site).")
    camera_id: int | None = Field(None, description="Only this camera of the site.")
    zone_id: int | None = Field(None, description="Only this zone of the camera.")


class RuleOut(BaseModel):
    id: int
    site_id: int | None
    camera_id: int | None
    zone_id: int | None
    event_type: str
    raises: bool
    priority: int
    schedule: dict[str, Any] | None
    group_s: int
    auto_close_s: int | None


class Step(StrictIn):
    text: str = Field(min_length=1, max_length=500, examples=["Gọi đội trật tự khu vực"])
    required: bool = True


class ProcedureBody(StrictIn):
    site_id: int | None = Field(None, description="null: every site's (admins of every site).")
    event_type: EventType
    steps: list[Step] = Field(max_length=30)


class ProcedureOut(BaseModel):
    id: int
    site_id: int | None
    event_type: str
    steps: list[Step]


def _schedule(conn: psycopg.Connection, site_id: int | None, schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schedule checked as a calendar and stored in its normal form (in the site's zone unless it names one)."""
    if schedule is None:
        return None
    zone = (store.site_timezone(conn, site_id) if site_id is not None else None) or DEFAULT_TIMEZONE
    try:
        calendar = WorkingCalendar.from_dict(schedule, field="body.schedule", default_timezone=zone)
    except CalendarError as exc:
        field, _, message = str(exc).partition(": ")
        raise ApiError(422, field or "body.schedule", message or str(exc), code="invalid_alarm_schedule",
                       params={"detail": message or str(exc)}) from None
    normal = calendar.to_dict()
    if "timezone" not in schedule:
        normal.pop("timezone")  # the site's zone, whatever it becomes
    return normal


def _where(conn: psycopg.Connection, user: Principal, body: RuleCreate) -> dict[str, Any]:
    """The rule's site, camera and zone, each checked against the others and the user's sites."""
    site, camera, zone = body.site_id, body.camera_id, body.zone_id
    if zone is not None:
        owner = store.zone_camera(conn, zone)
        if owner is None:
            raise ApiError(422, "body.zone_id", f"no zone with id {zone}", code="unknown_zone",
                           params={"zone_id": zone})
        if camera is not None and camera != owner:
            raise ApiError(422, "body.zone_id", "the zone is not on this camera", code="zone_not_of_rule_camera")
        camera = owner
    if camera is not None:
        owner = store.camera_site(conn, camera)
        if owner is None:
            raise ApiError(422, "body.camera_id", f"no camera with id {camera}", code="unknown_camera",
                           params={"camera_id": camera})
        if site is not None and site != owner:
            raise ApiError(422, "body.camera_id", "the camera is not of this site", code="camera_not_of_site")
        site = owner
    if site is not None and find_site(conn, site) is None:
        raise ApiError(422, "body.site_id", f"no site with id {site}", code="unknown_site", params={"site_id": site})
    user.check_grant(None if site is None else [site], "body.site_id")
    return {"site_id": site, "camera_id": camera, "zone_id": zone}


@router.get("/api/alarm-rules", response_model=list[RuleOut])
def rules(*, site_id: int | None = None, event_type: str | None = Query(None, max_length=64), user: Reader,
          conn: Conn) -> list[RuleOut]:
    """The defaults of every site and the rules of the user's sites (of ``site_id`` when given), by type."""
    if site_id is not None:
        user.check_site_filter([site_id])
    return [RuleOut(**r) for r in store.list_rules(conn, user.scope, site_id, event_type)]


@router.post("/api/alarm-rules", response_model=RuleOut, status_code=201, responses={403: {}, 409: {}})
def add_rule(*, body: RuleCreate, request: Request, user: Configurer, conn: Conn) -> RuleOut:
    """A rule for a site (or one camera, or one zone of it): the most specific rule decides for an event."""
    fields = {**_where(conn, user, body), "event_type": body.event_type,
              **{k: v for k, v in body.model_dump(include=set(RuleSettings.model_fields)).items() if v is not None}}
    fields["schedule"] = _schedule(conn, fields["site_id"], body.schedule)
    with conn.transaction():
        row = store.insert_rule(conn, fields)
        audit.record(conn, user, "alarm_rule.create", "alarm_rule", row["id"], after=row,
                     remote_addr=client_addr(request))
    return RuleOut(**row)


@router.patch("/api/alarm-rules/{rule_id}", response_model=RuleOut, responses={403: {}})
def update_rule(*, rule_id: int, body: RuleSettings, request: Request, user: Configurer, conn: Conn) -> RuleOut:
    """Change a rule's settings (its place and type stay: delete it and add another)."""
    fields = body.model_dump(exclude_unset=True)
    for required in ("raises", "priority", "group_s"):
        if required in fields and fields[required] is None:
            raise ApiError(422, f"body.{required}", "cannot be null", code="cannot_be_null")
    with conn.transaction():
        before = store.get_rule(conn, rule_id, user.scope)
        user.check_grant(None if before["site_id"] is None else [before["site_id"]], "site_id")
        if "schedule" in fields:
            fields["schedule"] = _schedule(conn, before["site_id"], fields["schedule"])
        after = store.update_rule(conn, rule_id, fields) if fields else before
        audit.record(conn, user, "alarm_rule.update", "alarm_rule", rule_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return RuleOut(**after)


@router.delete("/api/alarm-rules/{rule_id}", status_code=204, response_class=Response, responses={403: {}})
def delete_rule(*, rule_id: int, request: Request, user: Configurer, conn: Conn) -> Response:
    """Remove a rule: the next less specific one decides again (open alarms it raised stay)."""
    with conn.transaction():
        before = store.get_rule(conn, rule_id, user.scope)
        user.check_grant(None if before["site_id"] is None else [before["site_id"]], "site_id")
        store.delete_rule(conn, rule_id)
        audit.record(conn, user, "alarm_rule.delete", "alarm_rule", rule_id, before=before,
                     remote_addr=client_addr(request))
    return Response(status_code=204)


@router.get("/api/procedures", response_model=list[ProcedureOut])
def procedures(*, site_id: int | None = None, event_type: str | None = Query(None, max_length=64), user: Reader,
               conn: Conn) -> list[ProcedureOut]:
    """Every site's procedures and those of the user's sites (of ``site_id`` when given), by type."""
    if site_id is not None:
        user.check_site_filter([site_id])
    return [ProcedureOut(**r) for r in store.list_procedures(conn, user.scope, site_id, event_type)]


@router.put("/api/procedures", response_model=ProcedureOut, responses={403: {}})
def save_procedure(*, body: ProcedureBody, request: Request, user: Configurer, conn: Conn) -> ProcedureOut:
    """Create or replace the checklist of a site (or every site) and event type; alarms raised from now on get
    it, open ones keep the one they started with."""
    if body.site_id is not None and find_site(conn, body.site_id) is None:
        raise ApiError(422, "body.site_id", f"no site with id {body.site_id}", code="unknown_site",
                       params={"site_id": body.site_id})
    user.check_grant(None if body.site_id is None else [body.site_id], "body.site_id")
    steps = [s.model_dump() for s in body.steps]
    with conn.transaction():
        before = store.find_procedure(conn, body.site_id, body.event_type)
        row = store.save_procedure(conn, body.site_id, body.event_type, steps)
        audit.record(conn, user, "procedure.save", "procedure", row["id"], before=before, after=row,
                     remote_addr=client_addr(request))
    return ProcedureOut(**row)


@router.delete("/api/procedures/{procedure_id}", status_code=204, response_class=Response, responses={403: {}})
def delete_procedure(*, procedure_id: int, request: Request, user: Configurer, conn: Conn) -> Response:
    with conn.transaction():
        before = store.get_procedure(conn, procedure_id, user.scope)
        user.check_grant(None if before["site_id"] is None else [before["site_id"]], "site_id")
        store.delete_procedure(conn, procedure_id)
        audit.record(conn, user, "procedure.delete", "procedure", procedure_id, before=before,
                     remote_addr=client_addr(request))
    return Response(status_code=204)
