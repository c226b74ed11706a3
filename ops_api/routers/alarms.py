"""Alarms: the list operators work from (escalated-and-unacknowledged first, then priority, then the newest), one
alarm with its events, checklist and history, its related cameras, and the workflow (acknowledge, assign, note,
tick a step, resolve, reopen), each step a note and an audit row in one transaction. An alarm's status and
assignee are copied onto its events, so the event search shows them handled too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, context, require
from ops_api.errors import ApiError, ApiProblem, not_found
from ops_api.params import Moment, list_window
from ops_api.roles import Principal
from ops_api.routers.events import AssignBody, NoteBody, NoteOut, StepBody, check_assignee
from ops_api.schemas import AlarmOut, EventOut, Page, StrictIn
from store import alarm_steps, site_maps
from store.alarms import AlarmFilter, alarm_events, alarm_notes, get_alarm, has_recording, list_alarms
from store.alarms import alarm_steps as checklist
from store.errors import StoreInputError

router = APIRouter(prefix="/api/alarms", tags=["alarms"])
Reader = Annotated[Principal, Depends(require("events.read"))]
Worker = Annotated[Principal, Depends(require("events.workflow"))]
Status = Literal["new", "acknowledged", "assigned", "resolved"]
OPEN = {"new", "acknowledged", "assigned"}
SYSTEM = "vigil"  # the name the clock's own steps (escalation, auto-close) are written under


class AlarmPage(Page):
    items: list[AlarmOut]


class StepOut(BaseModel):
    position: int
    text: str
    required: bool
    done_at: datetime | None = None
    done_by: int | None = None
    done_by_name: str | None = None
    note: str | None = None


class AlarmDetail(AlarmOut):
    latest_event: EventOut | None = Field(None, description="The alarm's newest event (its picture, zone...).")
    events: list[EventOut] = Field(default_factory=list, description="Its newest events (at most 20).")
    steps: list[StepOut] = Field(default_factory=list, description="Its checklist, as its procedure was then.")
    notes: list[NoteOut] = Field(default_factory=list)
    unticked_required: int = Field(0, description="Required steps not yet ticked: resolving needs a reason.")
    clip_url: str = Field(description="The HLS playlist of the newest event's recording (404 while none exists).")
    clip_available: bool = Field(False, description="The recordings index holds footage of the camera from the "
                                 "alarm's first to its newest event (the playlist may still be on its way).")


class TickBody(StrictIn):
    done: bool = Field(True, description="False unticks the step.")
    note: str | None = Field(None, max_length=4000, examples=["Đã gọi anh Tuấn, đội trật tự phường Bến Thành"])


class ResolveBody(StepBody):
    reason: str | None = Field(None, max_length=4000, description="Needed when required steps are not ticked.",
                               examples=["Camera báo nhầm do bóng cây, không cần gọi đội trật tự"])


class Picture(BaseModel):
    kind: Literal["evidence", "live", "none"] = Field(
        description="evidence: the camera's own event picture nearest the alarm's time (within alarms."
                    "related_window_s); live: its picture now, while the alarm is that recent; none: neither.")
    url: str | None = None
    time: datetime | None = None
    event_id: str | None = None
    clip_url: str | None = Field(None, description="That event's recording, when there is one.")


class RelatedCamera(BaseModel):
    id: int
    site_id: int
    name: str
    state: str
    picture: Picture


async def alarm_filter(*, state: Literal["open", "resolved", "all"] = "open",
                       site_id: Annotated[list[int] | None, Query()] = None, camera_id: int | None = None,
                       type: Annotated[list[str] | None, Query(description="Event types (repeatable).")] = None,
                       priority: Annotated[list[Annotated[int, Field(ge=1, le=5)]] | None, Query()] = None,
                       status: Annotated[list[Status] | None, Query()] = None,
                       urgent: Annotated[bool, Query(description="Only escalated and unacknowledged.")] = False,
                       since: Moment | None = None, until: Moment | None = None, conn: Conn) -> AlarmFilter:
    since, until = list_window(conn.info.timezone, since, until, type)
    return AlarmFilter(state=state, site_ids=site_id, camera_ids=None if camera_id is None else [camera_id],
                       types=type or None, priorities=priority or None, statuses=status or None, urgent_only=urgent,
                       since=since, until=until)


@router.get("", response_model=AlarmPage)
def alarms(*, flt: Annotated[AlarmFilter, Depends(alarm_filter)], limit: int = Query(50, ge=1, le=500),
           cursor: str | None = Query(None, max_length=200), request: Request, user: Reader,
           conn: Conn) -> AlarmPage:
    """Open alarms (``state``: open, resolved, all): escalated and unacknowledged first, then priority 1 to 5,
    then the newest event first."""
    user.check_site_filter(flt.site_ids)
    try:
        rows, following = list_alarms(conn, flt, user.scope, limit, cursor)
    except StoreInputError as exc:  # the cursor is the only input left for the store to check
        raise ApiError(422, "query.cursor", str(exc).split(": ", 1)[-1], code="invalid_cursor") from None
    ack_s = context(request).settings.alarms.ack_s
    return AlarmPage(items=[AlarmOut.of(r, ack_s) for r in rows], next_cursor=following)


def _visible_alarm(conn: psycopg.Connection, alarm_id: int, user: Principal, *,
                   for_update: bool = False) -> dict[str, Any]:
    row = get_alarm(conn, alarm_id, for_update=for_update)
    if row is None:
        raise not_found("alarm")
    user.visible(row["site_id"], "alarm")
    return row


@router.get("/{alarm_id}", response_model=AlarmDetail)
def one_alarm(*, alarm_id: int, request: Request, user: Reader, conn: Conn) -> AlarmDetail:
    row = _visible_alarm(conn, alarm_id, user)
    events = [EventOut.of(e) for e in alarm_events(conn, alarm_id, limit=20)]
    steps = [StepOut(**s) for s in checklist(conn, alarm_id)]
    return AlarmDetail(**AlarmOut.of(row, context(request).settings.alarms.ack_s).model_dump(),
                       latest_event=events[0] if events else None, events=events, steps=steps,
                       notes=[NoteOut(**n) for n in alarm_notes(conn, alarm_id)],
                       unticked_required=sum(1 for s in steps if s.required and s.done_at is None),
                       clip_url=f"/api/events/{row['last_event_id']}/clip.m3u8",
                       clip_available=has_recording(conn, row["camera_id"], row["first_time"], row["last_time"]))


@router.get("/{alarm_id}/related", response_model=list[RelatedCamera])
def related(*, alarm_id: int, request: Request, user: Reader, conn: Conn) -> list[RelatedCamera]:
    """The cameras configured as neighbours of the alarm's camera (on the map), each with a picture from the
    alarm's time: its own event picture nearest the alarm's newest event, else its live picture while the
    alarm is recent (and the user may see cameras), else none (footage from then needs the recordings)."""
    row = _visible_alarm(conn, alarm_id, user)
    if row["camera_id"] is None:
        return []
    window = context(request).settings.alarms.related_window_s
    at = row["last_time"]
    recent = (datetime.now(UTC) - at).total_seconds() <= window
    out = []
    for cam in site_maps.related_cameras(conn, row["camera_id"], user.scope, at, window):
        if cam["evidence_event_id"] is not None:
            event_id = str(cam["evidence_event_id"])
            picture = Picture(kind="evidence", url=f"/api/events/{event_id}/evidence", time=cam["evidence_time"],
                              event_id=event_id, clip_url=f"/api/events/{event_id}/clip.m3u8")
        elif recent and user.can("cameras.read") and cam["enabled"] and cam["state"] not in ("offline", "disabled"):
            picture = Picture(kind="live", url=f"/api/cameras/{cam['id']}/snapshot", time=datetime.now(UTC))
        else:
            picture = Picture(kind="none")
        out.append(RelatedCamera(id=cam["id"], site_id=cam["site_id"], name=cam["name"], state=cam["state"],
                                 picture=picture))
    return out


def _step(conn: psycopg.Connection, request: Request, user: Principal, alarm_id: int, action: str,
          allowed_from: set[str], new_status: str | None, note: str | None, assignee: int | None = None,
          check: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None) -> AlarmDetail:
    """One workflow step in one transaction: status change (onto its events too), a note row, an audit row.
    ``check`` may refuse the step once the alarm is locked, or give what the audit row adds."""
    with conn.transaction():
        row = _visible_alarm(conn, alarm_id, user, for_update=True)
        if row["status"] not in allowed_from:
            raise ApiProblem(409, f"cannot {action} an alarm that is {row['status']}", code="alarm_wrong_status",
                             params={"action": action, "status": row["status"]})
        extra = check(row) if check is not None else None
        before: dict[str, Any] = {"site_id": row["site_id"], "status": row["status"],
                                  "assignee_id": row["assignee_id"]}
        after = dict(before)
        if new_status is not None:
            after["status"] = new_status
        if assignee is not None:
            after["assignee_id"] = assignee
        if (after["status"], after["assignee_id"]) != (before["status"], before["assignee_id"]):
            alarm_steps.set_status(conn, row, after["status"], after["assignee_id"])
        else:
            alarm_steps.touch(conn, alarm_id)
        alarm_steps.add_note(conn, alarm_id, user.user_id, action, note)
        after.update({k: v for k, v in {"note": note, **(extra or {})}.items() if v is not None})
        audit.record(conn, user, f"alarm.{action}", "alarm", alarm_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return one_alarm(alarm_id=alarm_id, request=request, user=user, conn=conn)


@router.post("/{alarm_id}/acknowledge", response_model=AlarmDetail, responses={409: {}})
def acknowledge(*, alarm_id: int, request: Request, body: StepBody | None = None, user: Worker,
                conn: Conn) -> AlarmDetail:
    return _step(conn, request, user, alarm_id, "acknowledge", {"new"}, "acknowledged", body.note if body else None)


@router.post("/{alarm_id}/assign", response_model=AlarmDetail, responses={409: {}})
def assign(*, alarm_id: int, body: AssignBody, request: Request, user: Worker, conn: Conn) -> AlarmDetail:
    """Give the alarm to a person (an active operator or admin who may see its site)."""
    check_assignee(conn, body.assignee_id, _visible_alarm(conn, alarm_id, user)["site_id"], "alarm")
    return _step(conn, request, user, alarm_id, "assign", OPEN, "assigned", body.note, assignee=body.assignee_id)


@router.post("/{alarm_id}/notes", response_model=AlarmDetail)
def add_note(*, alarm_id: int, body: NoteBody, request: Request, user: Worker, conn: Conn) -> AlarmDetail:
    return _step(conn, request, user, alarm_id, "note", OPEN | {"resolved"}, None, body.text)


@router.post("/{alarm_id}/steps/{position}", response_model=AlarmDetail, responses={409: {}})
def tick(*, alarm_id: int, position: int, request: Request, body: TickBody | None = None, user: Worker,
         conn: Conn) -> AlarmDetail:
    """Tick (or untick) one step of the alarm's checklist, with an optional note; each tick an audit row."""
    body = body or TickBody()
    with conn.transaction():
        row = _visible_alarm(conn, alarm_id, user, for_update=True)
        if row["status"] not in OPEN:
            raise ApiProblem(409, f"cannot tick a step of an alarm that is {row['status']}",
                             code="alarm_wrong_status", params={"action": "step", "status": row["status"]})
        before = alarm_steps.get_step(conn, alarm_id, position)
        if before is None:
            raise ApiProblem(404, f"the alarm has no step {position}", code="alarm_step_not_found",
                             params={"position": position})
        after = alarm_steps.tick_step(conn, alarm_id, position, user.user_id, body.done, body.note)
        alarm_steps.touch(conn, alarm_id)
        text = f"{position}. {before['text']}" + (f" — {body.note}" if body.note and body.done else "")
        alarm_steps.add_note(conn, alarm_id, user.user_id, "step" if body.done else "untick", text)
        audit.record(conn, user, "alarm.step" if body.done else "alarm.untick", "alarm", alarm_id,
                     before={"site_id": row["site_id"], "step": before},
                     after={"site_id": row["site_id"], "step": after}, remote_addr=client_addr(request))
    return one_alarm(alarm_id=alarm_id, request=request, user=user, conn=conn)


@router.post("/{alarm_id}/resolve", response_model=AlarmDetail, responses={409: {}})
def resolve(*, alarm_id: int, request: Request, body: ResolveBody | None = None, user: Worker,
            conn: Conn) -> AlarmDetail:
    """Resolve the alarm (and its events); with required steps not ticked, only with a ``reason``."""
    body = body or ResolveBody()
    reason = (body.reason or "").strip() or None

    def steps_done_or_reason(row: dict[str, Any]) -> dict[str, Any] | None:
        unticked = alarm_steps.unticked_required(conn, row["id"])
        if not unticked:
            return None
        if reason is None:
            raise ApiError(422, "body.reason", f"{len(unticked)} required step(s) not done: give the reason",
                           code="alarm_steps_unticked", params={"count": len(unticked)})
        return {"reason": reason, "unticked": [s["text"] for s in unticked]}

    note = "\n".join(t for t in (body.note, reason) if t) or None
    return _step(conn, request, user, alarm_id, "resolve", OPEN, "resolved", note, check=steps_done_or_reason)


@router.post("/{alarm_id}/reopen", response_model=AlarmDetail, responses={409: {}})
def reopen(*, alarm_id: int, request: Request, body: StepBody | None = None, user: Worker,
           conn: Conn) -> AlarmDetail:
    row = _visible_alarm(conn, alarm_id, user)
    status = "assigned" if row["assignee_id"] else "acknowledged"
    return _step(conn, request, user, alarm_id, "reopen", {"resolved"}, status, body.note if body else None)
