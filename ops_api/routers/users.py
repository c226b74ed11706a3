"""Users (admin only): list, create, change role/sites/state, reset a password, see and revoke their API
tokens; and the audit log.

A site-scoped admin manages only the users whose sites are all its own (others do not exist for it: 404),
may give only its own sites (never every site: 403), and reads only the audit rows of its own sites.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from ops_api import audit
from ops_api.accounts import (
    SUPERVISOR_ROLES,
    AccountError,
    create_user,
    deactivate,
    get_user,
    list_users,
    set_password,
)
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError, ApiProblem
from ops_api.params import Moment
from ops_api.roles import Principal, Role
from ops_api.schemas import Page, StrictIn, StrictModel, TokenOut, UserOut
from store import accounts as store
from store import audit_log as audit_rows

router = APIRouter(tags=["users"])
Admin = Annotated[Principal, Depends(require("users.admin"))]


class UserCreate(StrictIn):
    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$", examples=["lan.nguyen"])
    password: str = Field(min_length=1, max_length=200, examples=["a-long-first-passphrase"])
    role: Role = Field(examples=["operator"])
    site_ids: list[int] | None = Field(None, max_length=1000, examples=[[1, 2]])
    province_ids: list[int] | None = Field(None, max_length=100, description="Whole provinces: every center of "
                                           "each, new ones included (site_ids then add single sites).")
    display_name: str | None = Field(None, max_length=200, examples=["Nguyễn Thị Lan"])
    language: Literal["vi", "en"] = "vi"
    must_change_password: bool = True
    supervisor: bool = Field(False, description="Operators and admins: told when an alarm of their sites is "
                                                "escalated.")


class UserUpdate(StrictIn):
    role: Role | None = None
    site_ids: list[int] | None = Field(None, max_length=1000)
    province_ids: list[int] | None = Field(None, max_length=100, description="Whole provinces; [] or null: none.")
    all_sites: bool = Field(False, description="True: remove the site limit (site_ids and province_ids are then "
                                               "ignored).")
    display_name: str | None = Field(None, max_length=200)
    language: Literal["vi", "en"] | None = None
    active: bool | None = None
    supervisor: bool | None = None


class PasswordReset(StrictIn):
    password: str = Field(min_length=1, max_length=200)
    must_change_password: bool = True


class AuditEntry(StrictModel):
    id: int
    time: datetime
    user_id: int | None
    username: str | None
    action: str
    object_type: str | None
    object_id: str | None
    before: Any = None
    after: Any = None
    remote_addr: str | None
    site_ids: list[int] | None = Field(None, description="The sites the change concerns; null: every site or none.")


class AuditPage(Page):
    items: list[AuditEntry]


def _account_error(exc: AccountError, field: str | None = None) -> ApiError:
    status = 409 if exc.field == "username" else 422
    return ApiError(status, field or f"body.{exc.field}", str(exc).split(": ", 1)[1], code=exc.code, params=exc.params)


def _no_user() -> ApiProblem:
    return ApiProblem(404, "user not found", code="user_not_found")


def _visible_user(conn: Conn, user_id: int, admin: Principal) -> dict[str, Any]:
    """The user, or 404 when there is none within the admin's sites."""
    row = get_user(conn, user_id=user_id, scope=admin.scope, provinces=admin.provinces)
    if row is None:
        raise _no_user()
    return row


@router.get("/api/users", response_model=list[UserOut])
def users(*, user: Admin, conn: Conn) -> list[UserOut]:
    return [UserOut.of(row) for row in list_users(conn, user.scope, user.provinces)]


@router.post("/api/users", response_model=UserOut, status_code=201, responses={403: {}})
def add_user(*, body: UserCreate, request: Request, user: Admin,
             conn: Conn) -> UserOut:
    """Create a user; a site-scoped admin must give it some of its own sites."""
    if body.province_ids:
        user.check_province_grant(body.province_ids, "body.province_ids")
        user.check_site_filter(body.site_ids)
    else:
        user.check_grant(body.site_ids, "body.site_ids")
    try:
        row = create_user(conn, body.username, body.password, body.role, site_ids=body.site_ids,
                          province_ids=body.province_ids or None,
                          display_name=body.display_name, language=body.language,
                          must_change_password=body.must_change_password, actor=user,
                          remote_addr=client_addr(request), supervisor=body.supervisor)
    except AccountError as exc:
        raise _account_error(exc) from None
    return UserOut.of(row)


@router.get("/api/users/{user_id}", response_model=UserOut)
def one_user(*, user_id: int, user: Admin, conn: Conn) -> UserOut:
    return UserOut.of(_visible_user(conn, user_id, user))


@router.patch("/api/users/{user_id}", response_model=UserOut, responses={403: {}})
def update_user(*, user_id: int, body: UserUpdate, request: Request, user: Admin,
                conn: Conn) -> UserOut:
    """Change role, sites, name, language or active state; deactivating ends the user's sessions and revokes
    its API tokens."""
    with conn.transaction():
        before = _visible_user(conn, user_id, user)
        if user_id == user.user_id and (body.active is False or (body.role and body.role != Role.ADMIN)):
            raise ApiError(422, "body.role" if body.role else "body.active", "you cannot demote or disable yourself",
                           code="cannot_demote_self")
        changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"all_sites"})
        if body.all_sites:
            changes["site_ids"] = changes["province_ids"] = None
        if changes.get("province_ids") == []:
            changes["province_ids"] = None
        if "province_ids" in changes:
            user.check_province_grant(changes["province_ids"], "body.province_ids")
        provinces = changes.get("province_ids", before["province_ids"])
        if "site_ids" in changes:
            if provinces:  # the provinces are the grant: single sites beside them stay within one's own
                user.check_site_filter(changes["site_ids"])
                changes["site_ids"] = changes["site_ids"] or []
            else:
                user.check_grant(changes["site_ids"], "body.site_ids")
        elif provinces and before["site_ids"] is None:
            changes["site_ids"] = []  # a user of every site given provinces is limited to them
        missing = store.unknown_sites(conn, changes.get("site_ids") or ())
        if missing:
            raise ApiError(422, "body.site_ids", f"no site with id {missing[0]}", code="unknown_site",
                           params={"site_id": missing[0]})
        missing = store.unknown_provinces(conn, changes.get("province_ids") or ())
        if missing:
            raise ApiError(422, "body.province_ids", f"no province with id {missing[0]}", code="unknown_province",
                           params={"province_id": missing[0]})
        if changes.get("supervisor") is None:
            changes.pop("supervisor", None)
        role = Role(changes.get("role") or before["role"])
        if changes.get("supervisor", before["supervisor"]) and role not in SUPERVISOR_ROLES:
            raise ApiError(422, "body.supervisor", "only operators and admins can be supervisors",
                           code="supervisor_needs_operator", params={"role": role.value})
        store.update_user(conn, user_id, {k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
        if body.active is False:
            deactivate(conn, user_id, actor=user, remote_addr=client_addr(request))
        after = get_user(conn, user_id=user_id)
        audit.record(conn, user, "user.update", "user", user_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return UserOut.of(after)


@router.post("/api/users/{user_id}/password", status_code=204, response_class=Response)
def reset_password(*, user_id: int, body: PasswordReset, request: Request, user: Admin,
                   conn: Conn) -> Response:
    """Set a new password for a user (and, by default, make them change it at the next sign-in); the user's
    sessions end and its API tokens are revoked."""
    _visible_user(conn, user_id, user)
    try:
        set_password(conn, user_id, body.password, must_change=body.must_change_password, actor=user,
                     remote_addr=client_addr(request))
    except AccountError as exc:
        raise _account_error(exc, "body.password") from None
    return Response(status_code=204)


@router.get("/api/users/{user_id}/tokens", response_model=list[TokenOut])
def user_tokens(*, user_id: int, user: Admin, conn: Conn) -> list[TokenOut]:
    """The user's API tokens, revoked and expired ones included (never their secrets)."""
    _visible_user(conn, user_id, user)
    return [TokenOut(**row) for row in store.user_tokens(conn, user_id)]


@router.delete("/api/users/{user_id}/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_user_token(*, user_id: int, token_id: int, request: Request, user: Admin, conn: Conn) -> Response:
    """Revoke one of the user's API tokens (404 when it has no such live token)."""
    with conn.transaction():
        _visible_user(conn, user_id, user)
        row = store.revoke_token(conn, user_id, token_id)
        if row is None:
            raise ApiProblem(404, "token not found", code="token_not_found")
        audit.record(conn, user, "token.revoke", "api_token", token_id, before=row, after={"reason": "admin"},
                     remote_addr=client_addr(request))
    return Response(status_code=204)


@router.get("/api/audit", response_model=AuditPage, tags=["audit"])
def audit_log(*, action: str | None = Query(None, max_length=100, examples=["event.acknowledge"]),
              object_type: str | None = Query(None, max_length=100),
              object_id: str | None = Query(None, max_length=100),
              user_id: int | None = None, since: Moment | None = None, until: Moment | None = None,
              limit: int = Query(100, ge=1, le=1000), cursor: int | None = Query(None, ge=1),
              user: Annotated[Principal, Depends(require("audit.read"))], conn: Conn) -> AuditPage:
    """Newest first; ``cursor`` is the id to continue below. A site-scoped reader sees only the rows whose
    sites are all its own."""
    rows = audit_rows.entries(conn, scope=user.scope, limit=limit + 1, action=action, object_type=object_type,
                              object_id=object_id, user_id=user_id, since=since, until=until, cursor=cursor)
    following = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return AuditPage(items=[AuditEntry(**r) for r in rows[:limit]], next_cursor=following)
