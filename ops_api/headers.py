"""Security headers on every answer of the API process: JSON, errors (a 500 included), files, streams and the
console. The console loads only its own files: no inline script, no framing (clickjacking), no foreign
connections; the OpenAPI pages (/docs, /redoc) load FastAPI's Swagger UI and ReDoc from their CDN.
A route that sets one of these headers itself keeps its own value.

Two narrow additions for the map and the recordings: pictures from the city map's tile server (its origin
only, from ``map.tile_url``: the operations center's own server), and video and workers from ``blob:`` (hls.js plays
HLS through Media Source Extensions, whose object URLs are blob: URLs, and transmuxes in a blob: worker).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# hls.js plays recordings through Media Source Extensions: the <video> source is a blob: URL it makes, and it
# transmuxes MPEG-TS in a worker it starts from a blob: (media-src and worker-src).
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:;"
       " style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none';"
       " form-action 'self'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
            " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com;"
            " font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com"
            " https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none';"
            " base-uri 'none'; form-action 'self'")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
}


def content_policy(tile_origin: str | None) -> str:
    """The console's policy, with the city map's tile server (``scheme://host[:port]``) allowed for pictures."""
    if not tile_origin:
        return CSP
    return CSP.replace("img-src 'self' data: blob:;", f"img-src 'self' data: blob: {tile_origin};")


class SecurityHeaders:
    """ASGI middleware adding ``COMMON`` and the content security policy to every HTTP answer."""

    def __init__(self, app: ASGIApp, policy: str | None = None) -> None:
        self.app = app
        self.policy = policy or CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope.get("path") in DOCS_PATHS else self.policy

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
