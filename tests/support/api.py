"""Operations API fixtures: an app on a fresh migrated database, served in-process, with signed-in users.

``api`` gives an ``ApiHarness``: ``api.client`` (a TestClient whose lifespan runs: pool, LISTEN thread,
outbound dispatcher), ``api.user(role, site_ids=...)`` creating a user with an API token and returning
its headers, and ``api.conn`` for arranging rows. ``seed_sites`` adds two sites with a camera, zones,
a counter and events each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from core.settings import Settings
from ops_api.app import create_app
from ops_api.readiness import wait_until_ready
from ops_api.security import TOKEN_PREFIX, hash_password, new_token, token_hash
from store.db import connect
from store.embedded import EmbeddedPostgres
from tests.support.db import TEMPLATE
from tests.support.net import free_port, wait_for_port

PASSWORD = "correct-horse-battery"
_HASH: dict[str, str] = {}


@dataclass
class ApiUser:
    id: int
    username: str
    role: str
    token: str
    site_ids: list[int] | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class ApiHarness:
    client: TestClient
    conn: psycopg.Connection
    url: str
    settings: Settings
    users: dict[str, ApiUser] = field(default_factory=dict)

    def user(self, role: str, site_ids: list[int] | None = None, name: str | None = None,
             must_change_password: bool = False, province_ids: list[int] | None = None,
             supervisor: bool = False) -> ApiUser:
        """A user of this role (and sites, and whole provinces) with a bearer token; the password is ``PASSWORD``."""
        name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        if PASSWORD not in _HASH:
            _HASH[PASSWORD] = hash_password(PASSWORD)  # argon2 is slow by design: hash once per session
        if province_ids is not None and site_ids is None:
            site_ids = []
        row = self.conn.execute(
            "INSERT INTO users (username, password_hash, role, site_ids, province_ids, must_change_password,"
            " supervisor) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name, _HASH[PASSWORD], role, site_ids, province_ids, must_change_password, supervisor)).fetchone()
        token = new_token(TOKEN_PREFIX)
        self.conn.execute("INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES (%s, 'test', %s, %s)",
                          (row["id"], token_hash(token), token[:10]))
        found = ApiUser(row["id"], name, role, token, site_ids)
        self.users[name] = found
        return found


def make_settings(data_dir: Path, database: dict[str, Any] | None = None, sections: dict[str, Any] | None = None,
                  **api: Any) -> Settings:
    """Test settings; ``sections`` sets other sections (``{"alarms": {"p1_ack_s": 2}}``)."""
    extra = {"database": database} if database else {}
    return Settings(data_dir=data_dir, api={"login_max_failures": 3, "login_lockout_s": 60, **api}, **extra,
                    **(sections or {}))


@contextmanager
def serve_in_process(db_url: str, data_dir: Path, sections: dict[str, Any] | None = None,
                     **api_settings: Any) -> Iterator[ApiHarness]:
    settings = make_settings(data_dir, sections=sections, **api_settings)
    app = create_app(settings, db_url)
    with TestClient(app, raise_server_exceptions=False) as client, connect(db_url) as conn:
        hub = app.state.vigil.hub
        if hub is not None and not hub.listening.wait(10):
            raise TimeoutError("the live-event hub did not start listening in 10 s")
        yield ApiHarness(client, conn, db_url, settings)


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[ApiHarness]:
    """An app on a fresh database of its own."""
    with serve_in_process(db_url, tmp_path) as harness:
        yield harness


@pytest.fixture(scope="module")
def module_db_url(pg_cluster: EmbeddedPostgres) -> Iterator[str]:
    """A fresh migrated database shared by one test module (for read-mostly tables of cases)."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield pg_cluster.admin_url(name)
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def module_api(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiHarness]:
    """One app and one database for a whole test module."""
    with serve_in_process(module_db_url, tmp_path_factory.mktemp("api")) as harness:
        yield harness


@dataclass
class ServedApi:
    """An app served by uvicorn on a loopback port, in a thread of the test process."""

    base_url: str
    harness: ApiHarness


@contextmanager
def serve_uvicorn(db_url: str, data_dir: Path, database: dict[str, Any] | None = None,
                  sections: dict[str, Any] | None = None, **api_settings: Any) -> Iterator[ServedApi]:
    """``database``: settings of that section (``{"pool_size": 2}``); ``sections``: other sections; keyword
    arguments: the ``api`` section."""
    import threading

    import uvicorn

    from ops_api.server import ApiServerConfig

    settings = make_settings(data_dir, database, sections, **api_settings)
    port = free_port()
    server = uvicorn.Server(ApiServerConfig(create_app(settings, db_url), host="127.0.0.1", port=port,
                                            log_level="warning", lifespan="on", ws="websockets-sansio",
                                            header_timeout_s=settings.api.header_timeout_s))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        wait_until_ready(f"http://127.0.0.1:{port}", timeout_s=10.0, poll_s=0.05)
        app = create_app(settings, db_url, live=False)  # a client-side harness for arranging rows
        with TestClient(app) as client, connect(db_url) as conn:
            yield ServedApi(f"http://127.0.0.1:{port}", ApiHarness(client, conn, db_url, settings))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served_api(db_url: str, tmp_path: Path) -> Iterator[ServedApi]:
    with serve_uvicorn(db_url, tmp_path) as served:
        yield served


@dataclass
class Seeded:
    sites: list[int]
    cameras: list[int]
    zones: list[int]
    counters: list[int]
    events: list[uuid.UUID]


def insert_event(conn: psycopg.Connection, site_id: int | None, camera_id: int | None, *, type: str = "intrusion",
                 severity: str = "high", counter_id: int | None = None, when: datetime | None = None,
                 evidence_path: str | None = None, status: str = "new") -> uuid.UUID:
    event_id = uuid.uuid4()
    conn.execute("INSERT INTO events (id, time, site_id, camera_id, counter_id, type, severity, status, attributes,"
                 " evidence_path) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (event_id, when or datetime.now(UTC), site_id, camera_id, counter_id, type, severity, status,
                  Jsonb({"source": "test"}), evidence_path))
    return event_id


def seed_sites(conn: psycopg.Connection, n_sites: int = 2) -> Seeded:
    """Sites ``hcm-1``, ``hcm-2``...: each a service center with a camera, staff/customer/queue zones, a counter, and
    three events (one an hour ago, one now, one yesterday for the counter)."""
    out = Seeded([], [], [], [], [])
    now = datetime.now(UTC)
    for i in range(1, n_sites + 1):
        site = conn.execute("INSERT INTO sites (code, name, kind, level) VALUES (%s, %s, 'service_center',"
                            " 'district') RETURNING id",
                            (f"hcm-{i}", f"Trung tâm Hành chính công {i}")).fetchone()["id"]
        camera = conn.execute("INSERT INTO cameras (site_id, name, source_kind, main_uri, state) VALUES"
                              " (%s, %s, 'file', 'var/footage/vtest.mp4', 'online') RETURNING id",
                              (site, f"cam-{i}")).fetchone()["id"]
        staff = conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, 'staff-1',"
                             " 'counter_staff', %s) RETURNING id",
                             (camera, Jsonb([[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]))).fetchone()["id"]
        customer = conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, 'customer-1',"
                                " 'counter_customer', %s) RETURNING id",
                                (camera, Jsonb([[0.1, 0.5], [0.4, 0.5], [0.4, 0.7]]))).fetchone()["id"]
        queue = conn.execute("INSERT INTO zones (camera_id, name, kind, geometry) VALUES (%s, 'queue-1', 'queue', %s)"
                             " RETURNING id", (camera, Jsonb([[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]))).fetchone()["id"]
        counter = conn.execute("INSERT INTO counters (site_id, number, department, officer, camera_id, staff_zone_id,"
                               " customer_zone_id) VALUES (%s, 1, 'Tư pháp', 'Nguyễn Văn A', %s, %s, %s) RETURNING id",
                               (site, camera, staff, customer)).fetchone()["id"]
        out.sites.append(site)
        out.cameras.append(camera)
        out.zones += [staff, customer, queue]
        out.counters.append(counter)
        out.events.append(insert_event(conn, site, camera, when=now - timedelta(hours=1)))
        out.events.append(insert_event(conn, site, camera, type="officer_absent", severity="medium",
                                       counter_id=counter, when=now))
        out.events.append(insert_event(conn, site, camera, type="long_wait", severity="low", counter_id=counter,
                                       when=now - timedelta(days=1)))
    return out


def sse_messages(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event name, data) of each Server-Sent Event; comments (pings) skipped."""
    name, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            yield name, data
            name, data = "message", ""
