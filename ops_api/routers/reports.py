"""Reports: live counter state, a counter's timeline and daily audit, the hall's queue and waits, and a
street's line counts and incidents (site scope applies; managers and admins read counters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from ops_api.deps import Conn, require
from ops_api.errors import ApiError
from ops_api.registry_queries import get_counter
from ops_api.report_queries import counter_audit, hall_stats, live_counters, local_day_bounds, street_stats
from ops_api.roles import Principal
from ops_api.routers.sites import get_site
from store.errors import StoreInputError
from store.queries import counter_timeline as store_timeline

router = APIRouter(tags=["reports"])
Stats = Annotated[Principal, Depends(require("counters.stats"))]
Street = Annotated[Principal, Depends(require("street.read"))]
Day = Annotated[date | None, Query(description="Local date at the site (default: today there).")]


class CounterLive(BaseModel):
    counter_id: int
    site_id: int
    number: int
    department: str
    officer: str | None
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


class CounterAuditOut(BaseModel):
    counter_id: int
    number: int | None = None
    department: str | None = None
    officer: str | None = None
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
    peak_queue: float | None
    peak_queue_at: datetime | None = None
    tickets_issued: int | None = None
    tickets_called: int | None = None
    tickets_served: int | None = None
    ratings: int | None = None
    rating_mean: float | None = None


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


def _audit_out(counter: dict[str, Any], site: dict[str, Any], day: date, conn: Any) -> CounterAuditOut:
    try:
        audit = counter_audit(conn, counter, site, day)
    except StoreInputError as exc:
        raise ApiError(422, exc.field, str(exc).split(": ", 1)[-1]) from None
    return CounterAuditOut(**audit, number=counter["number"], department=counter["department"],
                           officer=counter["officer"])


@router.get("/api/counters/live", response_model=list[CounterLive], tags=["counters"])
def counters_live(*, site_id: Annotated[int | None, Query()] = None, user: Stats, conn: Conn) -> list[CounterLive]:
    """Every counter in scope now: officer present, served today, mean wait and service, open events."""
    if site_id is not None:
        user.check_site_filter([site_id])
    return [CounterLive(**{**r, "officer_present": None if r["officer_present"] is None
                           else r["officer_present"] >= 0.5}) for r in live_counters(conn, user.scope, site_id)]


@router.get("/api/counters/{counter_id}/timeline", response_model=CounterTimeline, tags=["counters"])
def counter_timeline(*, counter_id: int, day: Day = None, user: Stats, conn: Conn) -> CounterTimeline:
    """One local day of a counter: officer presence spans, citizens served, and its events."""
    counter = get_counter(conn, counter_id, user)
    site = get_site(conn, counter["site_id"], user)
    found = store_timeline(conn, counter_id, _today(site, day))
    return CounterTimeline(
        counter_id=counter_id, day=found.day, timezone=found.timezone,
        presence=[PresenceSpan(start=p.start, end=p.end, present=p.present) for p in found.presence],
        queue=[QueuePoint(time=q.time, mean=q.mean, high=q.high) for q in found.queue],
        sessions=[SessionOut(start=c.service_start, end=c.service_end, wait_s=c.wait_s) for c in found.served],
        events=[TimelineEvent(**{**e, "id": str(e["id"])}) for e in found.events])


@router.get("/api/counters/{counter_id}/audit", response_model=CounterAuditOut, tags=["counters"])
def one_counter_audit(*, counter_id: int, day: Day = None, user: Stats, conn: Conn) -> CounterAuditOut:
    counter = get_counter(conn, counter_id, user)
    site = get_site(conn, counter["site_id"], user)
    return _audit_out(counter, site, _today(site, day), conn)


@router.get("/api/sites/{site_id}/counter-audit", response_model=list[CounterAuditOut], tags=["counters"])
def site_counter_audit(*, site_id: int, day: Day = None, user: Stats, conn: Conn) -> list[CounterAuditOut]:
    """The daily audit of every counter of a site: staffed minutes, absences, served, waits, queue, ratings."""
    site = get_site(conn, site_id, user)
    day = _today(site, day)
    counters = conn.execute("SELECT * FROM counters WHERE site_id = %s ORDER BY number", (site_id,)).fetchall()
    return [_audit_out(c, site, day, conn) for c in counters]


@router.get("/api/sites/{site_id}/hall", tags=["reports"])
def hall(*, site_id: int, day: Day = None, user: Stats, conn: Conn) -> dict[str, Any]:
    """The hall: queue length now per queue zone, people in the hall, the day's waits and hourly queue."""
    site = get_site(conn, site_id, user)
    start, end = local_day_bounds(_today(site, day), site["timezone"])
    return {"site_id": site_id, "day": _today(site, day).isoformat(), **hall_stats(conn, site_id, start, end)}


@router.get("/api/sites/{site_id}/street", tags=["reports"])
def street(*, site_id: int, since: datetime | None = None, until: datetime | None = None, user: Street,
           conn: Conn) -> dict[str, Any]:
    """Line counts (by line, class, direction) and incidents by type; default: the last 24 hours."""
    get_site(conn, site_id, user)
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise ApiError(422, "query.since" if since.tzinfo is None else "query.until", "must include a UTC offset")
    if since >= until or until - since > timedelta(days=366):
        raise ApiError(422, "query.until", "must be after since and at most a year later")
    return {"site_id": site_id, "since": since, "until": until, **street_stats(conn, site_id, since, until)}
