"""The pictures of many cameras on one connection: what the operations wall shows.

A browser opens at most six HTTP/1.1 connections to one server, and an MJPEG preview holds one for its whole
life: a wall of six tiles (the alarms page's live stream besides) left the console no connection for anything
else, so every other request of that browser waited minutes. The wall asks for its cameras' pictures here
instead, on one response: a frame per camera whose picture changed, each frame a header line
``<camera id> <status> <length>\\n`` followed by ``length`` bytes of JPEG (status 200), or by nothing when the
camera has no picture now (its status: 409 no picture yet, 502 the camera gave none; the console says so in the
tile). Served from memory like the previews (``ops_api.pictures``): no database connection, no thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ops_api.deps import context
from ops_api.errors import ApiError
from ops_api.routers.onboarding import StreamReader
from ops_api.stream_access import StreamAccess
from store import registry_rows

router = APIRouter(prefix="/api/pictures", tags=["cameras"])
MAX_CAMERAS = 64
MEDIA_TYPE = "application/vnd.vigil.pictures"


@router.get("/stream", response_class=StreamingResponse, responses={200: {"content": {MEDIA_TYPE: {}}}})
async def picture_stream(
        *, request: Request, user: StreamReader,
        cameras: Annotated[list[int], Query(min_length=1, max_length=MAX_CAMERAS,
                                            description="The cameras (repeat the parameter), each visible to the "
                                                        "user; a camera outside the user's sites is a 404.")],
        fps: Annotated[float, Query(gt=0, le=5, description="Pictures per second per camera, at most.")] = 1.0,
        seconds: Annotated[int, Query(ge=1, le=600, description="The stream ends after this long.")] = 120,
) -> StreamingResponse:
    """The current picture of each camera, then each new one, for ``seconds`` (the format is in the module's
    documentation: ``<camera id> <status> <length>\\n`` + JPEG per frame)."""
    ctx = context(request)
    wanted = list(dict.fromkeys(cameras))

    def check() -> None:
        with ctx.pool.connection() as conn:
            visible = {row["id"] for row in registry_rows.list_cameras(conn, user.scope)}
        for camera_id in wanted:
            if camera_id not in visible:
                raise ApiError(404, "query.cameras", f"no camera with id {camera_id}", code="camera_not_found")

    await run_in_threadpool(check)
    pictures, metrics, period = ctx.pictures, ctx.metrics, 1.0 / fps
    access = StreamAccess(ctx, user, "cameras.read")  # ends the stream once the user may no longer watch

    async def one(camera_id: int) -> tuple[int, bytes | None]:
        try:
            return 200, await pictures.picture(camera_id)
        except HTTPException as problem:
            return problem.status_code, None

    async def frames() -> AsyncIterator[bytes]:
        metrics.previews.inc()
        sent: dict[int, tuple[int, bytes | None]] = {}
        try:
            end = time.monotonic() + seconds
            while True:
                found = await asyncio.gather(*(one(camera_id) for camera_id in wanted))
                chunk = bytearray()
                for camera_id, (status, jpeg) in zip(wanted, found, strict=True):
                    before = sent.get(camera_id)
                    if before is not None and before[0] == status and before[1] == jpeg:
                        continue  # the same picture: nothing new since the last tick
                    sent[camera_id] = (status, jpeg)
                    chunk += f"{camera_id} {status} {len(jpeg or b'')}\n".encode() + (jpeg or b"")
                if chunk:
                    yield bytes(chunk)
                now = time.monotonic()
                if now + period >= end or not await access.allowed():
                    return
                await asyncio.sleep(period - (now % period))  # every wall ticks at the same instants
        finally:
            metrics.previews.dec()
            access.close()

    return StreamingResponse(frames(), media_type=MEDIA_TYPE,
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
