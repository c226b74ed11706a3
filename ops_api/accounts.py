"""User accounts shared by the API and the CLI: create, change password, list, the first admin, sign-in.

Every change a person makes is written to the audit log by the caller's principal (the CLI writes as
``cli:<login>``), never with the password itself.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg

from ops_api import audit
from ops_api.roles import Principal, Role
from ops_api.security import hash_password, needs_rehash, one_time_password, password_problem, verify_password

USER_COLUMNS = ("id, username, display_name, role, site_ids, language, active, must_change_password,"
                " failed_logins, locked_until, created_at, updated_at")


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


def get_user(conn: psycopg.Connection, user_id: int | None = None, username: str | None = None) -> dict | None:
    if user_id is not None:
        return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s", (user_id,)).fetchone()
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE username = %s", (username,)).fetchone()


def list_users(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY username").fetchall()


def create_user(conn: psycopg.Connection, username: str, password: str, role: Role | str, *,
                site_ids: list[int] | None = None, display_name: str | None = None, language: str = "vi",
                must_change_password: bool = False, actor: Principal | None = None, actor_name: str | None = None,
                remote_addr: str | None = None) -> dict[str, Any]:
    """Insert a user with an argon2id hash; raise AccountError for a taken name or a weak password."""
    problem = password_problem(password, username)
    if problem:
        raise AccountError("password", problem.message, problem.code, problem.params)
    try:
        role = Role(role)
    except ValueError:
        raise AccountError("role", f"unknown role {role!r} (one of: {', '.join(r.value for r in Role)})",
                           "unknown_role", {"role": str(role)}) from None
    with conn.transaction():
        if get_user(conn, username=username):
            raise AccountError("username", f"user {username!r} already exists", "username_taken",
                               {"username": username})
        if site_ids:
            known = {r["id"] for r in conn.execute("SELECT id FROM sites WHERE id = ANY(%s)", (site_ids,))}
            missing = sorted(set(site_ids) - known)
            if missing:
                raise AccountError("site_ids", f"no site with id {missing[0]}", "unknown_site",
                                   {"site_id": missing[0]})
        row = conn.execute(
            f"INSERT INTO users (username, display_name, password_hash, role, site_ids, language,"
            f" must_change_password) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
            (username, display_name, hash_password(password), role.value, site_ids, language, must_change_password),
        ).fetchone()
        audit.record(conn, actor, "user.create", "user", row["id"], after=row, remote_addr=remote_addr,
                     username=actor_name)
    return row


def set_password(conn: psycopg.Connection, user_id: int, password: str, *, must_change: bool = False,
                 actor: Principal | None = None, actor_name: str | None = None, remote_addr: str | None = None,
                 keep_session: str | None = None) -> None:
    """Replace a password, clear any lock-out, and end the user's other sessions."""
    user = get_user(conn, user_id=user_id)
    if user is None:
        raise AccountError("user", "no such user", "user_not_found")
    problem = password_problem(password, user["username"])
    if problem:
        raise AccountError("new_password", problem.message, problem.code, problem.params)
    with conn.transaction():
        conn.execute("UPDATE users SET password_hash = %s, must_change_password = %s, failed_logins = 0,"
                     " locked_until = NULL, updated_at = now() WHERE id = %s",
                     (hash_password(password), must_change, user_id))
        conn.execute("DELETE FROM api_sessions WHERE user_id = %s AND token_hash IS DISTINCT FROM %s",
                     (user_id, keep_session))
        audit.record(conn, actor, "user.passwd", "user", user_id, after={"must_change_password": must_change},
                     remote_addr=remote_addr, username=actor_name)


@dataclass
class FirstAdmin:
    username: str
    password: str | None  # None: an admin already existed, nothing was created


def ensure_first_admin(conn: psycopg.Connection, username: str = "admin", *, echo: bool = True) -> FirstAdmin:
    """Create ``admin`` with a random one-time password (printed once, to be changed at first sign-in) when
    no admin exists yet; otherwise do nothing. Idempotent."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('vigil.first_admin'))")
        if conn.execute("SELECT 1 FROM users WHERE role = 'admin' AND active LIMIT 1").fetchone():
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


def check_sign_in(conn: psycopg.Connection, username: str, password: str, *, max_failures: int,
                  lockout_s: float, remote_addr: str | None = None) -> dict[str, Any]:
    """The user row when the password is right; count failures and lock the account for ``lockout_s``
    after ``max_failures`` in a row. Unknown names cost the same argon2 time as known ones."""
    row = conn.execute("SELECT id, username, password_hash, active, locked_until,"
                       " locked_until > now() AS locked, ceil(extract(epoch FROM locked_until - now())) AS wait"
                       " FROM users WHERE username = %s", (username,)).fetchone()
    if row is not None and row["locked"]:
        raise SignInRefused(429, "too many failed sign-ins; try again later", int(row["wait"] or 1))
    ok = verify_password(row["password_hash"] if row else None, password)
    if row is None or not ok or not row["active"]:
        if row is not None:
            failures = conn.execute(
                "UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= %(max)s THEN 0"
                " ELSE failed_logins + 1 END, locked_until = CASE WHEN failed_logins + 1 >= %(max)s"
                " THEN now() + %(lock)s ELSE locked_until END WHERE id = %(id)s"
                " RETURNING locked_until > now() AS locked",
                {"max": max_failures, "lock": timedelta(seconds=lockout_s), "id": row["id"]}).fetchone()
            audit.record(conn, None, "auth.login_failed", "user", row["id"], remote_addr=remote_addr,
                         username=username, after={"locked": bool(failures["locked"])})
        raise SignInRefused(401, "wrong user name or password")
    updates = "failed_logins = 0, locked_until = NULL"
    params: list[Any] = []
    if needs_rehash(row["password_hash"]):
        updates += ", password_hash = %s"
        params.append(hash_password(password))
    conn.execute(f"UPDATE users SET {updates} WHERE id = %s", [*params, row["id"]])
    return get_user(conn, user_id=row["id"])
