"""Camera leases: workers share cameras through the database; a dead worker's cameras move on after the TTL."""

import time

import psycopg

from store import leases


def _cameras(db: psycopg.Connection, count: int) -> list[int]:
    site = db.execute("INSERT INTO sites (code, name, kind) VALUES ('s1', 'Site', 'street') RETURNING id").fetchone()
    ids = []
    for i in range(count):
        row = db.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri) VALUES (%s, %s, 'file', 'x')"
                         " RETURNING id", (site["id"], f"cam{i}")).fetchone()
        ids.append(row["id"])
    return ids


def test_workers_split_cameras_within_capacity(db: psycopg.Connection) -> None:
    ids = _cameras(db, 5)
    a = leases.heartbeat(db, "worker-a", capacity=3, ttl_s=30, previously=frozenset())
    b = leases.heartbeat(db, "worker-b", capacity=3, ttl_s=30, previously=frozenset())
    assert len(a.held) == 3 and len(b.held) == 2
    assert a.held | b.held == set(ids) and not (a.held & b.held)
    again = leases.heartbeat(db, "worker-a", capacity=3, ttl_s=30, previously=a.held)
    assert again.held == a.held and not again.gained and not again.lost


def test_a_dead_workers_cameras_are_taken_after_the_ttl(db: psycopg.Connection) -> None:
    ids = _cameras(db, 4)
    dead = leases.heartbeat(db, "worker-dead", capacity=4, ttl_s=1.0, previously=frozenset())
    assert dead.held == set(ids)
    alive = leases.heartbeat(db, "worker-alive", capacity=4, ttl_s=30, previously=frozenset())
    assert alive.held == frozenset()  # still leased by the other
    time.sleep(1.2)  # the dead worker never renews
    alive = leases.heartbeat(db, "worker-alive", capacity=4, ttl_s=30, previously=alive.held)
    assert alive.gained == set(ids)
    assert set(leases.owners(db).values()) == {"worker-alive"}


def test_release_frees_cameras_and_disabled_cameras_are_not_leased(db: psycopg.Connection) -> None:
    ids = _cameras(db, 3)
    db.execute("UPDATE cameras SET enabled = false WHERE id = %s", (ids[0],))
    held = leases.heartbeat(db, "w", capacity=10, ttl_s=30, previously=frozenset()).held
    assert held == set(ids[1:])
    assert leases.release(db, "w") == 2
    assert all(owner is None for owner in leases.owners(db).values())
