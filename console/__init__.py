"""The web console: a single page served by the Operations API, Vietnamese first, English second.

``mount(app)`` adds the console's routes to the API app (``ops_api.app`` calls it when present):

- ``/`` and ``/console/...``: the page shell (``static/index.html``); a small client-side router picks the page;
- ``/console/static/...``: the ES modules, styles and translation files (no build step);
- ``/console/vendor/...``: front-end libraries installed from npm by ``scripts/setup.sh`` (``npm ci`` in
  ``console/``, pinned by ``console/package-lock.json``); nothing is fetched from a CDN at run time;
- ``/hall/<site id>``: the public hall screen for the waiting hall's TV (no sign-in: its display key rides in the
  URL's fragment and is checked by the API, ``ops_api/routers/hall_screen.py``).

Everything the page shows comes from the API under ``/api``; the server enforces roles there, the console
only hides what a role cannot use.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
# Vendor files the page loads, by the name it asks for (the UMD build: a plain <script>, no bundler).
VENDOR = {
    "chart.umd.min.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js",
    "hls.min.js": NODE_MODULES / "hls.js" / "dist" / "hls.min.js",  # HLS playback through MSE (recordings)
    "leaflet.js": NODE_MODULES / "leaflet" / "dist" / "leaflet.js",  # maps: site plans and the city map
    "leaflet.css": NODE_MODULES / "leaflet" / "dist" / "leaflet.css",
    **{f"images/{name}": NODE_MODULES / "leaflet" / "dist" / "images" / name
       for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")},
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The content security policy and the other security headers come with every answer of the API process
# (ops_api/headers.py): the page loads only its own files, no inline script, no framing.
SHELL_HEADERS = {"cache-control": "no-cache"}
HALL_HEADERS = {"cache-control": "no-cache", "referrer-policy": "no-referrer"}


def vendor_missing() -> list[str]:
    """Vendor files that are not installed (``npm ci`` in console/ has not run)."""
    return [name for name, path in VENDOR.items() if not path.is_file()]


def mount(app: FastAPI) -> None:
    """Serve the console from ``app``: the shell at ``/`` and ``/console/*``, its files and vendor libraries."""
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @app.get("/console/vendor/{name:path}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            raise HTTPException(404, f"vendor file {name} is not installed (run scripts/setup.sh)")
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                            headers={"cache-control": "max-age=86400"})

    @app.get("/hall/{site_id}", include_in_schema=False)
    def hall_screen(site_id: int) -> FileResponse:  # the page only: its data needs the site's display key
        return FileResponse(STATIC / "hall.html", media_type="text/html", headers=HALL_HEADERS)

    @app.get("/console", include_in_schema=False)
    @app.get("/console/{page:path}", include_in_schema=False)
    def shell(page: str = "") -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=SHELL_HEADERS)
