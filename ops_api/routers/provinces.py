"""Provinces and the province overview: every service center of a province side by side for a month (presence
rate in working hours, citizens served, mean and p90 wait, satisfaction rate, open alarms) with each day's
trend, and the same as the XLSX report a provincial office files.

A province is listed to whoever sees one of its sites; its overview shows the centers within the reader's
scope (a commune manager: its own center; a province-wide manager: every center of the province). Only an
admin of every site creates provinces or renames them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiProblem
from ops_api.params import Month
from ops_api.roles import Principal
from ops_api.routers.exports import FILE_RESPONSES, XLSX
from ops_api.schemas import StrictIn
from ops_api.tables import province_xlsx
from store import provinces as store
from store.queries.officer_report import month_days
from store.queries.province import CenterFigures, province_month

router = APIRouter(tags=["provinces"])
Reader = Annotated[Principal, Depends(require("sites.read"))]
Writer = Annotated[Principal, Depends(require("sites.write"))]
Overview = Annotated[Principal, Depends(require("provinces.read"))]
Exporter = Annotated[Principal, Depends(require("exports"))]


class ProvinceIn(StrictIn):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["an-giang"])
    name: str = Field(min_length=1, max_length=200, examples=["Tỉnh An Giang"])


class ProvinceRename(StrictIn):
    name: str = Field(min_length=1, max_length=200)


class ProvinceOut(BaseModel):
    id: int
    code: str
    name: str
    centers: int | None = Field(None, description="Service centers of the province within your sites.")


class CenterRow(BaseModel):
    site_id: int | None = Field(description="null: the province's totals")
    name: str | None = None
    level: str | None = None
    counters: int
    presence_rate: float | None = Field(description="Staffed share of the observed working time.")
    minutes_open: float
    minutes_staffed: float
    minutes_unobserved: float
    absences: int
    citizens_served: int
    service_mean_s: float | None
    wait_mean_s: float | None
    wait_p90_s: float | None
    waits: int = Field(description="Citizens seen queueing (the wait figures are over these).")
    tickets_served: int | None
    ratings: int
    rating_mean: float | None
    satisfaction_rate: float | None = Field(description="Share of ratings of 4 or 5.")
    open_alarms: int = Field(description="Events of the center not resolved now.")


class TrendPoint(BaseModel):
    day: date
    presence_rate: float | None
    citizens_served: int
    wait_mean_s: float | None
    satisfaction_rate: float | None


class CenterTrend(BaseModel):
    site_id: int
    days: list[TrendPoint]


class ProvinceOverview(BaseModel):
    province: ProvinceOut
    month: str
    timezone: str
    centers: list[CenterRow]
    total: CenterRow
    trend: list[CenterTrend]


def _row(found: CenterFigures, site: dict[str, Any] | None) -> CenterRow:
    return CenterRow(
        site_id=found.site_id, name=site["name"] if site else None, level=site["level"] if site else None,
        counters=found.counters, presence_rate=found.presence_rate, minutes_open=round(found.minutes_open, 1),
        minutes_staffed=round(found.minutes_staffed, 1), minutes_unobserved=round(found.minutes_unobserved, 1),
        absences=found.absences, citizens_served=found.sessions, service_mean_s=found.service_mean_s,
        wait_mean_s=found.wait_mean_s, wait_p90_s=found.wait_p90_s, waits=found.waits,
        tickets_served=found.tickets_served, ratings=found.ratings, rating_mean=found.rating_mean,
        satisfaction_rate=found.satisfaction_rate, open_alarms=found.open_alarms)


def overview(conn: Conn, province_id: int, first: date, user: Principal) -> ProvinceOverview:
    """The month's overview of the province's centers within the user's scope."""
    province = store.get_province(conn, province_id, user.scope)
    sites = store.province_centers(conn, province_id, user.scope)
    timezone = sites[0]["timezone"] if sites else "Asia/Ho_Chi_Minh"
    days = month_days(first, datetime.now(UTC).astimezone(ZoneInfo(timezone)).date())
    found = province_month(conn, sites, days)
    trend = [CenterTrend(site_id=c.site_id or 0, days=[TrendPoint(
        day=d.day, presence_rate=d.figures.presence_rate, citizens_served=d.figures.sessions,
        wait_mean_s=d.figures.wait_mean_s, satisfaction_rate=d.figures.satisfaction_rate) for d in c.days])
        for c in found.centers]
    return ProvinceOverview(province=ProvinceOut(**province, centers=len(sites)), month=first.strftime("%Y-%m"),
                            timezone=timezone,
                            centers=[_row(c, s) for c, s in zip(found.centers, sites, strict=True)],
                            total=_row(found.total, None), trend=trend)


@router.get("/api/provinces", response_model=list[ProvinceOut])
def provinces(*, user: Reader, conn: Conn) -> list[ProvinceOut]:
    """The provinces with a site of yours, with how many service centers of yours each has."""
    return [ProvinceOut(**r) for r in store.list_provinces(conn, user.scope)]


@router.post("/api/provinces", response_model=ProvinceOut, status_code=201, responses={403: {}, 409: {}})
def create_province(*, body: ProvinceIn, request: Request, user: Writer, conn: Conn) -> ProvinceOut:
    if user.site_ids is not None:
        raise ApiProblem(403, "only an admin of every site may create provinces", code="site_create_needs_every_site")
    with conn.transaction():
        if store.province_by_code(conn, body.code) is not None:
            raise ApiProblem(409, f"province {body.code} exists", code="already_exists")
        row = store.insert_province(conn, body.model_dump())
        audit.record(conn, user, "province.create", "province", row["id"], after=row, remote_addr=client_addr(request),
                     site_ids=None)
    return ProvinceOut(**row)


@router.patch("/api/provinces/{province_id}", response_model=ProvinceOut, responses={403: {}})
def rename_province(*, province_id: int, body: ProvinceRename, request: Request, user: Writer,
                    conn: Conn) -> ProvinceOut:
    if user.site_ids is not None:
        raise ApiProblem(403, "only an admin of every site may rename provinces", code="site_create_needs_every_site")
    with conn.transaction():
        before = store.get_province(conn, province_id)
        after = store.update_province(conn, province_id, body.model_dump())
        audit.record(conn, user, "province.update", "province", province_id, before=before, after=after,
                     remote_addr=client_addr(request), site_ids=None)
    return ProvinceOut(**after)


@router.get("/api/provinces/{province_id}/overview", response_model=ProvinceOverview)
def province_overview(*, province_id: int, month: Annotated[Month, Query(description="YYYY-MM")], user: Overview,
                      conn: Conn) -> ProvinceOverview:
    """The province's centers side by side for a month (up to today), each the sum of its daily audits."""
    return overview(conn, province_id, month, user)  # type: ignore[arg-type]  # Month reads as its first day


def _cells(row: CenterRow, index: int | str) -> dict[str, Any]:
    def pct(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 1)

    def minutes(value: float | None) -> float | None:
        return None if value is None else round(value / 60, 1)

    return {"index": index, "center": row.name, "level": row.level, "counters": row.counters,
            "presence_pct": pct(row.presence_rate), "citizens_served": row.citizens_served,
            "wait_mean_min": minutes(row.wait_mean_s), "wait_p90_min": minutes(row.wait_p90_s),
            "satisfaction_pct": pct(row.satisfaction_rate), "ratings": row.ratings, "open_alarms": row.open_alarms}


LEVELS = {"vi": {"province": "Tỉnh", "commune": "Xã/phường", "district": "Huyện (cũ)"},
          "en": {"province": "Province", "commune": "Commune", "district": "District (former)"}}


@router.get("/api/exports/province-overview", response_class=Response, responses=FILE_RESPONSES, tags=["exports"])
def export_province_overview(*, province_id: int, month: Annotated[Month, Query(description="YYYY-MM")],
                             lang: Literal["vi", "en"] = "vi", user: Exporter, conn: Conn) -> Response:
    """The province overview as the XLSX report a provincial office files (Vietnamese headers by default)."""
    found = overview(conn, province_id, month, user)  # type: ignore[arg-type]
    rows = [{**_cells(c, i), "level": LEVELS[lang].get(c.level or "", c.level)}
            for i, c in enumerate(found.centers, start=1)]
    total = _cells(found.total, "")
    total["center"] = "Tổng cộng" if lang == "vi" else "Total"
    issued = datetime.now(UTC).astimezone(ZoneInfo(found.timezone))
    data = province_xlsx(found.province.name, found.month, rows, total, lang, issued)
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f'attachment; filename="province-overview-{found.province.code}-{found.month}.xlsx"'})
