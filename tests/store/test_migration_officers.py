"""Migration 0060 on a database that already has counters with an officer's name typed in: each name of a site
becomes one officer rostered on its counters since they were created, so the counters' past days are credited
to the person the text named; the text itself stays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from store.assignments import site_assignments
from store.db import connect
from store.embedded import EmbeddedPostgres
from store.migrate import available_migrations, migrate


@pytest.fixture
def before_0060(pg_cluster: EmbeddedPostgres) -> Iterator[psycopg.Connection]:
    """A database migrated up to (not including) 0060, as a deployment of the previous release is."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    with connect(pg_cluster.admin_url(name)) as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                     " flavor text, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("CREATE TABLE schema_meta (key text PRIMARY KEY, value text NOT NULL)")
        conn.execute("INSERT INTO schema_meta VALUES ('flavor', 'plain')")
        for migration in available_migrations("plain"):
            if migration.version >= 60:
                break
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute("INSERT INTO schema_migrations (version, name, flavor, checksum) VALUES (%s, %s, %s, %s)",
                             (migration.version, migration.name, migration.flavor, migration.checksum))
        yield conn
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_typed_officer_names_become_officers_rostered_on_their_counters(before_0060: psycopg.Connection) -> None:
    conn = before_0060
    site = conn.execute("INSERT INTO sites (code, name, kind) VALUES ('q1', 'Quận 1', 'service_center') RETURNING id"
                        ).fetchone()["id"]
    for number, officer in ((1, "Nguyễn Thị Lan"), (2, " Nguyễn Thị Lan "), (3, "Trần Văn Bình"), (4, None), (5, "")):
        conn.execute("INSERT INTO counters (site_id, number, department, officer, created_at) VALUES"
                     " (%s, %s, 'Tư pháp', %s, '2026-10-01 09:00+07')", (site, number, officer))
    applied = [m.version for m in migrate(conn)]
    assert 60 in applied
    officers = conn.execute("SELECT id, full_name, staff_code FROM officers ORDER BY full_name").fetchall()
    assert [o["full_name"] for o in officers] == ["Nguyễn Thị Lan", "Trần Văn Bình"]
    assert all(o["staff_code"].startswith("legacy-") for o in officers)
    day = date(2026, 10, 15)
    found = site_assignments(conn, site, "Asia/Ho_Chi_Minh", day, day)[day]
    by_counter = {a.counter_id: a.officer_id for a in found}
    numbers = {r["id"]: r["number"] for r in conn.execute("SELECT id, number FROM counters")}
    lan, binh = officers[0]["id"], officers[1]["id"]
    assert {numbers[c]: o for c, o in by_counter.items()} == {1: lan, 2: lan, 3: binh}
    assert site_assignments(conn, site, "Asia/Ho_Chi_Minh", date(2026, 9, 30), date(2026, 9, 30))[
        date(2026, 9, 30)] == []  # not before the counter existed
    assert conn.execute("SELECT officer FROM counters WHERE number = 1").fetchone()["officer"] == "Nguyễn Thị Lan"
