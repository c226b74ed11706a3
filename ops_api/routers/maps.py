"""The map: its settings (the city map's tile server, where it opens), the sites and cameras it shows (state, open
alarms, places), each site's uploaded plan, and where a camera stands on the plan (direction and field of view)
and on the city map, and which cameras are its neighbours. Everyone reads the map; managers, engineers and
admins change it (each change audited)."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from core import media
from ops_api import audit
from ops_api.deps import Conn, client_addr, context, require, require_briefly
from ops_api.errors import ApiError, ApiProblem
from ops_api.plan_images import MEDIA_TYPES, PlanImageError, inspect
from ops_api.roles import Principal
from ops_api.schemas import StrictIn
from store import site_maps

router = APIRouter(tags=["map"])
Reader = Annotated[Principal, Depends(require("map.read"))]
Editor = Annotated[Principal, Depends(require("map.edit"))]
PLAN_UPLOAD = re.compile(r"^/api/sites/\d+/plan$")  # the one path that takes a larger body (map.plan_max_bytes)
EXTENSIONS = {v: k for k, v in MEDIA_TYPES.items()}


class MapSite(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    timezone: str
    plan_url: str | None = Field(None, description="The uploaded plan's picture; null: none yet.")
    plan_width: int | None = None
    plan_height: int | None = None


class MapConfig(BaseModel):
    tile_url: str | None = Field(description="The city map's tiles ({z}/{x}/{y}); null: no city map configured.")
    tile_attribution: str
    tile_max_zoom: int
    center: tuple[float, float]
    zoom: int
    sites: list[MapSite]


class PlanPosition(StrictIn):
    x: float = Field(ge=0, le=1, description="Across the plan, 0 left .. 1 right.")
    y: float = Field(ge=0, le=1, description="Down the plan, 0 top .. 1 bottom.")
    direction: float | None = Field(None, ge=0, lt=360, description="Where it looks, degrees clockwise from up.")
    fov: float | None = Field(None, ge=1, le=360, description="Field of view in degrees.")


class Placement(StrictIn):
    position: PlanPosition | None = Field(None, description="On the site's plan; null removes it from the plan.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class MapCamera(BaseModel):
    id: int
    site_id: int
    name: str
    state: str
    state_since: datetime | None = None
    enabled: bool = True
    position: dict[str, float] | None = None
    latitude: float | None = None
    longitude: float | None = None
    neighbours: list[int] = Field(default_factory=list)
    open_alarms: int = 0
    alarm_priority: int | None = Field(None, description="The most urgent priority among its open alarms.")
    alarm_urgent: bool = Field(False, description="One of its alarms is escalated and not acknowledged.")


class Neighbours(StrictIn):
    camera_ids: list[int] = Field(max_length=50, description="Cameras that see around this one (both ways).")


class PlanOut(BaseModel):
    site_id: int
    plan_url: str | None
    plan_width: int | None
    plan_height: int | None


def _plan_url(site_id: int, row: dict[str, Any]) -> str | None:
    if not row.get("has_plan", row.get("plan_image")):
        return None
    version = int(row["plan_updated_at"].timestamp()) if row.get("plan_updated_at") else 0
    return f"/api/sites/{site_id}/plan?v={version}"


@router.get("/api/map", response_model=MapConfig)
def map_config(*, request: Request, user: Reader, conn: Conn) -> MapConfig:
    """What the map page needs to open: the tile server (none: plans only) and the sites in scope."""
    settings = context(request).settings.map
    sites = [MapSite(**{k: r[k] for k in MapSite.model_fields if k != "plan_url"}, plan_url=_plan_url(r["id"], r))
             for r in site_maps.map_sites(conn, user.scope)]
    return MapConfig(tile_url=settings.tile_url, tile_attribution=settings.tile_attribution,
                     tile_max_zoom=settings.tile_max_zoom, center=(settings.center_latitude, settings.center_longitude),
                     zoom=settings.zoom, sites=sites)


@router.get("/api/map/cameras", response_model=list[MapCamera])
def map_cameras(*, site_id: int | None = None, user: Reader, conn: Conn) -> list[MapCamera]:
    """Cameras in scope (one site's), with state, places, neighbours and open alarms."""
    if site_id is not None:
        user.check_site_filter([site_id])
    return [MapCamera(**r) for r in site_maps.map_cameras(conn, user.scope, site_id)]


@router.get("/api/sites/{site_id}/plan", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}})
def plan_picture(*, site_id: int, request: Request, user: Reader, conn: Conn) -> FileResponse:
    row = site_maps.site_plan(conn, site_id, user.scope)
    path = media.stored_file(context(request).settings.data_dir, row["plan_image"]) if row["plan_image"] else None
    if path is None:
        raise ApiProblem(404, "this site has no plan", code="plan_missing")
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream"),
                        headers={"cache-control": "private, max-age=86400"})


@router.put("/api/sites/{site_id}/plan", response_model=PlanOut,
            openapi_extra={"requestBody": {"required": True, "content": {t: {} for t in MEDIA_TYPES.values()}}})
async def upload_plan(*, site_id: int, request: Request,
                      user: Annotated[Principal, Depends(require_briefly("map.edit"))]) -> PlanOut:
    """Upload the site's floor or area plan (the body is the picture: PNG, JPEG or WebP, at most
    ``map.plan_max_bytes`` and ``map.plan_max_pixels``); cameras keep their places (0..1 of the plan)."""
    ctx = context(request)  # no pooled connection while the picture arrives (require_briefly)
    data = await request.body()
    if not data:
        raise ApiError(422, "body", "send the plan picture as the request body", code="plan_not_picture")
    limit = ctx.settings.map.plan_max_bytes
    if len(data) > limit:
        raise ApiError(413, "body", f"the plan is larger than {limit} bytes", code="plan_too_large",
                       params={"max_bytes": limit})
    try:
        image = await run_in_threadpool(inspect, data, ctx.settings.map.plan_max_pixels)
    except PlanImageError as exc:
        raise ApiError(422, "body", str(exc), code=exc.code, params=exc.params) from None
    target = media.site_plan_file(ctx.settings.data_dir, site_id, hashlib.sha256(data).hexdigest(), image.extension)

    def save() -> PlanOut:
        with ctx.pool.connection() as conn, conn.transaction():
            before = site_maps.site_plan(conn, site_id, user.scope)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".part")
            temporary.write_bytes(data)
            os.replace(temporary, target)
            after = site_maps.set_plan(conn, site_id, str(target), image.width, image.height)
            audit.record(conn, user, "site.plan", "site", site_id, before=_plan_state(before),
                         after={**_plan_state(after), "bytes": len(data)}, remote_addr=client_addr(request))
        _forget_old_plan(ctx.settings.data_dir, before["plan_image"], target)
        return PlanOut(site_id=site_id, plan_url=_plan_url(site_id, after), plan_width=image.width,
                       plan_height=image.height)

    return await run_in_threadpool(save)


@router.delete("/api/sites/{site_id}/plan", status_code=204, response_class=Response)
def delete_plan(*, site_id: int, request: Request, user: Editor, conn: Conn) -> Response:
    with conn.transaction():
        before = site_maps.site_plan(conn, site_id, user.scope)
        site_maps.set_plan(conn, site_id, None, None, None)
        audit.record(conn, user, "site.plan", "site", site_id, before=_plan_state(before),
                     after={"plan": None}, remote_addr=client_addr(request))
    _forget_old_plan(context(request).settings.data_dir, before["plan_image"], None)
    return Response(status_code=204)


def _plan_state(row: dict[str, Any]) -> dict[str, Any]:
    """A plan as the audit log keeps it: its file's name and size, never the server's folder."""
    name = os.path.basename(row["plan_image"]) if row.get("plan_image") else None
    return {"plan": name, "plan_width": row.get("plan_width"), "plan_height": row.get("plan_height")}


def _forget_old_plan(data_dir: Any, stored: str | None, kept: Any) -> None:
    old = media.stored_file(data_dir, stored) if stored else None
    if old is not None and old != kept and old.parent == media.plans_dir(data_dir).resolve():
        old.unlink(missing_ok=True)


@router.put("/api/cameras/{camera_id}/placement", response_model=MapCamera)
def place_camera(*, camera_id: int, body: Placement, request: Request, user: Editor, conn: Conn) -> MapCamera:
    """Where the camera stands: on its site's plan (x, y, direction, field of view) and/or on the city map; the
    fields sent are set (null clears), the others kept."""
    fields = body.model_dump(exclude_unset=True)
    if fields.get("position") is not None:
        fields["position"] = {k: v for k, v in fields["position"].items() if v is not None}
    with conn.transaction():
        before = site_maps.placement(conn, camera_id, user.scope)
        after = site_maps.set_placement(conn, camera_id, fields)
        audit.record(conn, user, "camera.place", "camera", camera_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return _one(conn, user, camera_id, after["site_id"])


@router.put("/api/cameras/{camera_id}/neighbours", response_model=MapCamera)
def set_neighbours(*, camera_id: int, body: Neighbours, request: Request, user: Editor, conn: Conn) -> MapCamera:
    """The cameras that see around this one (the alarm detail shows their pictures); stored both ways."""
    with conn.transaction():
        before = site_maps.placement(conn, camera_id, user.scope)
        wanted = sorted(set(body.camera_ids) - {camera_id})
        known = site_maps.cameras_in_scope(conn, wanted, user.scope)
        missing = [c for c in wanted if c not in known]
        if missing:
            raise ApiError(422, "body.camera_ids", f"no camera with id {missing[0]}", code="unknown_camera",
                           params={"camera_id": missing[0]})
        was = site_maps.neighbours(conn, camera_id)
        now = site_maps.set_neighbours(conn, camera_id, wanted)
        audit.record(conn, user, "camera.neighbours", "camera", camera_id,
                     before={"site_id": before["site_id"], "neighbours": was},
                     after={"site_id": before["site_id"], "neighbours": now}, remote_addr=client_addr(request))
    return _one(conn, user, camera_id, before["site_id"])


def _one(conn: Conn, user: Principal, camera_id: int, site_id: int) -> MapCamera:
    return next(MapCamera(**r) for r in site_maps.map_cameras(conn, user.scope, site_id) if r["id"] == camera_id)
