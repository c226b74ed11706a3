"""Who works which counter when: a site's weekly roster, a day's exceptions, and the assignments they resolve to
(with the ticket systems' log-ins). Managers and admins of the site; every change audited.

History is never rewritten: a roster entry is never edited, only ended (its last day today or later) or deleted
before it starts; a reassignment in the middle of a day is an exception from that time on. An exception may be
entered for a day gone by (a correction on the record, audited like any change).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError, ApiProblem, not_found
from ops_api.params import Day
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import officers as store
from store.assignments import site_assignments
from store.officers import hhmm
from store.registry_rows import find_counter, get_site

router = APIRouter(tags=["officers"])
Reader = Annotated[Principal, Depends(require("officers.read"))]
Writer = Annotated[Principal, Depends(require("officers.write"))]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"


class RosterIn(StrictIn):
    counter_id: int
    officer_id: int
    weekdays: list[int] = Field(min_length=1, max_length=7, description="ISO weekdays: 1 Monday ... 7 Sunday.",
                                examples=[[1, 2, 3, 4, 5]])
    start: str = Field("00:00", pattern=HHMM, description="Local time; 00:00-24:00 is the site's whole working day.")
    end: str = Field("24:00", pattern=HHMM)
    valid_from: Day
    valid_until: Day | None = None


class RosterEnd(StrictIn):
    valid_until: Day = Field(description="The entry's last day: today or later (the past is not rewritten).")


class ExceptionIn(StrictIn):
    counter_id: int
    officer_id: int | None = Field(description="Who staffs the counter then; null: nobody (leave, closed).")
    day: Day
    start: str = Field("00:00", pattern=HHMM)
    end: str = Field("24:00", pattern=HHMM)
    note: str | None = Field(None, max_length=500)


class RosterOut(BaseModel):
    id: int
    counter_id: int
    counter_number: int
    officer_id: int
    officer_name: str
    weekdays: list[int]
    start: str
    end: str
    valid_from: date
    valid_until: date | None


class ExceptionOut(BaseModel):
    id: int
    counter_id: int
    counter_number: int
    officer_id: int | None
    officer_name: str | None
    day: date
    start: str
    end: str
    note: str | None


class RosterPage(BaseModel):
    entries: list[RosterOut]
    exceptions: list[ExceptionOut]


class AssignmentRow(BaseModel):
    counter_id: int
    officer_id: int
    officer_name: str
    start: datetime
    end: datetime
    source: str


def _roster(row: dict[str, Any]) -> RosterOut:
    return RosterOut(**{k: v for k, v in row.items() if k in RosterOut.model_fields},
                     start=hhmm(row["start_minute"]), end=hhmm(row["end_minute"]))


def _exception(row: dict[str, Any]) -> ExceptionOut:
    return ExceptionOut(**{k: v for k, v in row.items() if k in ExceptionOut.model_fields},
                        start=hhmm(row["start_minute"]), end=hhmm(row["end_minute"]))


def _today(site: dict[str, Any]) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(site["timezone"])).date()


def _check(conn: psycopg.Connection, site_id: int, counter_id: int, officer_id: int | None, start: str,
           end: str) -> None:
    """The counter and the officer must be the site's, the hours in order."""
    counter = find_counter(conn, counter_id)
    if counter is None or counter["site_id"] != site_id:
        raise ApiError(422, "body.counter_id", "must be a counter of this site", code="counter_not_of_site")
    if officer_id is not None:
        officer = store.find_officer(conn, officer_id)
        if officer is None or officer["site_id"] != site_id:
            raise ApiError(422, "body.officer_id", "must be an officer of this site", code="officer_not_of_site")
    if end <= start:
        raise ApiError(422, "body.end", "must be after start", code="end_not_after_start")


@router.get("/api/sites/{site_id}/roster", response_model=RosterPage)
def roster(*, site_id: int, day_from: Annotated[Day | None, Query()] = None,
           day_to: Annotated[Day | None, Query()] = None, user: Reader, conn: Conn) -> RosterPage:
    """The roster entries in force some day of [day_from, day_to] (default: from today on) and that period's
    exceptions (default: the next 31 days)."""
    site = get_site(conn, site_id, user.scope)
    first = day_from or _today(site)
    last = day_to or date.fromordinal(first.toordinal() + 31)
    if last < first:
        raise ApiError(422, "query.day_to", "must not be before day_from", code="date_to_before_date_from")
    return RosterPage(entries=[_roster(r) for r in store.list_rosters(conn, site_id, first, day_to)],
                      exceptions=[_exception(r) for r in store.list_exceptions(conn, site_id, first, last)])


@router.post("/api/sites/{site_id}/roster", response_model=RosterOut, status_code=201, responses={409: {}})
def add_roster(*, site_id: int, body: RosterIn, request: Request, user: Writer, conn: Conn) -> RosterOut:
    """A weekly roster entry: this officer works this counter on these weekdays between these hours, from
    valid_from (until valid_until, or further notice). Two entries may not staff one counter at once."""
    get_site(conn, site_id, user.scope)
    _check(conn, site_id, body.counter_id, body.officer_id, body.start, body.end)
    if any(d < 1 or d > 7 for d in body.weekdays):
        raise ApiError(422, "body.weekdays", "weekdays are 1 (Monday) to 7 (Sunday)", code="weekday_out_of_range")
    if body.valid_until is not None and body.valid_until < body.valid_from:
        raise ApiError(422, "body.valid_until", "must not be before valid_from", code="date_to_before_date_from")
    with conn.transaction():
        clash = store.roster_overlap(conn, body.counter_id, body.weekdays, body.start, body.end, body.valid_from,
                                     body.valid_until)
        if clash is not None:
            raise ApiProblem(409, f"roster entry {clash['id']} staffs this counter at the same time",
                             code="roster_overlap", params={"roster_id": clash["id"]})
        row = store.insert_roster(conn, body.counter_id, body.officer_id, body.weekdays, body.start, body.end,
                                  body.valid_from, body.valid_until)
        audit.record(conn, user, "roster.create", "roster", row["id"], after=row, remote_addr=client_addr(request))
    return _roster(row)


def _visible_roster(conn: psycopg.Connection, roster_id: int, user: Principal) -> dict[str, Any]:
    found = store.find_roster(conn, roster_id, user.scope)
    if found is None:
        raise not_found("roster")
    return found


@router.patch("/api/roster/{roster_id}", response_model=RosterOut)
def end_roster(*, roster_id: int, body: RosterEnd, request: Request, user: Writer, conn: Conn) -> RosterOut:
    """End an entry: its last day, today or later (days gone by keep their attribution)."""
    with conn.transaction():
        before = _visible_roster(conn, roster_id, user)
        today = _today(get_site(conn, before["site_id"]))
        if body.valid_until < max(today, before["valid_from"]):
            raise ApiError(422, "body.valid_until", "must be today or later (and not before the entry starts)",
                           code="roster_end_in_past", params={"min": max(today, before["valid_from"]).isoformat()})
        after = store.end_roster(conn, roster_id, body.valid_until)
        audit.record(conn, user, "roster.end", "roster", roster_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return _roster(after)


@router.delete("/api/roster/{roster_id}", status_code=204, response_class=Response, responses={409: {}})
def delete_roster(*, roster_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    """Delete an entry that has not started yet (one in force is ended instead: 409)."""
    with conn.transaction():
        before = _visible_roster(conn, roster_id, user)
        if before["valid_from"] <= _today(get_site(conn, before["site_id"])):
            raise ApiProblem(409, "the entry is in force already: end it instead", code="roster_in_use")
        store.delete_roster(conn, roster_id)
        audit.record(conn, user, "roster.delete", "roster", roster_id, before=before, remote_addr=client_addr(request))
    return Response(status_code=204)


@router.post("/api/sites/{site_id}/roster-exceptions", response_model=ExceptionOut, status_code=201)
def add_exception(*, site_id: int, body: ExceptionIn, request: Request, user: Writer, conn: Conn) -> ExceptionOut:
    """One day's exception: between these hours the counter is staffed by this officer instead (or by nobody).
    A reassignment in the middle of a day is an exception from that time to 24:00."""
    get_site(conn, site_id, user.scope)
    _check(conn, site_id, body.counter_id, body.officer_id, body.start, body.end)
    with conn.transaction():
        row = store.insert_exception(conn, body.counter_id, body.officer_id, body.day, body.start, body.end,
                                     body.note)
        audit.record(conn, user, "roster_exception.create", "roster_exception", row["id"], after=row,
                     remote_addr=client_addr(request))
    return _exception(row)


@router.delete("/api/roster-exceptions/{exception_id}", status_code=204, response_class=Response)
def delete_exception(*, exception_id: int, request: Request, user: Writer, conn: Conn) -> Response:
    with conn.transaction():
        before = store.find_exception(conn, exception_id, user.scope)
        if before is None:
            raise not_found("roster_exception")
        store.delete_exception(conn, exception_id)
        audit.record(conn, user, "roster_exception.delete", "roster_exception", exception_id, before=before,
                     remote_addr=client_addr(request))
    return Response(status_code=204)


@router.get("/api/sites/{site_id}/assignments", response_model=list[AssignmentRow])
def assignments(*, site_id: int, day: Annotated[Day | None, Query()] = None, user: Reader,
                conn: Conn) -> list[AssignmentRow]:
    """Who was (or is) assigned to each counter that day, as reports attribute it: log-ins over exceptions over
    the roster."""
    site = get_site(conn, site_id, user.scope)
    day = day or _today(site)
    names = {r["id"]: r["full_name"] for r in store.list_officers(conn, None, site_id)}
    found = site_assignments(conn, site_id, site["timezone"], day, day)[day]
    return [AssignmentRow(counter_id=a.counter_id, officer_id=a.officer_id, officer_name=names.get(a.officer_id, "?"),
                          start=a.start, end=a.end, source=a.source) for a in found]
