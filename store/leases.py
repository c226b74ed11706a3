"""Camera leases: how vision workers on many machines share the cameras without a cluster of their own.

PostgreSQL is the coordination point. A worker takes unleased (or expired) enabled cameras with
``FOR UPDATE SKIP LOCKED`` up to its capacity, renews its leases with a heartbeat well inside the TTL,
and releases them on shutdown. A worker killed with SIGKILL stops renewing; after the TTL its cameras
are free and the next heartbeat of another worker takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class LeaseChange:
    """What one heartbeat changed for a worker: cameras it now holds, gained and lost."""

    held: frozenset[int]
    gained: frozenset[int]
    lost: frozenset[int]


def acquire(conn: psycopg.Connection, worker: str, capacity: int, ttl_s: float) -> list[int]:
    """Lease up to ``capacity`` more free cameras for ``worker`` (counting those it holds); return new ids."""
    with conn.transaction():
        held = conn.execute(
            "SELECT count(*) AS n FROM cameras WHERE lease_owner = %s AND lease_expires > now()", (worker,)
        ).fetchone()
        room = capacity - int(_first(held))
        if room <= 0:
            return []
        rows = conn.execute(
            """
            WITH free AS (
                SELECT id FROM cameras
                WHERE enabled AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires <= now())
                ORDER BY id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE cameras c SET lease_owner = %s, lease_expires = now() + make_interval(secs => %s)
            FROM free WHERE c.id = free.id
            RETURNING c.id
            """,
            (room, worker, ttl_s),
        ).fetchall()
    return sorted(_first(r) for r in rows)


def renew(conn: psycopg.Connection, worker: str, ttl_s: float) -> list[int]:
    """Extend every lease ``worker`` still holds; return the ids it holds (a lapsed lease is not renewed)."""
    rows = conn.execute(
        """
        UPDATE cameras SET lease_expires = now() + make_interval(secs => %s)
        WHERE lease_owner = %s AND lease_expires > now() AND enabled
        RETURNING id
        """,
        (ttl_s, worker),
    ).fetchall()
    return sorted(_first(r) for r in rows)


def heartbeat(conn: psycopg.Connection, worker: str, capacity: int, ttl_s: float,
              previously: frozenset[int]) -> LeaseChange:
    """Renew, then take free cameras up to capacity; say what changed since ``previously``."""
    held = set(renew(conn, worker, ttl_s))
    held.update(acquire(conn, worker, capacity, ttl_s))
    now_held = frozenset(held)
    return LeaseChange(now_held, now_held - previously, previously - now_held)


def release(conn: psycopg.Connection, worker: str, camera_ids: list[int] | None = None) -> int:
    """Give back ``worker``'s leases (all, or the listed cameras); return how many were released."""
    if camera_ids is None:
        cur = conn.execute("UPDATE cameras SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = %s",
                           (worker,))
    else:
        cur = conn.execute(
            "UPDATE cameras SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = %s AND id = ANY(%s)",
            (worker, camera_ids),
        )
    return cur.rowcount


def owners(conn: psycopg.Connection) -> dict[int, str | None]:
    """Camera id -> current lease owner (None when free or expired)."""
    rows = conn.execute(
        "SELECT id, CASE WHEN lease_expires > now() THEN lease_owner END AS owner FROM cameras ORDER BY id"
    ).fetchall()
    return {_first(r): (r["owner"] if isinstance(r, dict) else r[1]) for r in rows}


def _first(row: object) -> int:
    if isinstance(row, dict):
        return int(next(iter(row.values())))
    return int(row[0])  # type: ignore[index]
