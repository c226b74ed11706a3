"""Camera pictures in memory, shared by every viewer in one API process (snapshot and MJPEG preview).

Where a camera's picture comes from:
- the vision worker's live picture (``core.media.live_picture_file``, boxes and zones drawn, rewritten about
  twice a second) while it is at most ``FRESH_S`` old: read at most once per ``READ_S`` per camera, however
  many viewers ask, and the same bytes go to all of them;
- otherwise one frame decoded from the camera's stream here, zones drawn. Single flight: one decode per
  camera at a time, which every viewer of that camera waits for; at most ``DECODES`` at a time in the
  process, on threads of their own (never the event loop, never the request threadpool); the result, a
  picture or the error, is reused for ``REUSE_S`` after it is made.

Why: a wall page opens a preview per camera and every console keeps them open; per-viewer reads, decodes
and database connections let a dozen operators take the API down (issue 13). No stream holds a pooled
connection: a decode reads the camera's address, password and zones on a short one, per camera, not per
viewer. Created and closed by the app's lifespan (``ApiContext.pictures``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from core import media
from core.settings import Settings
from ops_api.credentials import decrypt_password
from ops_api.errors import ApiProblem
from ops_api.metrics import ApiMetrics
from store.registry_rows import camera_stream, list_zones

log = logging.getLogger("vigil.api.pictures")
FRESH_S = 10.0  # a worker's picture older than this is stale (the worker stopped or lost the camera)
READ_S = 0.2  # the worker's picture is read at most this often per camera (the preview's top rate is 5/s)
REUSE_S = 1.0  # a decoded picture (or the camera's failure to give one) serves every viewer this long
DECODES = 4  # decodes of camera streams at once in one API process
DECODE_TIMEOUT_S = 10.0
IDLE_S = 60.0  # a camera nobody asked about for this long is forgotten (its bytes freed)


@dataclass(frozen=True)
class Picture:
    plain: bytes
    drawn: bytes  # zones drawn (the worker's picture has them already)
    made: float  # time.monotonic() when it was read or decoded
    ttl: float
    problem: tuple[int, str, str, dict[str, Any]] | None = None  # status, message, code, params

    def fresh(self, now: float) -> bool:
        return now - self.made < self.ttl


@dataclass(eq=False)
class _Camera:
    picture: Picture | None = None
    task: asyncio.Task[None] | None = None
    used: float = 0.0


class PictureCache:
    """``await cache.picture(camera_id, zones=True)``: the camera's current JPEG, or ``ApiProblem`` (409, 404,
    502) when it has none. The caller has checked that the user may see the camera."""

    def __init__(self, settings: Settings, pool: ConnectionPool, metrics: ApiMetrics, *,
                 decodes: int = DECODES) -> None:
        self.settings = settings
        self.pool = pool
        self.metrics = metrics
        self._cameras: dict[int, _Camera] = {}
        self._swept = time.monotonic()
        # Reads have threads of their own so a picture file is never queued behind a 10 s camera timeout.
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="vigil-picture-read")
        self._decoders = ThreadPoolExecutor(decodes, thread_name_prefix="vigil-picture-decode")

    async def picture(self, camera_id: int, zones: bool = True) -> bytes:
        now = time.monotonic()
        self._sweep(now)
        camera = self._cameras.setdefault(camera_id, _Camera())
        camera.used = now
        if camera.picture is None or not camera.picture.fresh(now):
            if camera.task is None or camera.task.done():
                camera.task = asyncio.get_running_loop().create_task(self._refresh(camera_id, camera))
            await asyncio.shield(camera.task)  # a viewer that leaves does not cancel the others' refresh
        picture = camera.picture
        assert picture is not None
        if picture.problem is not None:
            status, message, code, params = picture.problem
            raise ApiProblem(status, message, code=code, params=params)
        return picture.drawn if zones else picture.plain

    def forget(self, camera_id: int) -> None:
        """Drop what is kept of a camera (its address, password or zones changed): the next viewer gets a
        picture made afresh, not the old address's failure. Safe from any thread (one dict operation)."""
        self._cameras.pop(camera_id, None)

    def close(self) -> None:
        for camera in self._cameras.values():
            if camera.task is not None:
                camera.task.cancel()
        self._cameras.clear()
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._decoders.shutdown(wait=False, cancel_futures=True)

    # -- refreshing (one task per camera at a time) ----------------------------------------------------
    async def _refresh(self, camera_id: int, camera: _Camera) -> None:
        loop = asyncio.get_running_loop()
        try:
            live = await loop.run_in_executor(self._readers, self._read_live, camera_id)
            if live is not None:
                camera.picture = Picture(live, live, time.monotonic(), READ_S)
                return
            self.metrics.picture_decodes.inc()
            camera.picture = await loop.run_in_executor(self._decoders, self._decode, camera_id)
        except Exception:  # every waiter gets an answer, never a hung preview
            log.exception("camera %d: the picture could not be made", camera_id)
            camera.picture = Picture(b"", b"", time.monotonic(), REUSE_S,
                                     (502, "the camera gave no picture", "camera_no_picture", {"detail": "error"}))

    def _read_live(self, camera_id: int) -> bytes | None:
        path = media.live_picture_file(self.settings.data_dir, camera_id)
        try:
            if time.time() - path.stat().st_mtime <= FRESH_S:
                return path.read_bytes()  # the worker replaces it atomically: never half a file
        except OSError:
            pass
        return None

    def _decode(self, camera_id: int) -> Picture:
        from cameras.onboarding import StreamUnreadable, grab_jpeg

        with self.pool.connection() as conn:  # the connection goes back before the camera is asked
            row = camera_stream(conn, camera_id)
            if row is None:
                return self._failed(404, "camera not found", "camera_not_found", {})
            password = decrypt_password(self.settings, row["password_enc"])
            zones = _zones(list_zones(conn, camera_id))
        uri = row["sub_uri"] or row["main_uri"]
        if not uri:
            return self._failed(409, "the camera has no stream to take a picture from", "camera_no_stream", {})
        try:
            jpeg = grab_jpeg(uri, DECODE_TIMEOUT_S, row["username"], password)
        except StreamUnreadable as exc:
            return self._failed(502, f"the camera gave no picture: {exc}", "camera_no_picture", {"detail": str(exc)})
        return Picture(jpeg, _draw(jpeg, zones), time.monotonic(), REUSE_S)

    @staticmethod
    def _failed(status: int, message: str, code: str, params: dict[str, Any]) -> Picture:
        return Picture(b"", b"", time.monotonic(), REUSE_S, (status, message, code, params))

    def _sweep(self, now: float) -> None:
        if now - self._swept < IDLE_S / 6:
            return
        self._swept = now
        for camera_id, camera in list(self._cameras.items()):
            if now - camera.used > IDLE_S and (camera.task is None or camera.task.done()):
                del self._cameras[camera_id]


def _zones(rows: list[dict[str, Any]]) -> list[Any]:
    from cameras.geometry import GeometryError, make_zone

    zones = []
    for row in rows:
        try:
            zones.append(make_zone(row["name"], row["kind"], row["geometry"], row["direction"]))
        except GeometryError:
            continue  # a zone saved before a stricter check: skip it rather than lose the picture
    return zones


def _draw(jpeg: bytes, zones: list[Any]) -> bytes:
    import cv2
    import numpy as np

    from cameras.draw import draw
    from core.types import Detections

    if not zones:
        return jpeg
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return jpeg
    ok, out = cv2.imencode(".jpg", draw(image, Detections.empty(), zones), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out.tobytes() if ok else jpeg
