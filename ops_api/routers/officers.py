"""Officers as people (full name, staff code, department, active) and each one's monthly report.

Officers' pages and reports are personal data about staff: managers and admins only, within their sites (a
commune center's manager sees its own officers, a province-wide manager every center of the province); another
site's officer does not exist for them (404). Every change is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError
from ops_api.params import Month
from ops_api.roles import Principal
from ops_api.routers.reports import absence_addresses, store_input_error
from ops_api.schemas import StrictIn
from store import officers as store
from store.errors import StoreInputError
from store.queries.officer_report import OfficerFigures, officer_month
from store.registry_rows import get_site

router = APIRouter(tags=["officers"])
Reader = Annotated[Principal, Depends(require("officers.read"))]
Writer = Annotated[Principal, Depends(require("officers.write"))]
STAFF_CODE = r"^[A-Za-z0-9._:-]{1,64}$"


class OfficerFields(StrictIn):
    full_name: str | None = Field(None, min_length=1, max_length=200, examples=["Trần Thị Bình"])
    staff_code: str | None = Field(None, pattern=STAFF_CODE, examples=["CB-0231"],
                                   description="The code a ticket system's log-in names the officer by.")
    department: str | None = Field(None, max_length=200, examples=["Tư pháp - Hộ tịch"])
    active: bool | None = None


class OfficerCreate(OfficerFields):
    site_id: int
    full_name: str = Field(min_length=1, max_length=200, examples=["Trần Thị Bình"])
    staff_code: str = Field(pattern=STAFF_CODE, examples=["CB-0231"])


class OfficerOut(BaseModel):
    id: int
    site_id: int
    full_name: str
    staff_code: str
    department: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class Figures(BaseModel):
    day: date | None = None
    hours_scheduled: float = Field(description="Assigned hours within the site's working hours.")
    hours_present: float = Field(description="Of those, hours seen at the desk.")
    hours_unobserved: float = Field(description="Of those, hours without presence data (camera down, none).")
    presence_rate: float | None = Field(description="Present share of the observed scheduled hours.")
    absences: int
    citizens_served: int
    service_mean_s: float | None
    service_p90_s: float | None
    wait_mean_s: float | None
    wait_p90_s: float | None
    tickets_served: int
    ratings: int
    rating_mean: float | None
    satisfaction_rate: float | None = Field(description="Share of ratings of 4 or 5.")


class AbsenceOut(BaseModel):
    counter_id: int
    start: datetime
    end: datetime
    minutes: float
    event_id: UUID | None = Field(None, description="The officer_absent event; with camera_id, start and end it "
                                                    "names the recording of the absence.")
    camera_id: int | None = None
    evidence: dict[str, str] = Field(default_factory=dict, description="The event's pictures: label -> address.")


class AssignmentOut(BaseModel):
    counter_id: int
    start: datetime
    end: datetime
    source: str = Field(description="roster, exception or checkin (a ticket system's log-in)")


class OfficerReport(BaseModel):
    officer: OfficerOut
    month: str
    timezone: str
    total: Figures
    days: list[Figures]
    absences: list[AbsenceOut]
    assignments: list[AssignmentOut]


def figures_out(found: OfficerFigures) -> Figures:
    observed = found.scheduled_s - found.unobserved_s
    return Figures(day=found.day, hours_scheduled=round(found.scheduled_s / 3600, 2),
                   hours_present=round(found.present_s / 3600, 2), hours_unobserved=round(found.unobserved_s / 3600, 2),
                   presence_rate=found.present_s / observed if observed > 0 else None, absences=found.absences,
                   citizens_served=found.sessions, service_mean_s=found.service_mean_s,
                   service_p90_s=found.service_p90_s, wait_mean_s=found.wait_mean_s, wait_p90_s=found.wait_p90_s,
                   tickets_served=found.tickets_served, ratings=found.ratings, rating_mean=found.rating_mean,
                   satisfaction_rate=found.ratings_satisfied / found.ratings if found.ratings else None)


def _unique(conn: psycopg.Connection, site_id: int, staff_code: str, officer_id: int | None = None) -> None:
    other = store.officer_by_staff_code(conn, site_id, staff_code)
    if other is not None and other["id"] != officer_id:
        raise ApiError(409, "body.staff_code", f"staff code {staff_code} is taken at this site",
                       code="staff_code_taken", params={"staff_code": staff_code})


@router.get("/api/officers", response_model=list[OfficerOut])
def officers(*, site_id: Annotated[int | None, Query()] = None, user: Reader, conn: Conn) -> list[OfficerOut]:
    """The officers of the user's sites (of one site when given)."""
    if site_id is not None:
        user.check_site_filter([site_id])
    return [OfficerOut(**r) for r in store.list_officers(conn, user.scope, site_id)]


@router.get("/api/officers/{officer_id}", response_model=OfficerOut)
def one_officer(*, officer_id: int, user: Reader, conn: Conn) -> OfficerOut:
    return OfficerOut(**store.get_officer(conn, officer_id, user.scope))


@router.post("/api/officers", response_model=OfficerOut, status_code=201, responses={409: {}})
def create_officer(*, body: OfficerCreate, request: Request, user: Writer, conn: Conn) -> OfficerOut:
    user.check_site_filter([body.site_id])
    get_site(conn, body.site_id, user.scope)
    with conn.transaction():
        _unique(conn, body.site_id, body.staff_code)
        row = store.insert_officer(conn, body.model_dump(exclude_none=True))
        audit.record(conn, user, "officer.create", "officer", row["id"], after=row, remote_addr=client_addr(request))
    return OfficerOut(**row)


@router.patch("/api/officers/{officer_id}", response_model=OfficerOut, responses={409: {}})
def update_officer(*, officer_id: int, body: OfficerFields, request: Request, user: Writer,
                   conn: Conn) -> OfficerOut:
    """Change name, staff code, department or active state (past attribution keeps the person, not the name)."""
    fields = body.model_dump(exclude_unset=True)
    for required in ("full_name", "staff_code", "active"):
        if required in fields and fields[required] is None:
            raise ApiError(422, f"body.{required}", "cannot be null", code="cannot_be_null")
    with conn.transaction():
        before = store.get_officer(conn, officer_id, user.scope)
        if fields.get("staff_code"):
            _unique(conn, before["site_id"], fields["staff_code"], officer_id)
        after = store.update_officer(conn, officer_id, fields)
        audit.record(conn, user, "officer.update", "officer", officer_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return OfficerOut(**after)


@router.get("/api/officers/{officer_id}/report", response_model=OfficerReport)
def officer_report(*, officer_id: int, month: Annotated[Month, Query(description="YYYY-MM")], user: Reader,
                   conn: Conn) -> OfficerReport:
    """The officer's month at its site: hours scheduled and present, absences with their evidence, citizens
    served, service and wait times (mean, p90), tickets served and ratings, in total and per day; every figure
    attributed to the officer by who was assigned when."""
    officer = store.get_officer(conn, officer_id, user.scope)
    site = get_site(conn, officer["site_id"], user.scope)
    first: date = month  # type: ignore[assignment]  # Month reads YYYY-MM as its first day
    try:
        found = officer_month(conn, officer, site, first, now=datetime.now(UTC))
    except StoreInputError as exc:
        raise store_input_error(exc) from None
    return OfficerReport(
        officer=OfficerOut(**officer), month=first.strftime("%Y-%m"), timezone=site["timezone"],
        total=figures_out(found.total), days=[figures_out(d) for d in found.days],
        absences=[AbsenceOut(counter_id=a.counter_id, start=a.start, end=a.end, minutes=round(a.minutes, 1),
                             event_id=a.event_id, camera_id=a.camera_id,
                             evidence=absence_addresses(a.event_id, a.evidence)) for a in found.absences],
        assignments=[AssignmentOut(counter_id=a.counter_id, start=a.start, end=a.end, source=a.source)
                     for a in found.assignments])


def officer_names(conn: psycopg.Connection, site_id: int) -> dict[int, dict[str, Any]]:
    """The site's officers by id (the caller checked the site's scope)."""
    return {r["id"]: r for r in store.list_officers(conn, None, site_id)}
