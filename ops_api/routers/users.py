"""Users (admin only): list, create, change role/sites/state, reset a password; and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from ops_api import audit
from ops_api.accounts import AccountError, create_user, get_user, list_users, set_password
from ops_api.deps import Conn, client_addr, require
from ops_api.errors import ApiError, ApiProblem
from ops_api.params import Moment
from ops_api.roles import Principal, Role
from ops_api.schemas import Page, StrictModel, UserOut

router = APIRouter(tags=["users"])
Admin = Annotated[Principal, Depends(require("users.admin"))]


class UserCreate(StrictModel):
    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$", examples=["lan.nguyen"])
    password: str = Field(min_length=1, max_length=200, examples=["a-long-first-passphrase"])
    role: Role = Field(examples=["operator"])
    site_ids: list[int] | None = Field(None, max_length=1000, examples=[[1, 2]])
    display_name: str | None = Field(None, max_length=200, examples=["Nguyễn Thị Lan"])
    language: Literal["vi", "en"] = "vi"
    must_change_password: bool = True


class UserUpdate(StrictModel):
    role: Role | None = None
    site_ids: list[int] | None = Field(None, max_length=1000)
    all_sites: bool = Field(False, description="True: remove the site limit (site_ids is then ignored).")
    display_name: str | None = Field(None, max_length=200)
    language: Literal["vi", "en"] | None = None
    active: bool | None = None


class PasswordReset(StrictModel):
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


class AuditPage(Page):
    items: list[AuditEntry]


def _account_error(exc: AccountError, field: str | None = None) -> ApiError:
    status = 409 if exc.field == "username" else 422
    return ApiError(status, field or f"body.{exc.field}", str(exc).split(": ", 1)[1], code=exc.code, params=exc.params)


def _no_user() -> ApiProblem:
    return ApiProblem(404, "user not found", code="user_not_found")


@router.get("/api/users", response_model=list[UserOut])
def users(*, _: Admin, conn: Conn) -> list[UserOut]:
    return [UserOut.of(row) for row in list_users(conn)]


@router.post("/api/users", response_model=UserOut, status_code=201)
def add_user(*, body: UserCreate, request: Request, user: Admin,
             conn: Conn) -> UserOut:
    try:
        row = create_user(conn, body.username, body.password, body.role, site_ids=body.site_ids,
                          display_name=body.display_name, language=body.language,
                          must_change_password=body.must_change_password, actor=user,
                          remote_addr=client_addr(request))
    except AccountError as exc:
        raise _account_error(exc) from None
    return UserOut.of(row)


@router.get("/api/users/{user_id}", response_model=UserOut)
def one_user(*, user_id: int, _: Admin, conn: Conn) -> UserOut:
    row = get_user(conn, user_id=user_id)
    if row is None:
        raise _no_user()
    return UserOut.of(row)


@router.patch("/api/users/{user_id}", response_model=UserOut)
def update_user(*, user_id: int, body: UserUpdate, request: Request, user: Admin,
                conn: Conn) -> UserOut:
    """Change role, sites, name, language or active state; deactivating ends the user's sessions."""
    with conn.transaction():
        before = get_user(conn, user_id=user_id)
        if before is None:
            raise _no_user()
        if user_id == user.user_id and (body.active is False or (body.role and body.role != Role.ADMIN)):
            raise ApiError(422, "body.role" if body.role else "body.active", "you cannot demote or disable yourself",
                           code="cannot_demote_self")
        changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"all_sites"})
        if body.all_sites:
            changes["site_ids"] = None
        if changes.get("site_ids"):
            known = {r["id"] for r in conn.execute("SELECT id FROM sites WHERE id = ANY(%s)", (changes["site_ids"],))}
            missing = sorted(set(changes["site_ids"]) - known)
            if missing:
                raise ApiError(422, "body.site_ids", f"no site with id {missing[0]}", code="unknown_site",
                               params={"site_id": missing[0]})
        if changes:
            sets = ", ".join(f"{k} = %({k})s" for k in changes)
            conn.execute(f"UPDATE users SET {sets}, updated_at = now() WHERE id = %(id)s",
                         {**{k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()}, "id": user_id})
        if body.active is False:
            conn.execute("DELETE FROM api_sessions WHERE user_id = %s", (user_id,))
        after = get_user(conn, user_id=user_id)
        audit.record(conn, user, "user.update", "user", user_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return UserOut.of(after)


@router.post("/api/users/{user_id}/password", status_code=204, response_class=Response)
def reset_password(*, user_id: int, body: PasswordReset, request: Request, user: Admin,
                   conn: Conn) -> Response:
    """Set a new password for a user (and, by default, make them change it at the next sign-in)."""
    if get_user(conn, user_id=user_id) is None:
        raise _no_user()
    try:
        set_password(conn, user_id, body.password, must_change=body.must_change_password, actor=user,
                     remote_addr=client_addr(request))
    except AccountError as exc:
        raise _account_error(exc, "body.password") from None
    return Response(status_code=204)


@router.get("/api/audit", response_model=AuditPage, tags=["audit"])
def audit_log(*, action: str | None = Query(None, max_length=100, examples=["event.acknowledge"]),
              object_type: str | None = Query(None, max_length=100),
              object_id: str | None = Query(None, max_length=100),
              user_id: int | None = None, since: Moment | None = None, until: Moment | None = None,
              limit: int = Query(100, ge=1, le=1000), cursor: int | None = Query(None, ge=1),
              _: Annotated[Principal, Depends(require("audit.read"))], conn: Conn) -> AuditPage:
    """Newest first; ``cursor`` is the id to continue below."""
    clauses, params = ["true"], []
    for sql, value in (("action = %s", action), ("object_type = %s", object_type), ("object_id = %s", object_id),
                       ("user_id = %s", user_id), ("time >= %s", since), ("time < %s", until), ("id < %s", cursor)):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    rows = conn.execute(f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
                        [*params, limit + 1]).fetchall()
    following = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return AuditPage(items=[AuditEntry(**r) for r in rows[:limit]], next_cursor=following)
