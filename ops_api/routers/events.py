"""Events: the filtered list (cursor pages), one event with its notes, its evidence image, and the
operator workflow (acknowledge, assign, note, resolve, reopen), each step a note and an audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from core import media
from ops_api import audit
from ops_api.deps import Conn, client_addr, context, require
from ops_api.errors import ApiError, ApiProblem, not_found
from ops_api.params import Moment, list_window
from ops_api.roles import Principal
from ops_api.schemas import EventOut, Page, StrictIn, StrictModel
from store import event_steps
from store.accounts import assignable_users, find_user
from store.errors import StoreInputError
from store.queries.events import EventFilter, event_notes, get_event, list_events

router = APIRouter(prefix="/api/events", tags=["events"])
Reader = Annotated[Principal, Depends(require("events.read"))]
Worker = Annotated[Principal, Depends(require("events.workflow"))]

Severity = Literal["info", "low", "medium", "high", "critical"]
Status = Literal["new", "acknowledged", "assigned", "resolved"]
Types = Annotated[list[str] | None, Query(description="Event types, e.g. officer_absent, wrong_way (repeatable).")]


class EventPage(Page):
    items: list[EventOut]


class NoteOut(BaseModel):
    id: int
    time: datetime
    user_id: int | None
    username: str | None
    action: str
    text: str | None


class EventDetail(EventOut):
    notes: list[NoteOut] = Field(default_factory=list)


class StepBody(StrictIn):
    note: str | None = Field(None, max_length=4000, examples=["Đã gọi cán bộ trực quầy 3"])


class AssignBody(StepBody):
    assignee_id: int = Field(examples=[5])


class NoteBody(StrictIn):
    text: str = Field(min_length=1, max_length=4000, examples=["Camera bị che một phần, đã báo kỹ thuật"])


async def event_filter(*, since: Moment | None = None, until: Moment | None = None,
                       site_id: Annotated[list[int] | None, Query()] = None, camera_id: int | None = None,
                       counter_id: int | None = None,
                       type: Types = None,
                       severity: Annotated[list[Severity] | None, Query()] = None,
                       status: Annotated[list[Status] | None, Query()] = None,
                       open: Annotated[bool, Query(description="Only events the rule still holds open.")] = False,
                       conn: Conn) -> EventFilter:
    since, until = list_window(conn.info.timezone, since, until, type)
    return EventFilter(since=since, until=until, site_ids=site_id,
                       camera_ids=None if camera_id is None else [camera_id],
                       counter_ids=None if counter_id is None else [counter_id],
                       types=type or None, severities=severity or None, statuses=status or None, open_only=open)


@router.get("", response_model=EventPage)
def events(*, flt: Annotated[EventFilter, Depends(event_filter)], limit: int = Query(50, ge=1, le=500),
           cursor: str | None = Query(None, max_length=200), user: Reader,
           conn: Conn) -> EventPage:
    """Events newest first, filtered by time, site, camera, counter, type, severity, status."""
    user.check_site_filter(flt.site_ids)
    try:
        rows, following = list_events(conn, flt, user.scope, limit, cursor)
    except StoreInputError as exc:  # the only input left for list_events to check is the cursor
        raise ApiError(422, "query.cursor", str(exc).split(": ", 1)[-1], code="invalid_cursor") from None
    return EventPage(items=[EventOut.of(r) for r in rows], next_cursor=following)


def _visible_event(conn: psycopg.Connection, event_id: UUID, user: Principal, *,
                   for_update: bool = False) -> dict:
    row = get_event(conn, event_id, for_update=for_update)
    if row is None:
        raise not_found("event")
    user.visible(row["site_id"], "event")
    return row


class Assignee(StrictModel):
    id: int
    username: str
    display_name: str | None = None
    role: str


@router.get("/assignees", response_model=list[Assignee])
def assignees(*, user: Worker, conn: Conn) -> list[Assignee]:
    """People an event can be assigned to: active operators and admins whose sites include the caller's."""
    return [Assignee(**row) for row in assignable_users(conn, user.scope)]


@router.get("/{event_id}", response_model=EventDetail)
def one_event(*, event_id: UUID, user: Reader, conn: Conn) -> EventDetail:
    row = _visible_event(conn, event_id, user)
    return EventDetail(**EventOut.of(row).model_dump(), notes=[NoteOut(**n) for n in event_notes(conn, event_id)])


@router.get("/{event_id}/evidence", response_class=FileResponse, responses={200: {"content": {"image/jpeg": {}}}})
def evidence(*, event_id: UUID, request: Request, user: Reader, conn: Conn,
             label: Annotated[str | None, Query(max_length=40, description="One of the event's pictures "
                                                "(attributes.evidence); none: the picture taken when it opened.")]
             = None) -> FileResponse:
    """An evidence JPEG of the event (boxes and zones drawn): the one taken when it opened, or ``label``'s."""
    row = _visible_event(conn, event_id, user)
    stored = row["evidence_path"]
    if label is not None:
        pictures = (row.get("attributes") or {}).get("evidence")
        stored = pictures.get(label) if isinstance(pictures, dict) else None
        if not isinstance(stored, str):
            raise ApiProblem(404, f"this event has no picture {label!r}", code="evidence_missing")
    if not stored:
        raise ApiProblem(404, "this event has no evidence image", code="evidence_missing")
    path = media.stored_file(context(request).settings.data_dir, stored)
    if path is None:  # gone, or a path leading out of the data folder
        raise ApiProblem(404, "the evidence image is no longer available", code="evidence_gone")
    return FileResponse(path, media_type="image/jpeg")


def _step(conn: psycopg.Connection, request: Request, user: Principal, event_id: UUID, action: str,
          allowed_from: set[str], new_status: str | None, note: str | None, assignee: int | None = None) -> EventDetail:
    """One workflow step in one transaction: status change, a note row, an audit row."""
    with conn.transaction():
        row = _visible_event(conn, event_id, user, for_update=True)
        if row["status"] not in allowed_from:
            raise ApiProblem(409, f"cannot {action} an event that is {row['status']}", code="event_wrong_status",
                             params={"action": action, "status": row["status"]})
        before: dict[str, Any] = {"status": row["status"], "assignee_id": row["assignee_id"]}
        after = dict(before)
        if new_status is not None:
            after["status"] = new_status
        if assignee is not None:
            after["assignee_id"] = assignee
        if after != before:
            event_steps.set_status(conn, row, after["status"], after["assignee_id"])
        event_steps.add_note(conn, event_id, user.user_id, action, note)
        if note:
            after["note"] = note
        audit.record(conn, user, f"event.{action}", "event", event_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return one_event(event_id=event_id, user=user, conn=conn)


OPEN = {"new", "acknowledged", "assigned"}


@router.post("/{event_id}/acknowledge", response_model=EventDetail, responses={409: {}})
def acknowledge(*, event_id: UUID, request: Request, body: StepBody | None = None, user: Worker,
                conn: Conn) -> EventDetail:
    return _step(conn, request, user, event_id, "acknowledge", {"new"}, "acknowledged", body.note if body else None)


def check_assignee(conn: psycopg.Connection, assignee_id: int, site_id: int | None, what: str) -> None:
    """An event or alarm goes only to an active operator or admin who may see its site (their sites, their
    provinces' sites, or every site): otherwise a 422 naming ``body.assignee_id``."""
    target = find_user(conn, user_id=assignee_id)
    if target is None or not target["active"] or target["role"] not in ("operator", "admin"):
        raise ApiError(422, "body.assignee_id", "must be an active operator or admin", code="assignee_not_eligible")
    if target["scope_site_ids"] is not None and site_id not in target["scope_site_ids"]:
        raise ApiError(422, "body.assignee_id", f"this user may not see the {what}'s site",
                       code="assignee_cannot_see_site")


@router.post("/{event_id}/assign", response_model=EventDetail, responses={409: {}})
def assign(*, event_id: UUID, body: AssignBody, request: Request, user: Worker,
           conn: Conn) -> EventDetail:
    """Give the event to a person (an active operator or admin who may see its site)."""
    check_assignee(conn, body.assignee_id, _visible_event(conn, event_id, user)["site_id"], "event")
    return _step(conn, request, user, event_id, "assign", OPEN, "assigned", body.note, assignee=body.assignee_id)


@router.post("/{event_id}/notes", response_model=EventDetail)
def add_note(*, event_id: UUID, body: NoteBody, request: Request, user: Worker,
             conn: Conn) -> EventDetail:
    return _step(conn, request, user, event_id, "note", OPEN | {"resolved"}, None, body.text)


@router.post("/{event_id}/resolve", response_model=EventDetail, responses={409: {}})
def resolve(*, event_id: UUID, request: Request, body: StepBody | None = None, user: Worker,
            conn: Conn) -> EventDetail:
    return _step(conn, request, user, event_id, "resolve", OPEN, "resolved", body.note if body else None)


@router.post("/{event_id}/reopen", response_model=EventDetail, responses={409: {}})
def reopen(*, event_id: UUID, request: Request, body: StepBody | None = None, user: Worker,
           conn: Conn) -> EventDetail:
    row = _visible_event(conn, event_id, user)
    status = "assigned" if row["assignee_id"] else "acknowledged"
    return _step(conn, request, user, event_id, "reopen", {"resolved"}, status, body.note if body else None)
