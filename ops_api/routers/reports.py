"""Reports: live counter state, a counter's timeline and daily audit, the hall's queue and waits, and a
street's line counts and incidents (site scope applies; managers and admins read counters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from ops_api.deps import Conn, require
from ops_api.errors import ApiError
from ops_api.params import Day as LocalDay
from ops_api.params import Moment
from ops_api.roles import Principal
from ops_api.schemas import evidence_urls
from store.assignments import Assignment, assigned_at, site_assignments
from store.errors import StoreInputError
from store.officers import list_officers
from store.queries import (
    CounterAudit,
    counter_daily_audit,
    hall_stats,
    live_counters,
    local_day_bounds,
    site_daily_audit,
    street_stats,
)
from store.queries import counter_timeline as store_timeline
from store.registry_rows import get_counter, get_site, list_counters

router = APIRouter(tags=["reports"])
Stats = Annotated[Principal, Depends(require("counters.stats"))]
Street = Annotated[Principal, Depends(require("street.read"))]
Day = Annotated[LocalDay | None, Query(description="Local date at the site (default: today there).")]


class CounterLive(BaseModel):
    counter_id: int
    site_id: int
    number: int
    department: str
    officer: str | None = Field(description="Who is assigned now (with site_id), else the counter's label.")
    officer_id: int | None = Field(None, description="The officer assigned now (asked with site_id).")
    camera_id: int | None
    officer_present: bool | None
    presence_time: datetime | None
    served_today: int
    wait_mean_s: float | None
    service_mean_s: float | None
    queue_length: float | None
    citizen_served: bool | None = None  # a citizen at the desk being served now (None: no recent observation)
    open_events: int


class AbsenceOut(BaseModel):
    start: datetime
    end: datetime | None
    minutes: float
    officer_id: int | None = Field(None, description="The officer assigned to the counter when it began.")
    event_id: UUID | None = Field(None, description="The officer_absent event raised for it (its evidence).")
    evidence: dict[str, str] = Field(default_factory=dict, description="That event's pictures: label -> address.")


class AssignedOfficer(BaseModel):
    officer_id: int
    officer: str
    start: datetime
    end: datetime
    source: str = Field(description="roster, exception or checkin (a ticket system's log-in)")


class CounterAuditOut(BaseModel):
    counter_id: int
    number: int | None = None
    department: str | None = None
    officer: str | None = Field(None, description="The counter's label (free text); who worked when: officers.")
    officers: list[AssignedOfficer] = Field(default_factory=list, description="Who was assigned to the counter "
                                            "that day, by time: the day's figures are theirs by these ranges.")
    day: date
    minutes_open: float
    minutes_staffed: float
    minutes_unobserved: float = Field(description="Working minutes without presence data (camera down).")
    absences: list[AbsenceOut]
    sessions: int
    service_mean_s: float | None
    service_p90_s: float | None
    wait_mean_s: float | None
    wait_p90_s: float | None
    waits: int = Field(0, description="Citizens seen queueing (the wait figures are over these).")
    peak_queue: float | None
    peak_queue_at: datetime | None = None
    queue_source: str = Field("camera", description="Where the waits and the peak queue come from: tickets "
                                                   "(the counter called tickets that day) or camera.")
    tickets_issued: int | None = None
    tickets_called: int | None = None
    tickets_served: int | None = None
    ratings: int | None = None
    rating_mean: float | None = None
    ratings_while_absent: int | None = Field(None, description="Ratings given while the officer was not seen.")
    ratings_satisfied: int | None = Field(None, description="Ratings of 4 or 5.")


class PresenceSpan(BaseModel):
    start: datetime
    end: datetime
    present: bool


class SessionOut(BaseModel):
    start: datetime
    end: datetime
    wait_s: float | None


class TimelineEvent(BaseModel):
    id: str
    time: datetime
    end_time: datetime | None
    type: str
    severity: str
    status: str


class QueuePoint(BaseModel):
    time: datetime
    mean: float
    high: float


class CounterTimeline(BaseModel):
    counter_id: int
    day: date
    timezone: str
    presence: list[PresenceSpan]
    queue: list[QueuePoint] = Field(description="Queue length at the counter, per 5 minutes.")
    sessions: list[SessionOut]
    events: list[TimelineEvent]


def _today(site: dict[str, Any], day: date | None) -> date:
    return day or datetime.now(UTC).astimezone(ZoneInfo(site["timezone"])).date()


def absence_addresses(event_id: UUID | None, evidence: dict[str, str]) -> dict[str, str]:
    """An absence's pictures as API addresses; ``path`` (the picture taken when it opened) is the plain one."""
    if event_id is None:
        return {}
    out = evidence_urls(event_id, evidence)
    if "path" in evidence:
        out["path"] = f"/api/events/{event_id}/evidence"
    return out


def audit_out(audit: CounterAudit, counter: dict[str, Any], assigned: list[Assignment] = (),  # type: ignore[assignment]
              names: dict[int, str] | None = None) -> CounterAuditOut:
    """The API's form of a counter's daily audit: minutes to 0.1, the counter's number, department, label, and
    the officers assigned that day (``assigned``: the site's assignments of the day; ``names`` by officer id)."""
    mine = [a for a in assigned if a.counter_id == audit.counter_id]
    names = names or {}

    def officer_at(moment: datetime) -> int | None:
        found = assigned_at(mine, audit.counter_id, moment)
        return None if found is None else found.officer_id

    return CounterAuditOut(
        counter_id=audit.counter_id, number=counter["number"], department=counter["department"],
        officer=counter["officer"], officers=[AssignedOfficer(officer_id=a.officer_id, officer=names.get(
            a.officer_id, "?"), start=a.start, end=a.end, source=a.source) for a in mine],
        day=audit.day, minutes_open=round(audit.minutes_open, 1),
        minutes_staffed=round(audit.minutes_staffed, 1), minutes_unobserved=round(audit.minutes_unobserved, 1),
        absences=[AbsenceOut(start=a.start, end=a.end, minutes=round(a.minutes, 1), officer_id=officer_at(a.start),
                             event_id=a.event_id, evidence=absence_addresses(a.event_id, a.evidence))
                  for a in audit.absences],
        sessions=audit.sessions, service_mean_s=audit.service_mean_s, service_p90_s=audit.service_p90_s,
        wait_mean_s=audit.wait_mean_s, wait_p90_s=audit.wait_p90_s, waits=audit.waits, peak_queue=audit.peak_queue,
        peak_queue_at=audit.peak_queue_at, queue_source=audit.queue_source, tickets_issued=audit.tickets_issued,
        tickets_called=audit.tickets_called,
        tickets_served=audit.tickets_served, ratings=audit.ratings, rating_mean=audit.rating_mean,
        ratings_while_absent=audit.ratings_while_absent, ratings_satisfied=audit.ratings_satisfied)


def _assigned(conn: Any, site: dict[str, Any], day: date) -> tuple[list[Assignment], dict[int, str]]:
    """The site's assignments of the day and its officers' names."""
    names = {r["id"]: r["full_name"] for r in list_officers(conn, None, site["id"])}
    return site_assignments(conn, site["id"], site["timezone"], day, day)[day], names


def store_input_error(exc: StoreInputError) -> ApiError:
    # The store's text is the only account of what is wrong (a site calendar it cannot read): it is the detail.
    message = str(exc).split(": ", 1)[-1]
    return ApiError(422, exc.field, message, code="invalid_input", params={"detail": message})


def site_audits(conn: Any, site_id: int, day: date) -> list[CounterAuditOut]:
    """Every counter of the site for one local day, by number (one query for the audit, one for the names);
    a site calendar that cannot be read is a 422 naming its field."""
    counters = {c["id"]: c for c in list_counters(conn, None, site_id)}  # the caller checked the site's scope
    try:
        audits = site_daily_audit(conn, site_id, day)
    except StoreInputError as exc:
        raise store_input_error(exc) from None
    assigned, names = _assigned(conn, get_site(conn, site_id), day) if audits else ([], {})
    return [audit_out(a, counters[a.counter_id], assigned, names) for a in audits]


@router.get("/api/counters/live", response_model=list[CounterLive], tags=["counters"])
def counters_live(*, site_id: Annotated[int | None, Query()] = None, user: Stats, conn: Conn) -> list[CounterLive]:
    """Every counter in scope now: officer present, served today, mean wait and service, open events."""
    if site_id is not None:
        user.check_site_filter([site_id])
    found = [CounterLive(**{**r, "officer_present": None if r["officer_present"] is None
                            else r["officer_present"] >= 0.5}) for r in live_counters(conn, user.scope, site_id)]
    if site_id is not None and found:  # one site: who is assigned to each counter now
        site = get_site(conn, site_id, user.scope)
        assigned, names = _assigned(conn, site, _today(site, None))
        now = datetime.now(UTC)
        for counter in found:
            holding = assigned_at(assigned, counter.counter_id, now)
            if holding is not None:
                counter.officer_id, counter.officer = holding.officer_id, names.get(holding.officer_id)
    return found


@router.get("/api/counters/{counter_id}/timeline", response_model=CounterTimeline, tags=["counters"])
def counter_timeline(*, counter_id: int, day: Day = None, user: Stats, conn: Conn) -> CounterTimeline:
    """One local day of a counter: officer presence spans, citizens served, and its events."""
    counter = get_counter(conn, counter_id, user.scope)
    site = get_site(conn, counter["site_id"], user.scope)
    found = store_timeline(conn, counter_id, _today(site, day))
    return CounterTimeline(
        counter_id=counter_id, day=found.day, timezone=found.timezone,
        presence=[PresenceSpan(start=p.start, end=p.end, present=p.present) for p in found.presence],
        queue=[QueuePoint(time=q.time, mean=q.mean, high=q.high) for q in found.queue],
        sessions=[SessionOut(start=c.service_start, end=c.service_end, wait_s=c.wait_s) for c in found.served],
        events=[TimelineEvent(**{**e, "id": str(e["id"])}) for e in found.events])


@router.get("/api/counters/{counter_id}/audit", response_model=CounterAuditOut, tags=["counters"])
def one_counter_audit(*, counter_id: int, day: Day = None, user: Stats, conn: Conn) -> CounterAuditOut:
    counter = get_counter(conn, counter_id, user.scope)
    site = get_site(conn, counter["site_id"], user.scope)
    try:
        audit = counter_daily_audit(conn, counter_id, _today(site, day))
    except StoreInputError as exc:
        raise store_input_error(exc) from None
    return audit_out(audit, counter, *_assigned(conn, site, audit.day))


@router.get("/api/sites/{site_id}/counter-audit", response_model=list[CounterAuditOut], tags=["counters"])
def site_counter_audit(*, site_id: int, day: Day = None, user: Stats, conn: Conn) -> list[CounterAuditOut]:
    """The daily audit of every counter of a site: staffed minutes, absences, served, waits, queue, ratings."""
    site = get_site(conn, site_id, user.scope)
    return site_audits(conn, site_id, _today(site, day))


@router.get("/api/sites/{site_id}/hall", tags=["reports"])
def hall(*, site_id: int, day: Day = None, user: Stats, conn: Conn) -> dict[str, Any]:
    """The hall: queue length now per queue zone, people in the hall, the day's waits, and per hour the queue
    and the waits (mean and p90) of the citizens served."""
    site = get_site(conn, site_id, user.scope)
    start, end = local_day_bounds(_today(site, day), site["timezone"])
    return {"site_id": site_id, "day": _today(site, day).isoformat(),
            **hall_stats(conn, site_id, start, end, site["timezone"])}


@router.get("/api/sites/{site_id}/street", tags=["reports"])
def street(*, site_id: int, since: Moment | None = None, until: Moment | None = None, user: Street,
           conn: Conn) -> dict[str, Any]:
    """Line counts (by line, class, direction) and incidents by type; default: the last 24 hours."""
    get_site(conn, site_id, user.scope)
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise ApiError(422, "query.since" if since.tzinfo is None else "query.until", "must include a UTC offset",
                       code="time_needs_offset")
    if since >= until or until - since > timedelta(days=366):
        raise ApiError(422, "query.until", "must be after since and at most a year later", code="range_too_long",
                       params={"max_days": 366})
    return {"site_id": site_id, "since": since, "until": until, **street_stats(conn, site_id, since, until)}
