"""Shift handover (giao ca): an operator closes a shift with a summary the server generates from the alarms and
cameras of its sites (raised, handled, still open with their state and last note, cameras offline), adds remarks
and hands over to the next operator, who acknowledges it. Handovers are kept as they were, searchable and
exportable (XLSX). Each handover and acknowledgement is an audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError, ApiProblem
from ops_api.handover_export import workbook
from ops_api.params import Moment
from ops_api.roles import Principal
from ops_api.schemas import Page, StrictIn
from store import handovers as store
from store.accounts import find_user

router = APIRouter(prefix="/api/handovers", tags=["handovers"])
Reader = Annotated[Principal, Depends(require("handovers.read"))]
Writer = Annotated[Principal, Depends(require("handovers.write"))]
DEFAULT_SHIFT = timedelta(hours=12)
LONGEST_SHIFT = timedelta(days=7)


class HandoverOut(BaseModel):
    id: int
    site_ids: list[int] | None
    from_user_id: int | None
    from_username: str
    to_user_id: int | None
    to_username: str
    shift_start: datetime
    shift_end: datetime
    summary: dict[str, Any] = Field(description="counts, raised, handled, open, cameras_offline (as generated).")
    remarks: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    ack_note: str | None


class HandoverPage(Page):
    items: list[HandoverOut]


class Draft(BaseModel):
    shift_start: datetime
    shift_end: datetime
    site_ids: list[int] | None
    summary: dict[str, Any]


class HandoverBody(StrictIn):
    to_user_id: int = Field(description="The next operator (an active operator or admin who sees these sites).")
    remarks: str | None = Field(None, max_length=8000, examples=["Camera ngã tư Lê Lợi hay mất tín hiệu, đã báo "
                                                                   "kỹ thuật; theo dõi tiếp cảnh báo #128."])
    since: datetime | None = Field(None, description="The shift's start (default: the last handover to you, at "
                                                     "most a day ago; else 12 hours ago).")


class AckBody(StrictIn):
    note: str | None = Field(None, max_length=4000, examples=["Đã nhận ca, đã đọc các cảnh báo còn mở"])


def _shift_start(conn: Conn, user: Principal, since: datetime | None, now: datetime) -> datetime:
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=conn.info.timezone)
        if not now - LONGEST_SHIFT <= since < now:
            raise ApiError(422, "body.since", "the shift must start in the last 7 days, before now",
                           code="shift_out_of_range", params={"max_days": LONGEST_SHIFT.days})
        return since
    last = store.last_shift_end(conn, user.user_id)
    return max(last, now - timedelta(days=1)) if last is not None else now - DEFAULT_SHIFT


@router.get("", response_model=HandoverPage)
def handovers(*, q: str | None = Query(None, max_length=200, description="Text in remarks, names or summary."),
              since: Moment | None = None, until: Moment | None = None,
              pending: Annotated[bool, Query(description="Only those waiting for you to acknowledge.")] = False,
              limit: int = Query(50, ge=1, le=200), cursor: int | None = Query(None, ge=1), user: Reader,
              conn: Conn) -> HandoverPage:
    """Newest first: yours (sent or received) and those of the sites you see."""
    found = store.list_handovers(conn, user.user_id, user.scope, text=(q or "").strip() or None, since=since,
                                 until=until, pending_for_me=pending, before_id=cursor, limit=limit + 1)
    following = str(found[limit - 1]["id"]) if len(found) > limit else None
    return HandoverPage(items=[HandoverOut(**r) for r in found[:limit]], next_cursor=following)


@router.get("/draft", response_model=Draft)
def draft(*, since: Moment | None = None, user: Writer, conn: Conn) -> Draft:
    """The summary of your shift so far (what a handover now would keep)."""
    now = datetime.now(UTC)
    start = _shift_start(conn, user, since, now)
    return Draft(shift_start=start, shift_end=now, site_ids=user.scope,
                 summary=store.shift_summary(conn, user.scope, start, now))


@router.post("", response_model=HandoverOut, status_code=201)
def hand_over(*, body: HandoverBody, request: Request, user: Writer, conn: Conn) -> HandoverOut:
    """Close your shift: the summary is generated now and kept with your remarks for the next operator."""
    target = find_user(conn, user_id=body.to_user_id)
    sites = user.scope
    if (target is None or not target["active"] or target["role"] not in ("operator", "admin")
            or target["id"] == user.user_id
            or not (target["site_ids"] is None or (sites is not None and set(sites) <= set(target["site_ids"])))):
        raise ApiError(422, "body.to_user_id", "must be another active operator or admin who sees your sites",
                       code="handover_recipient_not_eligible")
    now = datetime.now(UTC)
    start = _shift_start(conn, user, body.since, now)
    with conn.transaction():
        row = store.insert_handover(conn, {
            "site_ids": sites, "from_user_id": user.user_id, "from_username": user.username,
            "to_user_id": target["id"], "to_username": target["username"], "shift_start": start, "shift_end": now,
            "summary": store.shift_summary(conn, sites, start, now), "remarks": (body.remarks or "").strip() or None})
        audit.record(conn, user, "handover.create", "handover", row["id"],
                     after={k: row[k] for k in ("site_ids", "to_username", "shift_start", "shift_end", "remarks")},
                     remote_addr=client_addr(request), site_ids=sites)
    return HandoverOut(**row)


@router.get("/{handover_id}", response_model=HandoverOut)
def one_handover(*, handover_id: int, user: Reader, conn: Conn) -> HandoverOut:
    return HandoverOut(**store.get_handover(conn, handover_id, user.user_id, user.scope))


@router.post("/{handover_id}/acknowledge", response_model=HandoverOut, responses={403: {}, 409: {}})
def acknowledge(*, handover_id: int, request: Request, body: AckBody | None = None, user: Writer,
                conn: Conn) -> HandoverOut:
    """The recipient takes the shift over (only the recipient, once)."""
    note = ((body.note if body else None) or "").strip() or None
    with conn.transaction():
        row = store.get_handover(conn, handover_id, user.user_id, user.scope, for_update=True)
        if row["to_user_id"] != user.user_id:
            raise ApiProblem(403, "only the operator it was handed to acknowledges a handover",
                             code="handover_not_yours")
        if row["acknowledged_at"] is not None:
            raise ApiProblem(409, "this handover is acknowledged already", code="handover_acknowledged")
        after = store.acknowledge(conn, handover_id, note)
        audit.record(conn, user, "handover.acknowledge", "handover", handover_id,
                     before={"acknowledged_at": None}, after={"acknowledged_at": after["acknowledged_at"],
                                                              "ack_note": note},
                     remote_addr=client_addr(request), site_ids=row["site_ids"])
    return HandoverOut(**after)


@router.get("/{handover_id}/export", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def export(*, handover_id: int, format: Literal["xlsx"] = "xlsx", lang: Literal["vi", "en"] = "vi", user: Reader,
           conn: Conn) -> Response:
    """The handover as a workbook: the shift, the remarks, and a sheet per section of the summary."""
    row = store.get_handover(conn, handover_id, user.user_id, user.scope)
    return Response(workbook(row, lang), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="giao-ca-{handover_id}.{format}"'})
