"""The public hall screen's display keys (one per site, only its SHA-256 kept) and the count of wrong keys per
client address, which locks an address out for a while (kept in ``login_attempts`` under the name ``#display``,
which no user name can take: the sign-in's own counts are not touched)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

WRONG_KEY = "#display"  # the login_attempts name of wrong display keys ('#' is not allowed in user names)


def display_key_hash(conn: psycopg.Connection, site_id: int) -> str | None:
    """The hash of the site's display key, or None when it has none."""
    found = conn.execute("SELECT key_hash FROM hall_displays WHERE site_id = %s::bigint", (site_id,)).fetchone()
    return None if found is None else found["key_hash"]


def display_of(conn: psycopg.Connection, site_id: int) -> dict[str, Any] | None:
    """The site's display key as admins see it: its prefix and when it was last rotated (never the hash)."""
    return conn.execute("SELECT site_id, prefix, rotated_at FROM hall_displays WHERE site_id = %s::bigint",
                        (site_id,)).fetchone()


def set_display_key(conn: psycopg.Connection, site_id: int, digest: str, prefix: str) -> dict[str, Any]:
    """Replace the site's display key (the old one stops working at once)."""
    return conn.execute(
        "INSERT INTO hall_displays (site_id, key_hash, prefix) VALUES (%s::bigint, %s, %s) ON CONFLICT (site_id)"
        " DO UPDATE SET key_hash = EXCLUDED.key_hash, prefix = EXCLUDED.prefix, rotated_at = now()"
        " RETURNING site_id, prefix, rotated_at", (site_id, digest, prefix)).fetchone()


def locked_for(conn: psycopg.Connection, remote_addr: str) -> int | None:
    """Seconds the address is still locked out for wrong display keys, or None."""
    found = conn.execute("SELECT ceil(extract(epoch FROM locked_until - now()))::int AS wait FROM login_attempts"
                         " WHERE username = %s AND remote_addr = %s AND locked_until > now()",
                         (WRONG_KEY, remote_addr)).fetchone()
    return None if found is None else max(1, found["wait"])


def count_wrong_key(conn: psycopg.Connection, remote_addr: str, *, max_wrong: int, lockout_s: float) -> bool:
    """Count a wrong key from this address (the count starts again ``lockout_s`` after its first); True when
    that makes it one too many, and the address is locked out for ``lockout_s``."""
    lock = timedelta(seconds=lockout_s)
    found = conn.execute(
        "INSERT INTO login_attempts AS a (username, remote_addr, failures, window_start) VALUES (%(name)s, %(addr)s,"
        " 1, now()) ON CONFLICT (username, remote_addr) DO UPDATE SET"
        " failures = CASE WHEN a.window_start <= now() - %(lock)s THEN 1 ELSE a.failures + 1 END,"
        " window_start = CASE WHEN a.window_start <= now() - %(lock)s THEN now() ELSE a.window_start END"
        " RETURNING failures", {"name": WRONG_KEY, "addr": remote_addr, "lock": lock}).fetchone()
    if found["failures"] <= max_wrong:
        return False
    conn.execute("UPDATE login_attempts SET locked_until = now() + %s WHERE username = %s AND remote_addr = %s"
                 " AND (locked_until IS NULL OR locked_until <= now())", (lock, WRONG_KEY, remote_addr))
    return True
