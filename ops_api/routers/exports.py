"""Exports for managers: the counter audit and event lists as CSV or XLSX (Vietnamese headers by default)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ops_api.deps import Conn, require
from ops_api.errors import ApiError
from ops_api.params import Day
from ops_api.roles import Principal
from ops_api.routers.events import event_filter
from ops_api.routers.reports import site_audits
from ops_api.tables import AUDIT_COLUMNS, EVENT_COLUMNS, to_csv, to_xlsx
from store.queries.events import EventFilter, iter_events, labels
from store.registry_rows import get_site

router = APIRouter(prefix="/api/exports", tags=["exports"])
Exporter = Annotated[Principal, Depends(require("exports"))]
Format = Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with BOM) or xlsx")]
Lang = Annotated[Literal["vi", "en"], Query(description="Column headers: vi (default) or en")]
MAX_EVENTS = 100_000
MAX_DAYS = 62
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX: {}}}}


def _file(data: bytes, name: str, fmt: str) -> Response:
    return Response(data, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX,
                    headers={"content-disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get("/events", response_class=Response, responses=FILE_RESPONSES)
def export_events(*, flt: Annotated[EventFilter, Depends(event_filter)], format: Format = "csv",
                  lang: Lang = "vi", user: Exporter, conn: Conn) -> Response:
    """The filtered event list (same filters as GET /api/events), newest first, at most 100,000 rows."""
    user.check_site_filter(flt.site_ids)
    names = labels(conn)
    rows = [{**r, "site": names["site"].get(r["site_id"]), "camera": names["camera"].get(r["camera_id"]),
             "counter": names["counter"].get(r["counter_id"]), "assignee": names["assignee"].get(r["assignee_id"]),
             "id": str(r["id"])} for r in iter_events(conn, flt, user.scope, MAX_EVENTS)]
    data = to_csv(EVENT_COLUMNS, rows, lang) if format == "csv" else to_xlsx(
        EVENT_COLUMNS, rows, lang, "Sự kiện" if lang == "vi" else "Events")
    return _file(data, "events", format)


@router.get("/counter-audit", response_class=Response, responses=FILE_RESPONSES)
def export_counter_audit(*, site_id: int, date_from: Day, date_to: Day | None = None, format: Format = "csv",
                         lang: Lang = "vi", user: Exporter, conn: Conn) -> Response:
    """The daily audit of every counter of a site for each day from date_from to date_to (at most 62 days)."""
    site = get_site(conn, site_id, user.scope)
    date_to = date_to or date_from
    if date_to < date_from:
        raise ApiError(422, "query.date_to", "must not be before date_from", code="date_to_before_date_from")
    if (date_to - date_from).days >= MAX_DAYS:
        raise ApiError(422, "query.date_to", f"at most {MAX_DAYS} days per export", code="export_too_long",
                       params={"max_days": MAX_DAYS})
    rows = []
    day = date_from
    while day <= date_to:  # one query per day for all the site's counters
        for audit in site_audits(conn, site_id, day):
            absent = [a.minutes for a in audit.absences]
            rows.append({**audit.model_dump(), "site": site["name"], "absences": len(absent),
                         "absent_minutes": round(sum(absent), 1)})
        day += timedelta(days=1)
    data = to_csv(AUDIT_COLUMNS, rows, lang) if format == "csv" else to_xlsx(
        AUDIT_COLUMNS, rows, lang, "Kiểm tra quầy" if lang == "vi" else "Counter audit")
    return _file(data, f"counter-audit-{site['code']}-{date_from}-{date_to}", format)
