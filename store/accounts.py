"""Accounts in PostgreSQL: users within a site scope, their API tokens and sessions, and the sign-in
failure counts that lock a name (from one address) or an address out.

A *scope* is a list of site ids, or None for every site. A user's own scope is its ``site_ids`` (NULL: every
site) plus every site of its ``province_ids`` (a province-wide scope, expanded here at each sign-in check, so a
center added to the province is in scope at once; such a user has ``site_ids`` '{}' or its extra sites, never
NULL). A user is within an admin's scope when it is limited to something, its own sites are within the admin's
sites and its provinces within the admin's provinces; users of every site are within no scope but None.

Failures are counted per (user name, client address) and per client address (user name ``''``), the same
way whether or not the name exists. An attempt is counted *before* its password is checked
(``reserve_attempt``), in one atomic statement, so parallel attempts cannot all slip under the limit; the
caller then releases the reservation on success (``clear_attempts``) or keeps it as a failure. The count
starts again ``lockout`` after its first failure; the first attempt over the limit locks for ``lockout``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

# A user's sites with its provinces' sites added (NULL: every site).
SCOPE_SITES = ("CASE WHEN {u}.province_ids IS NULL THEN {u}.site_ids ELSE ARRAY(SELECT DISTINCT x FROM unnest("
               "{u}.site_ids || ARRAY(SELECT s.id FROM sites s WHERE s.province_id = ANY({u}.province_ids))) AS x"
               " ORDER BY x) END")
USER_COLUMNS = ("id, username, display_name, role, site_ids, province_ids, language, active, must_change_password,"
                " supervisor,"
                " (SELECT max(a.locked_until) FROM login_attempts a WHERE a.username = users.username"
                f" AND a.locked_until > now()) AS locked_until, created_at, updated_at,"
                f" {SCOPE_SITES.format(u='users')} AS scope_site_ids")
TOKEN_COLUMNS = "id, user_id, name, prefix, created_at, expires_at, last_used, revoked_at"
ADDRESS_WIDE = ""  # the login_attempts row of an address counting every name tried from it
_WITHIN = ("users.site_ids IS NOT NULL AND (cardinality(users.site_ids) > 0 OR cardinality(users.province_ids) > 0)"
           " AND users.site_ids <@ %(scope)s::bigint[]"
           " AND coalesce(users.province_ids, '{}') <@ %(provinces)s::bigint[]")


def _scoped(scope: list[int] | None) -> str:
    return "true" if scope is None else _WITHIN


def _params(scope: list[int] | None, provinces: list[int] | None, **more: Any) -> dict[str, Any]:
    return {"scope": scope, "provinces": sorted(provinces or ()), **more}


# -- users -------------------------------------------------------------------------------------------------
def list_users(conn: psycopg.Connection, scope: list[int] | None = None,
               provinces: list[int] | None = None) -> list[dict[str, Any]]:
    """Every user within ``scope`` (and the admin's ``provinces``), by name."""
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE {_scoped(scope)} ORDER BY username",
                        _params(scope, provinces)).fetchall()


def find_user(conn: psycopg.Connection, user_id: int | None = None, username: str | None = None,
              scope: list[int] | None = None, provinces: list[int] | None = None) -> dict[str, Any] | None:
    """One user by id or name, or None when there is none within ``scope`` (and the admin's ``provinces``)."""
    key, value = ("id = %(key)s::bigint", user_id) if user_id is not None else ("username = %(key)s", username)
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE {key} AND {_scoped(scope)}",
                        _params(scope, provinces, key=value)).fetchone()


def assignable_users(conn: psycopg.Connection, scope: list[int] | None) -> list[dict[str, Any]]:
    """Active operators and admins an event of these sites can be given to: those of every site, or sharing a
    site with ``scope`` (None: everyone), by display name."""
    return conn.execute(
        "SELECT id, username, display_name, role FROM users WHERE active AND role IN ('operator', 'admin')"
        f" AND (site_ids IS NULL OR %(scope)s::bigint[] IS NULL OR {SCOPE_SITES.format(u='users')}"
        " && %(scope)s::bigint[])"
        " ORDER BY coalesce(display_name, username)", {"scope": scope}).fetchall()


def insert_user(conn: psycopg.Connection, username: str, password_hash: str, role: str, site_ids: list[int] | None,
                display_name: str | None, language: str, must_change_password: bool,
                province_ids: list[int] | None = None, supervisor: bool = False) -> dict[str, Any]:
    """A new user; with ``province_ids`` its ``site_ids`` are its extra sites ('{}' when None)."""
    if province_ids is not None and site_ids is None:
        site_ids = []
    return conn.execute(
        f"INSERT INTO users (username, display_name, password_hash, role, site_ids, province_ids, language,"
        f" must_change_password, supervisor) VALUES (%s, %s, %s, %s, %s::bigint[], %s::bigint[], %s, %s, %s)"
        f" RETURNING {USER_COLUMNS}",
        (username, display_name, password_hash, role, site_ids, province_ids, language,
         must_change_password, supervisor)).fetchone()


def credentials(conn: psycopg.Connection, user_id: int | None = None,
                username: str | None = None) -> dict[str, Any] | None:
    """A user's id, username, password hash and active flag, for checking a password."""
    key, value = ("id = %s::bigint", user_id) if user_id is not None else ("username = %s", username)
    return conn.execute(f"SELECT id, username, password_hash, active FROM users WHERE {key}", (value,)).fetchone()


def set_password_hash(conn: psycopg.Connection, user_id: int, password_hash: str,
                      must_change_password: bool | None = None) -> None:
    """Store a new hash (and, unless None, whether the password must be changed at the next sign-in)."""
    conn.execute("UPDATE users SET password_hash = %s, must_change_password = coalesce(%s, must_change_password),"
                 " updated_at = now() WHERE id = %s::bigint", (password_hash, must_change_password, user_id))


def update_user(conn: psycopg.Connection, user_id: int, changes: dict[str, Any]) -> None:
    """Set the given columns (role, site_ids, province_ids, display_name, language, active, supervisor) of a
    user; a user given provinces keeps ``site_ids`` '{}' rather than NULL (every site)."""
    allowed = {"role", "site_ids", "province_ids", "display_name", "language", "active", "supervisor"}
    if not changes:
        return
    if not set(changes) <= allowed:
        raise ValueError(f"not a user column one may change: {sorted(set(changes) - allowed)}")
    sets = ", ".join(f"{k} = %({k})s" for k in changes)
    conn.execute(f"UPDATE users SET {sets}, updated_at = now() WHERE id = %(id)s::bigint", {**changes, "id": user_id})
    conn.execute("UPDATE users SET site_ids = '{}' WHERE id = %s::bigint AND province_ids IS NOT NULL"
                 " AND site_ids IS NULL", (user_id,))


def active_admin_exists(conn: psycopg.Connection) -> bool:
    """Whether an active admin exists, after taking the first-admin lock for the caller's transaction (so that
    two processes starting at once create one first admin)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('vigil.first_admin'))")
    return conn.execute("SELECT 1 FROM users WHERE role = 'admin' AND active LIMIT 1").fetchone() is not None


def unknown_provinces(conn: psycopg.Connection, province_ids: Iterable[int]) -> list[int]:
    """The ids among ``province_ids`` that name no province, sorted."""
    wanted = sorted(set(province_ids))
    known = {r["id"] for r in conn.execute("SELECT id FROM provinces WHERE id = ANY(%s::bigint[])", (wanted,))}
    return [p for p in wanted if p not in known]


def unknown_sites(conn: psycopg.Connection, site_ids: Iterable[int]) -> list[int]:
    """The ids among ``site_ids`` that name no site, sorted."""
    wanted = sorted(set(site_ids))
    known = {r["id"] for r in conn.execute("SELECT id FROM sites WHERE id = ANY(%s::bigint[])", (wanted,))}
    return [s for s in wanted if s not in known]


# -- tokens and sessions -------------------------------------------------------------------------------------
def add_token(conn: psycopg.Connection, user_id: int, name: str, digest: str, prefix: str,
              expires_at: datetime | None) -> dict[str, Any]:
    """Store a new API token by the hash of its secret."""
    return conn.execute(f"INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at)"
                        f" VALUES (%s::bigint, %s, %s, %s, %s) RETURNING {TOKEN_COLUMNS}",
                        (user_id, name, digest, prefix, expires_at)).fetchone()


def user_tokens(conn: psycopg.Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = %s::bigint ORDER BY id",
                        (user_id,)).fetchall()


def revoke_token(conn: psycopg.Connection, user_id: int, token_id: int) -> dict[str, Any] | None:
    """Revoke one live token of a user; None when the user has no such live token."""
    return conn.execute(f"UPDATE api_tokens SET revoked_at = now() WHERE id = %s::bigint AND user_id = %s::bigint"
                        f" AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}", (token_id, user_id)).fetchone()


def revoke_all_tokens(conn: psycopg.Connection, user_id: int) -> list[dict[str, Any]]:
    """Revoke every live token of a user; the tokens revoked."""
    return conn.execute(f"UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s::bigint AND revoked_at IS NULL"
                        f" RETURNING {TOKEN_COLUMNS}", (user_id,)).fetchall()


def add_session(conn: psycopg.Connection, digest: str, user_id: int, expires_at: datetime, remote_addr: str | None,
                user_agent: str) -> None:
    """Store a console session by the hash of its cookie (and drop the sessions that have expired)."""
    conn.execute("INSERT INTO api_sessions (token_hash, user_id, expires_at, remote_addr, user_agent)"
                 " VALUES (%s, %s, %s, %s, %s)", (digest, user_id, expires_at, remote_addr, user_agent))
    conn.execute("DELETE FROM api_sessions WHERE expires_at < now()")


def end_session(conn: psycopg.Connection, digest: str) -> None:
    """End the console session whose cookie has this hash."""
    conn.execute("DELETE FROM api_sessions WHERE token_hash = %s", (digest,))


_SIGNED_IN = (f"SELECT u.id, u.username, u.role, {SCOPE_SITES.format(u='u')} AS site_ids, u.province_ids,"
              " u.must_change_password, u.language, u.active FROM {table} c JOIN users u ON u.id = c.user_id"
              " WHERE c.token_hash = %s AND (c.expires_at IS NULL OR c.expires_at > now()) {extra}")
_BY_SESSION = _SIGNED_IN.format(table="api_sessions", extra="")
_BY_TOKEN = _SIGNED_IN.format(table="api_tokens", extra="AND c.revoked_at IS NULL")


def signed_in_user(conn: psycopg.Connection, via: str, digest: str) -> dict[str, Any] | None:
    """The user (id, username, role, site_ids, province_ids, must_change_password, language, active) behind a
    live console session (``via`` "session") or API token ("token") with this hash; None when unknown, expired or
    revoked. ``site_ids`` is the user's whole scope: its sites and its provinces' sites (NULL: every site)."""
    return conn.execute(_BY_TOKEN if via == "token" else _BY_SESSION, (digest,)).fetchone()


def end_sessions(conn: psycopg.Connection, user_id: int, keep: str | None = None) -> int:
    """End a user's console sessions except the one whose hash is ``keep``; how many ended."""
    return conn.execute("DELETE FROM api_sessions WHERE user_id = %s::bigint AND token_hash IS DISTINCT FROM %s",
                        (user_id, keep)).rowcount


# -- sign-in failures ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt: ``allowed`` to check the password, else locked for ``retry_after_s``."""

    username: str
    remote_addr: str
    allowed: bool
    retry_after_s: int = 0


# One statement counts the attempt for the name and for the address: the row lock of ON CONFLICT makes each
# count exact under parallel attempts. A count whose window (or lock) is over starts again at 1.
_RESERVE = """
INSERT INTO login_attempts AS a (username, remote_addr, failures, window_start, locked_until)
SELECT k.username, %(addr)s, 1, now(), CASE WHEN 1 > k.lim THEN now() + %(lock)s END
FROM (VALUES (%(name)s, %(max)s::int), ('', %(max_addr)s::int)) AS k(username, lim)
ON CONFLICT (username, remote_addr) DO UPDATE SET
    failures = CASE WHEN a.locked_until <= now() OR (a.locked_until IS NULL AND a.window_start <= now() - %(lock)s)
                    THEN 1 ELSE a.failures + 1 END,
    window_start = CASE WHEN a.locked_until <= now()
                             OR (a.locked_until IS NULL AND a.window_start <= now() - %(lock)s)
                        THEN now() ELSE a.window_start END,
    locked_until = CASE WHEN a.locked_until > now() THEN a.locked_until
                        WHEN a.locked_until IS NULL AND a.window_start > now() - %(lock)s
                             AND a.failures + 1 > CASE WHEN a.username = '' THEN %(max_addr)s ELSE %(max)s END
                        THEN now() + %(lock)s END
RETURNING username, failures, ceil(extract(epoch FROM locked_until - now()))::int AS wait,
          failures > CASE WHEN username = '' THEN %(max_addr)s ELSE %(max)s END AS over
"""

_RELEASE = """
UPDATE login_attempts SET failures = greatest(failures - 1, 0)
WHERE remote_addr = %(addr)s AND username = ANY(%(names)s::text[]) AND failures > 0
"""
_DROP_EMPTY = """
DELETE FROM login_attempts
WHERE remote_addr = %(addr)s AND username = ANY(%(names)s::text[]) AND failures = 0 AND locked_until IS NULL
"""


def reserve_attempt(conn: psycopg.Connection, username: str, remote_addr: str, *, max_failures: int,
                    max_per_addr: int, lockout_s: float) -> Attempt:
    """Count one attempt for the name and the address before its password is checked. Over either limit it is
    refused (and its count released where it was not over: a refused attempt checks nothing)."""
    found = conn.execute(_RESERVE, {"name": username, "addr": remote_addr, "max": max_failures,
                                    "max_addr": max_per_addr, "lock": timedelta(seconds=lockout_s)}).fetchall()
    over = [r for r in found if r["over"]]
    if not over:
        return Attempt(username, remote_addr, True)
    _release(conn, remote_addr, [r["username"] for r in found if not r["over"]])
    wait = max(r["wait"] or 0 for r in over)
    return Attempt(username, remote_addr, False, max(wait, 1))


def _release(conn: psycopg.Connection, remote_addr: str, names: list[str]) -> None:
    if names:
        params = {"addr": remote_addr, "names": names}
        conn.execute(_RELEASE, params)
        conn.execute(_DROP_EMPTY, params)


def clear_attempts(conn: psycopg.Connection, attempt: Attempt, lockout_s: float) -> None:
    """The password was right: forget the name's failures from this address and release the address's count
    of this attempt; drop counts whose window and lock are long over."""
    conn.execute("DELETE FROM login_attempts WHERE username = %s AND remote_addr = %s",
                 (attempt.username, attempt.remote_addr))
    _release(conn, attempt.remote_addr, [ADDRESS_WIDE])
    conn.execute("DELETE FROM login_attempts WHERE window_start < now() - %(lock)s"
                 " AND (locked_until IS NULL OR locked_until < now())", {"lock": timedelta(seconds=lockout_s)})


def lift_lockout(conn: psycopg.Connection, username: str) -> None:
    """Forget every failure of a name, from every address (a new password was set)."""
    conn.execute("DELETE FROM login_attempts WHERE username = %s", (username,))
