"""Who may watch and export a camera's recordings, and the audit row each viewing leaves.

Recorded video of citizens and officers is personal data (Law on Personal Data Protection, Decree 13/2023): it is
shown only to the people whose work needs it. A camera's footage has an *audience*:

- a camera that watches a counter, or any camera of a service-center site: the center's **managers** (an officer's
  absence, a citizen's complaint at a counter);
- every other camera (streets, other sites): the site's **operators** (incidents, alarms);
- **admins** see every camera of their sites; **engineers** none (``playback.engineers_view`` lets them watch, not
  export, to check that a camera records).

The permission (``recordings.view`` / ``recordings.export`` in ``ops_api.roles``) comes first (403), then the
site scope (404: another site's camera does not exist for the user), then the audience (403).
Every playlist of a range (a VOD playlist, an event's clip) is one audit row ``recording.view``; the live view
is one row ``recording.live`` per person and camera per ``playback.live_audit_window_s`` (hls.js fetches the
live playlist every couple of seconds); each export and each download of an export is a row too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from fastapi import Request

from core.settings import Settings
from ops_api import audit
from ops_api.deps import client_addr
from ops_api.errors import ApiError, ApiProblem, not_found
from ops_api.roles import ADMIN, ENGINEER, MANAGER, OPERATOR, Principal, Role
from store import playback
from store.playback import CameraFootage

BROWSER_CODECS = frozenset({"h264"})  # what Debian's Chromium plays through MSE (H.265 it does not)


def audience(camera: CameraFootage) -> Role:
    """The role whose work needs this camera's footage (admins aside)."""
    return MANAGER if camera.watches_counter or camera.site_kind == "service_center" else OPERATOR


def _engineer_watches(user: Principal, settings: Settings, export: bool) -> bool:
    return not export and user.role == ENGINEER and settings.playback.engineers_view


def may_watch(user: Principal, camera: CameraFootage, settings: Settings) -> bool:
    """Whether the user's role may watch this camera's footage (the site scope is checked apart)."""
    return _engineer_watches(user, settings, False) or (user.can("recordings.view") and user.role in (
        ADMIN, audience(camera)))


def require_footage_role(user: Principal, settings: Settings, *, export: bool = False) -> None:
    """403 unless the role may watch (or export) recordings at all."""
    if not _engineer_watches(user, settings, export):
        user.require("recordings.export" if export else "recordings.view")


def check_footage(conn: psycopg.Connection, user: Principal, camera_id: int, settings: Settings, *,
                  export: bool = False) -> CameraFootage:
    """The camera when ``user`` may watch (or export) its recordings; 403 or 404 otherwise."""
    engineer_watches = _engineer_watches(user, settings, export)
    require_footage_role(user, settings, export=export)
    camera = playback.footage_camera(conn, camera_id)
    if camera is None:
        raise not_found("camera")
    user.visible(camera.site_id, "camera")
    wanted = audience(camera)
    if not engineer_watches and user.role != ADMIN and user.role != wanted:
        raise ApiProblem(403, f"the recordings of this camera are for {wanted}s of its site, not for your role "
                              f"({user.role})", code="footage_not_permitted",
                         params={"role": str(user.role), "audience": str(wanted)})
    return camera


def check_range(start: datetime, end: datetime, max_hours: float, where: str = "query") -> None:
    """422 naming the parameter (``where``.start/end) when a range has no offset, is empty or reversed, or is
    too long."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise ApiError(422, f"{where}.{name}", "must include a UTC offset (2026-12-07T08:00:00+07:00)",
                           code="time_needs_offset")
    if end <= start:
        raise ApiError(422, f"{where}.end", "must be after start", code="recording_range_invalid")
    if end - start > timedelta(hours=max_hours):
        raise ApiError(422, f"{where}.end", f"a range covers at most {max_hours:g} hours",
                       code="recording_range_too_long", params={"max_hours": max_hours})


def record_view(conn: psycopg.Connection, request: Request, user: Principal, camera: CameraFootage, action: str,
                details: dict[str, Any], *, once_within: timedelta | None = None) -> bool:
    """Write the audit row of a viewing (unless ``once_within`` says one of this person, action and camera is
    recent enough); whether a row was written."""
    if once_within and playback.recent_view(conn, user.user_id, action, camera.camera_id, once_within):
        return False
    audit.record(conn, user, action, "camera", camera.camera_id, after=details, remote_addr=client_addr(request),
                 site_ids=[camera.site_id])
    return True
