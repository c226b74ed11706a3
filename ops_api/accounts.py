"""User accounts shared by the API and the CLI: create, change password, list, the first admin, sign-in.

Every change a person makes is written to the audit log by the caller's principal (the CLI writes as
``cli:<login>``), never with the password itself.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Any

import psycopg

from ops_api import audit
from ops_api.roles import Principal, Role
from ops_api.security import hash_password, needs_rehash, one_time_password, password_problem, verify_password
from store import accounts as store
from store.accounts import Attempt

# Supervisors are told when an alarm of their sites is escalated: people who work alarms (docs/security.md).
SUPERVISOR_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


class AccountError(ValueError):
    """A user cannot be created or changed; ``field`` names the input at fault, ``code`` and ``params`` say
    why for the API's clients (``ops_api.error_codes``)."""

    def __init__(self, field: str, message: str, code: str = "invalid_value", params: dict[str, Any] | None = None,
                 ) -> None:
        self.field = field
        self.code = code
        self.params = params or {}
        super().__init__(f"{field}: {message}")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def get_user(conn: psycopg.Connection, user_id: int | None = None, username: str | None = None,
             scope: list[int] | None = None, provinces: list[int] | None = None) -> dict | None:
    """The user, or None when there is none within ``scope`` and ``provinces`` (an admin's; ``store.accounts``)."""
    return store.find_user(conn, user_id=user_id, username=username, scope=scope, provinces=provinces)


def list_users(conn: psycopg.Connection, scope: list[int] | None = None,
               provinces: list[int] | None = None) -> list[dict[str, Any]]:
    return store.list_users(conn, scope, provinces)


def create_user(conn: psycopg.Connection, username: str, password: str, role: Role | str, *,
                site_ids: list[int] | None = None, province_ids: list[int] | None = None,
                display_name: str | None = None, language: str = "vi",
                must_change_password: bool = False, actor: Principal | None = None, actor_name: str | None = None,
                remote_addr: str | None = None, supervisor: bool = False) -> dict[str, Any]:
    """Insert a user with an argon2id hash; raise AccountError for a taken name, a weak password, or a supervisor
    whose role does not work alarms."""
    problem = password_problem(password, username)
    if problem:
        raise AccountError("password", problem.message, problem.code, problem.params)
    try:
        role = Role(role)
    except ValueError:
        raise AccountError("role", f"unknown role {role!r} (one of: {', '.join(r.value for r in Role)})",
                           "unknown_role", {"role": str(role)}) from None
    if supervisor and role not in SUPERVISOR_ROLES:
        raise AccountError("supervisor", "only operators and admins can be supervisors", "supervisor_needs_operator",
                           {"role": role.value})
    with conn.transaction():
        if get_user(conn, username=username):
            raise AccountError("username", f"user {username!r} already exists", "username_taken",
                               {"username": username})
        missing = store.unknown_sites(conn, site_ids or ())
        if missing:
            raise AccountError("site_ids", f"no site with id {missing[0]}", "unknown_site", {"site_id": missing[0]})
        missing = store.unknown_provinces(conn, province_ids or ())
        if missing:
            raise AccountError("province_ids", f"no province with id {missing[0]}", "unknown_province",
                               {"province_id": missing[0]})
        row = store.insert_user(conn, username, hash_password(password), role.value, site_ids, display_name,
                                language, must_change_password, province_ids, supervisor)
        audit.record(conn, actor, "user.create", "user", row["id"], after=row, remote_addr=remote_addr,
                     username=actor_name)
    return row


def set_password(conn: psycopg.Connection, user_id: int, password: str, *, must_change: bool = False,
                 actor: Principal | None = None, actor_name: str | None = None, remote_addr: str | None = None,
                 keep_session: str | None = None) -> None:
    """Replace a password, lift any lock-out, revoke the user's API tokens and end its sessions (but
    ``keep_session``, the one changing its own password)."""
    user = get_user(conn, user_id=user_id)
    if user is None:
        raise AccountError("user", "no such user", "user_not_found")
    problem = password_problem(password, user["username"])
    if problem:
        raise AccountError("new_password", problem.message, problem.code, problem.params)
    with conn.transaction():
        store.set_password_hash(conn, user_id, hash_password(password), must_change)
        store.lift_lockout(conn, user["username"])
        ended = store.end_sessions(conn, user_id, keep=keep_session)
        revoked = revoke_tokens(conn, user_id, "password_change", actor=actor, actor_name=actor_name,
                                remote_addr=remote_addr)
        audit.record(conn, actor, "user.passwd", "user", user_id, remote_addr=remote_addr, username=actor_name,
                     after={"must_change_password": must_change, "sessions_ended": ended, "tokens_revoked": revoked})


def revoke_tokens(conn: psycopg.Connection, user_id: int, reason: str, *, actor: Principal | None = None,
                  actor_name: str | None = None, remote_addr: str | None = None) -> list[int]:
    """Revoke every live API token of a user, one audit row each; the ids revoked."""
    revoked = store.revoke_all_tokens(conn, user_id)
    for token in revoked:
        audit.record(conn, actor, "token.revoke", "api_token", token["id"], before=token, after={"reason": reason},
                     remote_addr=remote_addr, username=actor_name)
    return [token["id"] for token in revoked]


def deactivate(conn: psycopg.Connection, user_id: int, *, actor: Principal, remote_addr: str | None) -> None:
    """A disabled user's sessions end and its API tokens are revoked (re-enabling it revives none)."""
    store.end_sessions(conn, user_id)
    revoke_tokens(conn, user_id, "deactivated", actor=actor, remote_addr=remote_addr)


@dataclass
class FirstAdmin:
    username: str
    password: str | None  # None: an admin already existed, nothing was created


def ensure_first_admin(conn: psycopg.Connection, username: str = "admin", *, echo: bool = True) -> FirstAdmin:
    """Create ``admin`` with a random one-time password (printed once, to be changed at first sign-in) when
    no admin exists yet; otherwise do nothing. Idempotent."""
    with conn.transaction():
        if store.active_admin_exists(conn):
            return FirstAdmin(username, None)
        password = one_time_password()
        create_user(conn, username, password, Role.ADMIN, must_change_password=True, actor_name="setup",
                    display_name="Administrator")
    if echo:
        print(f"First administrator created. Sign in as '{username}' with the one-time password: {password}")
        print("You will be asked to choose a new password at the first sign-in.")
    return FirstAdmin(username, password)


class SignInRefused(Exception):
    """``status`` 401 (wrong name or password) or 429 (locked out for ``retry_after_s``)."""

    def __init__(self, status: int, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    """Failed attempts allowed per (name, address) and per address within ``lockout_s``, then locked as long."""

    max_failures: int
    max_per_addr: int
    lockout_s: float


def reserve(conn: psycopg.Connection, username: str, remote_addr: str | None, limits: Limits) -> Attempt:
    """Count an attempt before its password is checked; SignInRefused(429) when the name (from this address)
    or the address is locked out."""
    attempt = store.reserve_attempt(conn, username, remote_addr or "unknown", max_failures=limits.max_failures,
                                    max_per_addr=limits.max_per_addr, lockout_s=limits.lockout_s)
    if not attempt.allowed:
        raise SignInRefused(429, "too many failed sign-ins; try again later", attempt.retry_after_s)
    return attempt


def check_sign_in(conn: psycopg.Connection, username: str, password: str, *, limits: Limits,
                  remote_addr: str | None = None) -> dict[str, Any]:
    """The user row when the password is right. Known and unknown names, right and wrong passwords are
    counted and answered alike (401; 429 when locked out) and cost the same argon2 time."""
    attempt = reserve(conn, username, remote_addr, limits)
    row = store.credentials(conn, username=username)
    ok = verify_password(row["password_hash"] if row else None, password)
    if row is None or not ok or not row["active"]:
        if row is not None:
            audit.record(conn, None, "auth.login_failed", "user", row["id"], remote_addr=remote_addr,
                         username=username)
        raise SignInRefused(401, "wrong user name or password")
    store.clear_attempts(conn, attempt, limits.lockout_s)
    if needs_rehash(row["password_hash"]):
        store.set_password_hash(conn, row["id"], hash_password(password))
    return get_user(conn, user_id=row["id"])


def check_current_password(conn: psycopg.Connection, user: Principal, password: str, *, limits: Limits,
                           remote_addr: str | None = None) -> bool:
    """Whether ``password`` is the user's own, counted like a sign-in (SignInRefused(429) when locked out); a
    wrong one is audited as ``auth.password_change_failed``."""
    attempt = reserve(conn, user.username, remote_addr, limits)
    row = store.credentials(conn, user_id=user.user_id)
    if row is not None and verify_password(row["password_hash"], password):
        store.clear_attempts(conn, attempt, limits.lockout_s)
        return True
    audit.record(conn, user, "auth.password_change_failed", "user", user.user_id, remote_addr=remote_addr)
    return False
