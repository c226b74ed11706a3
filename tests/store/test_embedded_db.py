"""The embedded cluster and the migrations, against real PostgreSQL."""

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from store.db import connect
from store.embedded import EmbeddedPostgres, EmbeddedPostgresError
from store.migrate import available_migrations, migrate
from tests.support.net import free_port
from vigil.cli import app

TIME_SERIES = ["observations", "events", "counter_sessions", "camera_health", "ticket_events", "ratings"]
CORE = ["sites", "cameras", "zones", "counters", "users", "audit_log"]


def test_migrations_from_empty_then_rerun_is_a_no_op(pg_cluster: EmbeddedPostgres) -> None:
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE migrate_twice")
    with connect(pg_cluster.admin_url("migrate_twice")) as conn:
        first = migrate(conn)
        assert [m.version for m in first] == [m.version for m in available_migrations("plain")]
        assert migrate(conn) == []
        tables = {r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert set(CORE + TIME_SERIES) <= tables
        recorded = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"]
        assert recorded == len(first)


def test_cli_start_status_migrate_stop(cluster_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(cluster_dir / "data"))
    monkeypatch.setenv("VIGIL_DATABASE__EMBEDDED_PORT", str(free_port()))
    runner = CliRunner()
    try:
        started = runner.invoke(app, ["db", "start"])
        assert started.exit_code == 0, started.output
        assert "running: postgresql://" in started.output
        assert "empty (run `vigil db migrate`)" in runner.invoke(app, ["db", "status"]).output
        migrated = runner.invoke(app, ["db", "migrate"])
        assert migrated.exit_code == 0 and "0001_core" in migrated.output
        assert "up to date" in runner.invoke(app, ["db", "migrate"]).output
        assert "version 0" in runner.invoke(app, ["db", "status"]).output
    finally:
        assert runner.invoke(app, ["db", "stop"]).exit_code == 0
    stopped = runner.invoke(app, ["db", "status"])
    assert stopped.exit_code == 4 and "stopped" in stopped.output


def test_a_data_folder_postgres_cannot_reach_is_named(tmp_path: Path) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("only root hands the cluster to the 'postgres' user")
    cluster = EmbeddedPostgres(tmp_path / "data", port=free_port())  # pytest's tmp is private to root
    with pytest.raises(EmbeddedPostgresError, match="cannot reach"):
        cluster.start()


def test_unreachable_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/x")
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 4
    assert "database unreachable" in result.output
    assert "Traceback" not in result.output
