"""Sign-in and sign-out (console cookie), password change, and API tokens for scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ops_api import audit
from ops_api.accounts import (
    AccountError,
    Limits,
    SignInRefused,
    check_current_password,
    check_sign_in,
    get_user,
    set_password,
)
from ops_api.deps import SESSION_COOKIE, Conn, CurrentUser, client_addr, context
from ops_api.errors import ApiError, ApiProblem
from ops_api.schemas import StrictIn, TokenOut, UserOut
from ops_api.security import SESSION_PREFIX, TOKEN_PREFIX, new_token, token_hash
from store import accounts as store

router = APIRouter(prefix="/api/auth", tags=["auth"])


class SignIn(StrictIn):
    username: str = Field(min_length=1, max_length=64, examples=["lan.nguyen"])
    password: str = Field(min_length=1, max_length=200, examples=["correct horse battery"])


class PasswordChange(StrictIn):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200, examples=["a-long-new-passphrase"])


class TokenCreate(StrictIn):
    name: str = Field(min_length=1, max_length=100, examples=["nightly export script"])
    expires_days: int | None = Field(None, ge=1, le=3650, description="Null: until revoked.")


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once: send it as 'Authorization: Bearer <token>'.")


def _limits(request: Request) -> Limits:
    api = context(request).settings.api
    return Limits(api.login_max_failures, api.login_max_failures_per_addr, api.login_lockout_s)


def _refused(refused: SignInRefused) -> ApiProblem:
    if refused.status == 429:
        return ApiProblem(429, str(refused), code="too_many_sign_ins", params={"retry_after_s": refused.retry_after_s},
                          headers={"Retry-After": str(refused.retry_after_s)})
    return ApiProblem(refused.status, str(refused), code="wrong_credentials")


@router.post("/login", response_model=UserOut, responses={401: {}, 429: {}})
def login(*, body: SignIn, request: Request, response: Response, conn: Conn) -> UserOut:
    """Check the password and set the HTTP-only session cookie. Repeated failures for one name from one address,
    or from one address for any names, lock them out for a while (429 with Retry-After), whether the name
    exists or not."""
    ctx = context(request)
    api = ctx.settings.api
    try:
        user = check_sign_in(conn, body.username, body.password, limits=_limits(request),
                             remote_addr=client_addr(request))
    except SignInRefused as refused:
        ctx.metrics.login_failures.inc()
        raise _refused(refused) from None
    secret = new_token(SESSION_PREFIX)
    expires = datetime.now(UTC) + timedelta(hours=api.session_hours)
    store.add_session(conn, token_hash(secret), user["id"], expires, client_addr(request),
                      request.headers.get("user-agent", "")[:300])
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(api.session_hours * 3600), httponly=True,
                        samesite="lax", secure=ctx.secure_cookies(request.url.scheme), path="/")
    return UserOut.of(user)


@router.post("/logout", status_code=204, response_class=Response)
def logout(*, request: Request, user: CurrentUser,
           conn: Conn) -> Response:
    """End this session (the cookie stops working everywhere at once)."""
    if user.via == "session":
        store.end_session(conn, user.credential_hash)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(*, user: CurrentUser, conn: Conn) -> UserOut:
    return UserOut.of(get_user(conn, user_id=user.user_id))


class Preferences(StrictIn):
    language: Literal["vi", "en"] = Field(description="The console's language for this user.", examples=["en"])


@router.patch("/me", response_model=UserOut)
def update_me(*, body: Preferences, request: Request, user: CurrentUser, conn: Conn) -> UserOut:
    """Change one's own preferences (the console's language); an audit row records it."""
    with conn.transaction():
        before = {"language": get_user(conn, user_id=user.user_id)["language"]}
        store.update_user(conn, user.user_id, {"language": body.language})
        audit.record(conn, user, "user.preferences", "user", user.user_id, before=before,
                     after={"language": body.language}, remote_addr=client_addr(request))
    return UserOut.of(get_user(conn, user_id=user.user_id))


@router.post("/password", status_code=204, response_class=Response, responses={422: {}, 429: {}})
def change_password(*, body: PasswordChange, request: Request, user: CurrentUser,
                    conn: Conn) -> Response:
    """Change one's own password; the user's other sessions end and its API tokens are revoked. A wrong
    current password counts towards the sign-in lock-out."""
    try:
        right = check_current_password(conn, user, body.current_password, limits=_limits(request),
                                       remote_addr=client_addr(request))
    except SignInRefused as refused:
        raise _refused(refused) from None
    if not right:
        context(request).metrics.login_failures.inc()
        raise ApiError(422, "body.current_password", "is not your current password", code="not_your_password")
    try:
        set_password(conn, user.user_id, body.new_password, actor=user, remote_addr=client_addr(request),
                     keep_session=user.credential_hash if user.via == "session" else None)
    except AccountError as exc:
        raise ApiError(422, f"body.{exc.field}", str(exc).split(": ", 1)[1], code=exc.code, params=exc.params) from None
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(*, user: CurrentUser, conn: Conn) -> list[TokenOut]:
    return [TokenOut(**row) for row in store.user_tokens(conn, user.user_id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(*, body: TokenCreate, request: Request, user: CurrentUser,
                 conn: Conn) -> TokenCreated:
    """A bearer token acting as the signed-in user (same role and sites); the secret is shown only here."""
    secret = new_token(TOKEN_PREFIX)
    expires = datetime.now(UTC) + timedelta(days=body.expires_days) if body.expires_days else None
    with conn.transaction():
        row = store.add_token(conn, user.user_id, body.name, token_hash(secret), secret[:10], expires)
        audit.record(conn, user, "token.create", "api_token", row["id"], after=row, remote_addr=client_addr(request))
    return TokenCreated(**row, token=secret)


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(*, token_id: int, request: Request, user: CurrentUser,
                 conn: Conn) -> Response:
    with conn.transaction():
        row = store.revoke_token(conn, user.user_id, token_id)
        if row is None:
            raise ApiProblem(404, "token not found", code="token_not_found")
        audit.record(conn, user, "token.revoke", "api_token", token_id, before=row, remote_addr=client_addr(request))
    return Response(status_code=204)
