"""FastAPI dependencies: the app's context, a pooled connection, and the signed-in user.

Authentication: ``Authorization: Bearer <API token>`` for scripts, or the ``vigil_session`` cookie for the
console. CSRF: the cookie is SameSite=Lax and HTTP-only, and a cookie-authenticated POST must carry a JSON
body or an ``X-Requested-With`` header, which a cross-site HTML form cannot send (other unsafe methods
cannot be sent cross-site without a CORS preflight, which this API never grants).

Connections: ``Conn`` is returned to the pool when the endpoint function returns, before the response is
sent; streaming endpoints sign the user in with ``require_briefly`` and hold none at all while they stream
(a wall page of previews and an alarms stream per console used to exhaust the pool; docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg_pool import ConnectionPool

from core.settings import Settings
from ops_api.errors import ApiProblem
from ops_api.roles import Principal, Role
from ops_api.security import token_hash
from store import accounts

if TYPE_CHECKING:
    from ops_api.alarm_watch import AlarmWatch
    from ops_api.live import LiveHub
    from ops_api.metrics import ApiMetrics
    from ops_api.outbound import OutboundDispatcher
    from ops_api.pictures import PictureCache
    from ops_api.stream_access import StreamSlots

SESSION_COOKIE = "vigil_session"


@dataclass
class ApiContext:
    """Everything long-lived that one API process owns; created and closed by the app's lifespan."""

    settings: Settings
    database_url: str
    pool: ConnectionPool
    metrics: ApiMetrics
    pictures: PictureCache  # camera pictures shared by every viewer (ops_api/pictures.py)
    hub: LiveHub | None = None
    outbound: OutboundDispatcher | None = None
    alarm_watch: AlarmWatch | None = None
    streams: StreamSlots | None = None  # the open live streams per user (ops_api.stream_access)
    extras: dict[str, Any] = field(default_factory=dict)

    def secure_cookies(self, scheme: str) -> bool:
        """Whether a cookie set in answer to a request of this scheme (after trusted proxies) is Secure."""
        mode = self.settings.api.cookie_secure
        return mode == "always" or (mode == "auto" and scheme in ("https", "wss"))


def context(request: Request) -> ApiContext:
    return request.app.state.vigil


def db(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled autocommit connection with dict rows while the endpoint function runs (``Conn``: scope
    "function", so it is back in the pool before the response body is sent, however slow the client)."""
    with context(request).pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection, Depends(db, scope="function")]

def unauthorized(message: str, code: str) -> ApiProblem:
    return ApiProblem(401, message, code=code, headers={"WWW-Authenticate": 'Bearer realm="vigil"'})


def credentials(request: Request) -> tuple[str, str] | None:
    """("token" | "session", secret) from the request, or None when it carries neither."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorized("the Authorization header must be 'Bearer <token>'", "bad_authorization_header")
        return "token", secret.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    return ("session", cookie) if cookie else None


def authenticate(conn: psycopg.Connection, kind: str, secret: str) -> Principal | None:
    """The user behind a session cookie or API token, or None when it is unknown, expired or revoked."""
    return authenticate_hash(conn, kind, token_hash(secret))


def authenticate_hash(conn: psycopg.Connection, kind: str, digest: str) -> Principal | None:
    """``authenticate`` by the credential's hash (what a ``Principal`` keeps of it)."""
    row = accounts.signed_in_user(conn, kind, digest)
    if row is None or not row["active"]:
        return None
    return Principal(user_id=row["id"], username=row["username"], role=Role(row["role"]),
                     site_ids=None if row["site_ids"] is None else frozenset(row["site_ids"]),
                     must_change_password=row["must_change_password"], language=row["language"],
                     via=kind, credential_hash=digest,
                     province_ids=None if row["province_ids"] is None else frozenset(row["province_ids"]))


def _csrf_ok(request: Request) -> bool:
    if request.method != "POST":
        return True
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or "x-requested-with" in request.headers


def _signed_in(request: Request, conn: psycopg.Connection) -> Principal | None:
    found = credentials(request)
    if found is None:
        return None
    kind, secret = found
    user = authenticate(conn, kind, secret)
    if user is None:
        raise unauthorized("your session has expired or the token is not valid; sign in again", "session_expired")
    if kind == "session" and not _csrf_ok(request):
        raise ApiProblem(403, "a signed-in browser request must send JSON or an X-Requested-With header",
                         code="browser_header_missing")
    return user


def optional_user(request: Request, conn: Conn) -> Principal | None:
    return _signed_in(request, conn)


def _must_be_signed_in(request: Request, user: Principal | None) -> Principal:
    if user is None:
        raise unauthorized("sign in first (session cookie or Authorization: Bearer <token>)", "not_signed_in")
    if user.must_change_password and not request.url.path.startswith("/api/auth/"):
        raise ApiProblem(403, "change your password first (POST /api/auth/password)", code="must_change_password")
    return user


async def current_user(request: Request, user: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    """The signed-in user; 401 without valid credentials; 403 until a required password change is done."""
    return _must_be_signed_in(request, user)


def require(permission: str) -> Callable[..., Principal]:
    """A dependency that gives the signed-in user when the role grants ``permission``, else 403."""

    async def check(user: Annotated[Principal, Depends(current_user)]) -> Principal:  # no I/O: no thread hop
        user.require(permission)
        return user

    check.__name__ = f"require_{permission.replace('.', '_')}"
    return check


def require_briefly(permission: str) -> Callable[..., Principal]:
    """``require`` for streaming endpoints: the user is looked up on a connection that is back in the pool
    before the endpoint runs, so a stream (or its first picture) holds no connection (docs/decisions.md)."""

    def check(request: Request) -> Principal:  # sync: FastAPI runs it on a worker thread for the moment it takes
        with context(request).pool.connection() as conn:
            user = _must_be_signed_in(request, _signed_in(request, conn))
        user.require(permission)
        return user

    check.__name__ = f"require_briefly_{permission.replace('.', '_')}"
    return check


def client_addr(request: Request) -> str | None:
    """The client's address: the connection's peer, or what a trusted proxy says (api.trusted_proxies)."""
    return request.client.host if request.client else None


# Annotated dependencies (endpoints take them as keyword-only parameters; ``Conn`` is above).
CurrentUser = Annotated[Principal, Depends(current_user)]
