"""Watching recorded footage: a camera's recorded spans (the day timeline), an HLS VOD playlist of a range, an
event's clip, the live view from the recorder's newest segments, and the segments themselves.

Every answer goes through ``ops_api.footage``: the permission, the site scope and the camera's audience are
checked for each playlist and each segment; a segment is served only when the index (or the recorder's current
live playlist) names it, through ``core.media.recording_file``. Playlists are audited (``ops_api.footage``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from core import media
from ops_api import hls
from ops_api.deps import Conn, CurrentUser, context
from ops_api.errors import ApiProblem, not_found
from ops_api.footage import BROWSER_CODECS, check_footage, check_range, may_watch, record_view, require_footage_role
from ops_api.params import Moment
from store import playback
from store.queries.events import get_event

router = APIRouter(tags=["recordings"])
Start = Annotated[Moment, Query(description="Start of the range, with its UTC offset (2026-12-07T08:00:00+07:00).")]
End = Annotated[Moment, Query(description="End of the range, with its UTC offset.")]
SPANS_MAX_HOURS = 31 * 24
LIVE_FRESH_S = 15.0  # a live playlist not rewritten for this long: the recorder is not writing
PLAYLIST_HEADERS = {"cache-control": "no-store"}
SEGMENT_HEADERS = {"cache-control": "private, max-age=3600"}  # a segment never changes; personal data: no shared cache
PLAYLIST_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {hls.MEDIA_TYPE: {}}}}


class FootageCameraOut(BaseModel):
    id: int
    name: str
    site_id: int
    site_name: str
    last_recorded: datetime | None  # the end of the newest segment
    codec: str | None  # the newest segment's
    browser_playable: bool | None  # None: nothing recorded yet
    live: bool  # the recorder is writing the camera's live playlist now


class SpanOut(BaseModel):
    start: datetime
    end: datetime
    segments: int
    bytes: int
    codecs: list[str]


class GapOut(BaseModel):
    start: datetime
    end: datetime


class SpansOut(BaseModel):
    camera_id: int
    start: datetime
    end: datetime
    spans: list[SpanOut]
    gaps: list[GapOut]
    codecs: list[str]
    browser_playable: bool  # false: H.265 and the like; the console says so (export still works)


class ClipOut(SpansOut):
    event_id: UUID
    playlist_url: str


def _spans(conn: Any, camera_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    found = playback.spans(conn, camera_id, start, end)
    codecs = sorted({c for s in found for c in s.codecs})
    return {"camera_id": camera_id, "start": start, "end": end,
            "spans": [SpanOut(start=s.start, end=s.end, segments=s.segments, bytes=s.bytes, codecs=list(s.codecs))
                      for s in found],
            "gaps": [GapOut(start=a, end=b) for a, b in playback.gaps_between(found, start, end)],
            "codecs": codecs, "browser_playable": bool(codecs) and set(codecs) <= BROWSER_CODECS}


@router.get("/api/recordings/cameras", response_model=list[FootageCameraOut])
def footage_cameras(*, request: Request, user: CurrentUser, conn: Conn) -> list[FootageCameraOut]:
    """The cameras of the user's sites whose recordings the user may watch (the playback page's list)."""
    settings = context(request).settings
    require_footage_role(user, settings)
    return [FootageCameraOut(id=camera.camera_id, name=camera.name, site_id=camera.site_id,
                             site_name=extra["site_name"], last_recorded=extra["last_end"], codec=extra["last_codec"],
                             browser_playable=None if extra["last_codec"] is None
                             else extra["last_codec"] in BROWSER_CODECS,
                             live=_recording_now(settings.data_dir, camera.camera_id))
            for camera, extra in playback.footage_cameras(conn, user.scope) if may_watch(user, camera, settings)]


def _recording_now(data_dir: Path, camera_id: int) -> bool:
    """Whether the recorder rewrote the camera's live playlist lately (it does at every segment, ~2 s)."""
    try:
        age = time.time() - media.recording_live_playlist(data_dir, camera_id).stat().st_mtime
    except OSError:
        return False
    return age < LIVE_FRESH_S


@router.get("/api/recordings/{camera_id}/spans", response_model=SpansOut)
def recorded_spans(*, camera_id: int, start: Start, end: End, request: Request, user: CurrentUser,
                   conn: Conn) -> SpansOut:
    """What is recorded of the camera in [start, end) (at most 31 days): spans without a hole, the gaps
    between them, and whether the browser can play the codecs."""
    check_range(start, end, SPANS_MAX_HOURS)
    check_footage(conn, user, camera_id, context(request).settings)
    return SpansOut(**_spans(conn, camera_id, start, end))


def _playlist(conn: Any, request: Request, user: Any, camera: playback.CameraFootage, start: datetime,
              end: datetime, details: dict[str, Any]) -> Response:
    segments = playback.segments(conn, camera.camera_id, start, end)
    if not segments:
        raise ApiProblem(404, "nothing of this camera is recorded in this range", code="recording_none_in_range")
    record_view(conn, request, user, camera, "recording.view",
                {"start": start.isoformat(), "end": end.isoformat(), "segments": len(segments), **details})
    return Response(hls.vod_playlist(camera.camera_id, segments), media_type=hls.MEDIA_TYPE, headers=PLAYLIST_HEADERS)


@router.get("/api/recordings/{camera_id}/playlist.m3u8", response_class=Response, responses=PLAYLIST_RESPONSES)
def range_playlist(*, camera_id: int, start: Start, end: End, request: Request, user: CurrentUser,
                   conn: Conn) -> Response:
    """An HLS VOD playlist of the camera's footage in [start, end): whole segments, each with its wall-clock
    time, a discontinuity at every hole. One audit row per request."""
    settings = context(request).settings
    check_range(start, end, settings.playback.playlist_max_hours)
    camera = check_footage(conn, user, camera_id, settings)
    return _playlist(conn, request, user, camera, start, end, {})


def _clip_range(event: dict[str, Any], request: Request) -> tuple[datetime, datetime]:
    # One setting for the clip and for what retention keeps around an event, so a clip is never cut short.
    settings = context(request).settings
    start = event["time"] - timedelta(seconds=settings.record.pre_roll_s)
    end = (event["end_time"] or datetime.now(UTC)) + timedelta(seconds=settings.record.post_roll_s)
    return start, min(end, start + timedelta(hours=settings.playback.playlist_max_hours))


def _event_camera(conn: Any, event_id: UUID, user: Any, request: Request) -> tuple[dict[str, Any], Any]:
    user.require("events.read")
    event = get_event(conn, event_id)
    if event is None:
        raise not_found("event")
    user.visible(event["site_id"], "event")
    if event["camera_id"] is None:
        raise ApiProblem(404, "this event has no camera, so no recording", code="recording_none_in_range")
    return event, check_footage(conn, user, event["camera_id"], context(request).settings)


@router.get("/api/events/{event_id}/clip", response_model=ClipOut)
def event_clip(*, event_id: UUID, request: Request, user: CurrentUser, conn: Conn) -> ClipOut:
    """The range of the event's clip (from pre-roll before it to post-roll after it; an open event: until now),
    what is recorded of it, and the playlist's address."""
    event, camera = _event_camera(conn, event_id, user, request)
    start, end = _clip_range(event, request)
    return ClipOut(**_spans(conn, camera.camera_id, start, end), event_id=event_id,
                   playlist_url=f"/api/events/{event_id}/clip.m3u8")


@router.get("/api/events/{event_id}/clip.m3u8", response_class=Response, responses=PLAYLIST_RESPONSES)
def event_clip_playlist(*, event_id: UUID, request: Request, user: CurrentUser, conn: Conn) -> Response:
    """The event's clip as an HLS VOD playlist of its camera (``record.pre_roll_s`` before the event to
    ``record.post_roll_s`` after it). One audit row per request."""
    event, camera = _event_camera(conn, event_id, user, request)
    start, end = _clip_range(event, request)
    return _playlist(conn, request, user, camera, start, end, {"event_id": str(event_id)})


def _live_paths(data_dir: Path, camera_id: int) -> tuple[Path, str] | None:
    playlist = media.recording_live_playlist(data_dir, camera_id)
    try:
        return playlist, playlist.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None


@router.get("/api/recordings/{camera_id}/live.m3u8", response_class=Response, responses=PLAYLIST_RESPONSES)
def live_playlist(*, camera_id: int, request: Request, user: CurrentUser, conn: Conn) -> Response:
    """The recorder's live playlist of the camera's newest segments, its addresses the API's. One audit row per
    person and camera per ``playback.live_audit_window_s``."""
    settings = context(request).settings
    camera = check_footage(conn, user, camera_id, settings)
    found = _live_paths(settings.data_dir, camera_id)
    if found is None:
        raise ApiProblem(404, "this camera is not being recorded now", code="recording_live_unavailable")
    playlist, text = found
    window = settings.playback.live_audit_window_s
    record_view(conn, request, user, camera, "recording.live", {"since": datetime.now(UTC).isoformat()},
                once_within=timedelta(seconds=window) if window else None)
    body = hls.rewrite_live(text, camera_id, playlist, media.recordings_dir(settings.data_dir),
                            media.recording_camera_dir(settings.data_dir, camera_id))
    return Response(body, media_type=hls.MEDIA_TYPE, headers=PLAYLIST_HEADERS)


@router.get("/api/recordings/{camera_id}/segments/{path:path}", response_class=FileResponse,
            responses={200: {"content": {"video/mp2t": {}}}})
def segment(*, camera_id: int, path: str, request: Request, user: CurrentUser, conn: Conn) -> FileResponse:
    """One recorded segment, when the index names it for this camera (or the recorder's live playlist lists it
    now) and the user may watch the camera."""
    data_dir = context(request).settings.data_dir
    check_footage(conn, user, camera_id, context(request).settings)
    known = playback.segment_indexed(conn, camera_id, path)
    if not known:
        live = _live_paths(data_dir, camera_id)
        known = live is not None and path in hls.playlist_paths(
            live[1], live[0], media.recordings_dir(data_dir), media.recording_camera_dir(data_dir, camera_id))
    file = media.recording_file(data_dir, path) if known else None
    if file is None or not file.is_file():
        raise ApiProblem(404, "no such recorded segment (or it has been deleted)", code="recording_segment_not_found")
    return FileResponse(file, media_type=hls.SEGMENT_TYPES.get(file.suffix, "application/octet-stream"),
                        headers=SEGMENT_HEADERS)
