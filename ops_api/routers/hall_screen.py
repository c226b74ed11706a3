"""The public hall screen: the one page besides health and sign-in that needs no user. A TV in the waiting hall
opens ``/hall/<site id>#key=<display key>`` (the key in the fragment never reaches a server log or a Referer);
the page asks ``/api/hall/<site id>/board`` with the key in ``X-Display-Key`` every few seconds.

The key is a secret: 256 random bits per site, only its SHA-256 kept, compared in constant time, rotated by an
admin of the site (audited; the old key stops at once). A client address that sends too many wrong keys is
refused (429) for a while. The board carries no personal data: counters open or closed, the ticket being served,
and per department the people ahead and the forecast wait; no officer, no absence, no picture.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ops_api import audit
from ops_api.deps import Conn, client_addr, context, require
from ops_api.errors import ApiProblem
from ops_api.roles import Principal
from ops_api.security import DISPLAY_PREFIX, new_token, token_hash
from store import displays
from store.queries.hall_board import hall_board
from store.registry_rows import find_site, get_site

router = APIRouter(tags=["hall screen"])
Admin = Annotated[Principal, Depends(require("displays.admin"))]
NO_STORE = {"cache-control": "no-store"}


class BoardCounterOut(BaseModel):
    number: int
    department: str
    open: bool
    serving: str | None = Field(description="The ticket number called to this counter (ticket systems only).")


class BoardDepartmentOut(BaseModel):
    department: str
    waiting: float | None = Field(description="People ahead of a citizen taking a ticket now.")
    counters_open: int
    forecast_wait_s: float | None = Field(description="Expected wait of a citizen taking a ticket now.")
    source: str = Field(description="tickets (a ticket system) or cameras (the queue zones)")


class BoardOut(BaseModel):
    site: str
    time: datetime
    open_now: bool
    refresh_s: float
    counters: list[BoardCounterOut]
    departments: list[BoardDepartmentOut]


class DisplayKey(BaseModel):
    site_id: int
    prefix: str | None = None
    rotated_at: datetime | None = None


class DisplayKeyCreated(DisplayKey):
    key: str = Field(description="Shown once: the hall screen's key.")
    url: str = Field(description="The page to open on the hall's TV (the key rides in the fragment).")


def _refused(status: int, retry_after: int | None = None) -> ApiProblem:
    if status == 429:
        return ApiProblem(429, "too many wrong display keys from this address; try again later",
                          code="display_key_locked", params={"retry_after_s": retry_after},
                          headers={"Retry-After": str(retry_after)})
    return ApiProblem(401, "this hall screen's key is not (or no longer) valid", code="display_key_wrong",
                      headers={"WWW-Authenticate": "X-Display-Key"})


@router.get("/api/hall/{site_id}/board", response_model=BoardOut, responses={401: {}, 429: {}})
def board(*, site_id: int, request: Request, conn: Conn,
          x_display_key: Annotated[str | None, Header(alias="X-Display-Key")] = None) -> JSONResponse:
    """The hall screen's content (no sign-in: the site's display key in X-Display-Key)."""
    settings = context(request).settings.centers
    address = client_addr(request) or "unknown"
    wait = displays.locked_for(conn, address)
    if wait is not None:
        raise _refused(429, wait)
    stored = displays.display_key_hash(conn, site_id)
    given = token_hash(x_display_key or "")
    if stored is None or not hmac.compare_digest(stored, given):  # one answer for a wrong key, no key, no site
        displays.count_wrong_key(conn, address, max_wrong=settings.hall_max_wrong_keys,
                                 lockout_s=settings.hall_lockout_s)
        raise _refused(401)
    site = find_site(conn, site_id)
    if site is None:
        raise _refused(401)
    found = hall_board(conn, site, default_service_s=settings.default_service_s,
                       recent_sessions=settings.recent_sessions, recent_window_s=settings.recent_window_s)
    out = BoardOut(site=site["name"], time=found.time, open_now=found.open_now, refresh_s=settings.hall_refresh_s,
                   counters=[BoardCounterOut(**vars(c)) for c in found.counters],
                   departments=[BoardDepartmentOut(**vars(d)) for d in found.departments])
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.get("/api/sites/{site_id}/display-key", response_model=DisplayKey)
def display_key(*, site_id: int, user: Admin, conn: Conn) -> DisplayKey:
    """Whether the site's hall screen has a key (its first characters) and when it was rotated."""
    get_site(conn, site_id, user.scope)
    found = displays.display_of(conn, site_id)
    return DisplayKey(**found) if found else DisplayKey(site_id=site_id)


@router.post("/api/sites/{site_id}/display-key", response_model=DisplayKeyCreated, status_code=201)
def rotate_display_key(*, site_id: int, request: Request, user: Admin, conn: Conn) -> DisplayKeyCreated:
    """A new display key for the site's hall screen (shown once); the previous key stops working at once."""
    get_site(conn, site_id, user.scope)
    key = new_token(DISPLAY_PREFIX)
    with conn.transaction():
        row = displays.set_display_key(conn, site_id, token_hash(key), key[:8])
        audit.record(conn, user, "display.rotate", "site", site_id, after={"prefix": row["prefix"]},
                     remote_addr=client_addr(request))
    return DisplayKeyCreated(**row, key=key, url=f"/hall/{site_id}#key={key}")
