"""PostgreSQL fixtures: one throwaway cluster per test session, a fresh migrated database per test.

The schema is migrated once into a template database; each test gets ``CREATE DATABASE ... TEMPLATE``
(a file copy, ~50 ms), so tests never see each other's rows.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from store.db import connect
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from tests.support.net import free_port

TEMPLATE = "vigil_template"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL 15 cluster started for this test session on a free loopback port."""
    # Not under pytest's tmp folder: that is private to root and the cluster runs as 'postgres'.
    base = Path(tempfile.mkdtemp(prefix="vigil-test-pg-"))
    cluster = EmbeddedPostgres(base, port=free_port())
    cluster.start()
    with psycopg.connect(cluster.admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    with connect(cluster.admin_url(TEMPLATE)) as conn:
        migrate(conn)
    yield cluster
    cluster.stop(mode="immediate")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    """A folder the 'postgres' user can reach, for tests that run a cluster of their own."""
    base = Path(tempfile.mkdtemp(prefix="vigil-test-data-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def db_url(pg_cluster: EmbeddedPostgres) -> Iterator[str]:
    """URL of a fresh, migrated, empty database of its own."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield pg_cluster.admin_url(name)
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection (dict rows) to a fresh migrated database."""
    with connect(db_url) as conn:
        yield conn
