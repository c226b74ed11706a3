"""Handing footage out: an MP4 export of a range (a reason required; its sha256 recorded with the person; an audit
row; a hold that keeps the footage beyond retention), the download of that file, and the holds of a camera.

The export runs ffmpeg for as long as it takes, so it holds no pooled connection meanwhile: the user is signed
in with ``require_briefly`` and the store is used in two short visits, before and after.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from core import media
from ops_api import audit
from ops_api.deps import Conn, CurrentUser, client_addr, context, require_briefly
from ops_api.errors import ApiProblem
from ops_api.footage import check_footage, check_range
from ops_api.params import Moment
from ops_api.roles import ADMIN, Principal
from ops_api.schemas import StrictIn
from record.export import ExportError, ExportPiece, export_file_name, export_mp4
from store import playback

router = APIRouter(tags=["recordings"])
Exporter = Annotated[Principal, Depends(require_briefly("recordings.export"))]


class ExportBody(StrictIn):
    start: Moment = Field(description="Start of the range, with its UTC offset.")
    end: Moment = Field(description="End of the range, with its UTC offset.")
    reason: str = Field(min_length=3, max_length=2000, examples=["Công dân khiếu nại tại quầy 2, đơn số 15/2026"])
    case_ref: str | None = Field(None, max_length=200, examples=["KN-2026-015"])


class ExportOut(BaseModel):
    id: int
    camera_id: int
    start: datetime
    end: datetime
    actual_start: datetime  # what the file covers: whole segments, cut at key frames
    actual_end: datetime
    gaps: list[dict[str, datetime]]  # holes in the footage, left out of the file
    segments: int
    reason: str
    sha256: str
    bytes: int
    file_name: str
    hold_id: int | None
    download_url: str


class HoldOut(BaseModel):
    id: int
    camera_id: int
    start_time: datetime
    end_time: datetime
    reason: str
    case_ref: str | None
    created_by: int | None
    created_at: datetime
    released_at: datetime | None


@router.post("/api/recordings/{camera_id}/exports", response_model=ExportOut, status_code=201,
             responses={404: {}, 503: {}})
def export_range(*, camera_id: int, body: ExportBody, request: Request, user: Exporter) -> ExportOut:
    """An MP4 of the camera's footage in [start, end): stream copy of whole segments (so it starts at or before
    ``start`` and ends at or after ``end``, by at most a segment; ``actual_start``/``actual_end`` and the file
    name say what it covers). The reason, the person and the file's sha256 are recorded; the range is held
    from retention until an admin releases it."""
    ctx = context(request)
    settings = ctx.settings
    check_range(body.start, body.end, settings.playback.export_max_hours, where="body")
    with ctx.pool.connection() as conn:
        camera = check_footage(conn, user, camera_id, settings, export=True)
        segments = playback.segments(conn, camera_id, body.start, body.end)
        found = playback.spans(conn, camera_id, body.start, body.end)
    # A path leading out of the recordings area names no file: the export then fails as for a missing one.
    pieces = [ExportPiece(media.recording_file(settings.data_dir, s.path) or Path("/nonexistent"), s.start, s.end)
              for s in segments]
    if not pieces:
        raise ApiProblem(404, "nothing of this camera is recorded in this range", code="recording_none_in_range")
    name = export_file_name(camera_id, pieces[0].start, pieces[-1].end, uuid.uuid4().hex[:6])
    covers = f"{pieces[0].start.isoformat()}/{pieces[-1].end.isoformat()}"
    try:
        result = export_mp4(pieces, media.export_file(settings.data_dir, name),
                            timeout_s=settings.playback.export_timeout_s,
                            title=f"Vigil camera {camera_id} {covers}")
    except ExportError:
        raise ApiProblem(503, "the footage could not be exported (a segment is missing or the disk is full); "
                              "try again or ask an administrator", code="recording_export_failed") from None
    gaps = [{"start": a, "end": b} for a, b in playback.gaps_between(found, result.actual_start, result.actual_end)]
    with ctx.pool.connection() as conn, conn.transaction():
        hold = playback.create_hold(conn, camera_id, result.actual_start, result.actual_end, body.reason,
                                    body.case_ref, user.user_id)
        row = playback.insert_export(conn, camera_id=camera_id, start=body.start, end=body.end,
                                     actual_start=result.actual_start, actual_end=result.actual_end,
                                     reason=body.reason, user_id=user.user_id, username=user.username,
                                     sha256=result.sha256, size=result.bytes, file_name=name, hold_id=hold["id"])
        audit.record(conn, user, "recording.export", "camera", camera_id, after={
            "export_id": row["id"], "start": body.start.isoformat(), "end": body.end.isoformat(),
            "actual_start": result.actual_start.isoformat(), "actual_end": result.actual_end.isoformat(),
            "reason": body.reason, "case_ref": body.case_ref, "sha256": result.sha256, "bytes": result.bytes,
            "file_name": name, "hold_id": hold["id"]}, remote_addr=client_addr(request), site_ids=[camera.site_id])
    return ExportOut(id=row["id"], camera_id=camera_id, start=body.start, end=body.end,
                     actual_start=result.actual_start, actual_end=result.actual_end, gaps=gaps,
                     segments=result.segments, reason=body.reason, sha256=result.sha256, bytes=result.bytes,
                     file_name=name, hold_id=hold["id"], download_url=f"/api/recordings/exports/{row['id']}/file")


def _export_of(conn: Any, export_id: int, user: Principal, request: Request) -> dict[str, Any]:
    user.require("recordings.export")
    row = playback.get_export(conn, export_id)
    if row is None:
        raise ApiProblem(404, "no such export", code="recording_export_not_found")
    check_footage(conn, user, row["camera_id"], context(request).settings, export=True)
    if user.role != ADMIN and row["user_id"] != user.user_id:
        raise ApiProblem(403, "only the person who made an export (or an admin) may download it",
                         code="recording_export_not_yours")
    return row


@router.get("/api/recordings/exports/{export_id}/file", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}})
def export_file(*, export_id: int, request: Request, user: CurrentUser, conn: Conn) -> FileResponse:
    """The exported MP4 (to the person who made it, or an admin); each download is an audit row."""
    row = _export_of(conn, export_id, user, request)
    file = media.export_file(context(request).settings.data_dir, row["file_name"])
    if not file.is_file():
        raise ApiProblem(404, "the exported file is no longer on the server; export the range again",
                         code="recording_export_not_found")
    audit.record(conn, user, "recording.export_download", "camera", row["camera_id"],
                 after={"export_id": export_id, "sha256": row["sha256"]}, remote_addr=client_addr(request))
    return FileResponse(file, media_type="video/mp4", filename=row["file_name"],
                        headers={"cache-control": "private, no-store"})


@router.get("/api/recordings/{camera_id}/holds", response_model=list[HoldOut])
def holds(*, camera_id: int, request: Request, user: CurrentUser, conn: Conn) -> list[HoldOut]:
    """The active holds of the camera's footage (kept beyond retention until released)."""
    check_footage(conn, user, camera_id, context(request).settings)
    return [HoldOut(**row) for row in playback.list_holds(conn, camera_id)]


@router.post("/api/recordings/holds/{hold_id}/release", response_model=HoldOut, responses={404: {}, 409: {}})
def release(*, hold_id: int, request: Request, user: CurrentUser, conn: Conn) -> HoldOut:
    """Let retention delete the held footage again (admins of the camera's site)."""
    user.require("recordings.holds")
    with conn.transaction():
        hold = playback.find_hold(conn, hold_id, for_update=True)
        if hold is None:
            raise ApiProblem(404, "no such hold", code="recording_hold_not_found")
        camera = check_footage(conn, user, hold["camera_id"], context(request).settings)
        if hold["released_at"] is not None:
            raise ApiProblem(409, "this hold has already been released", code="recording_hold_released")
        released = playback.release_hold(conn, hold_id, user.user_id)
        audit.record(conn, user, "recording.hold_release", "camera", hold["camera_id"],
                     before={"hold_id": hold_id, "reason": hold["reason"]},
                     after={"hold_id": hold_id, "released_at": released["released_at"].isoformat()},
                     remote_addr=client_addr(request), site_ids=[camera.site_id])
    return HoldOut(**released)

