"""The embedded cluster lets in only who holds its password: not another OS user, not a guess, not the socket.

Each test runs a real cluster of its own (the checks stop and reconfigure it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from store.embedded import SERVICE_USER, EmbeddedPostgres
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]


def _psql_as(user: str, cluster: EmbeddedPostgres, host: str) -> subprocess.CompletedProcess[str]:
    """psql as another OS user, without a password (-w: never prompt)."""
    return subprocess.run(["runuser", "-u", user, "--", str(cluster.bin / "psql"), "-w", "-h", host,
                           "-p", str(cluster.port), "-U", SERVICE_USER, "-At", "-c", "SELECT 'in'", "postgres"],
                          capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"]})


def _without_password(cluster: EmbeddedPostgres, **where: object) -> psycopg.Connection:
    target = {"host": "127.0.0.1", "port": cluster.port, "dbname": "postgres", **where}
    return psycopg.connect(user=SERVICE_USER, passfile="/nonexistent", connect_timeout=5,
                           **target)  # type: ignore[arg-type]


def _assert_locked(cluster: EmbeddedPostgres, restarted: bool = True) -> None:
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        _without_password(cluster).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _without_password(cluster, password="postgres").close()
    if os.geteuid() == 0:  # root may enter any folder: only another user shows what the socket allows
        tcp = _psql_as("nobody", cluster, "127.0.0.1")
        assert tcp.returncode != 0 and "in" not in tcp.stdout, tcp.stdout
        assert "no password supplied" in tcp.stderr
        socket = _psql_as("nobody", cluster, str(cluster.socket_dir))
        assert socket.returncode != 0 and "Permission denied" in socket.stderr, socket.stderr
        stolen = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(cluster.passfile)],
                                capture_output=True, text=True, timeout=10)
        assert stolen.returncode != 0 and stolen.stdout == ""
    else:
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            _without_password(cluster, host=str(cluster.socket_dir)).close()
    mode = cluster.passfile.stat()
    assert (mode.st_mode & 0o777, mode.st_uid) == (0o600, os.geteuid())
    folder = cluster.socket_dir.stat()
    owner = subprocess.run(["id", "-u", SERVICE_USER], capture_output=True, text=True).stdout.strip() \
        if os.geteuid() == 0 else str(os.geteuid())
    assert (folder.st_mode & 0o777, str(folder.st_uid)) == (0o700, owner)
    with psycopg.connect(cluster.admin_url(), autocommit=True) as conn:
        if restarted:  # a server upgraded while running keeps its socket's mode until its next start
            assert conn.execute("SHOW unix_socket_permissions").fetchone()[0] == "0700"
        assert conn.execute("SHOW password_encryption").fetchone()[0] == "scram-sha-256"
        rules = conn.execute("SELECT DISTINCT auth_method FROM pg_hba_file_rules").fetchall()
        assert rules == [("scram-sha-256",)]


def test_a_new_cluster_asks_every_connection_for_its_password(cluster_dir: Path) -> None:
    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    cluster.start()
    try:
        _assert_locked(cluster)
        with psycopg.connect(cluster.url) as conn, psycopg.connect(cluster.socket_url()) as by_socket:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "vigil"
            assert by_socket.execute("SELECT 1").fetchone()[0] == 1
        secret = cluster.passfile.read_text().strip().rsplit(":", 1)[1]
        assert len(secret) >= 32 and secret not in cluster.url
        assert not list(cluster.data_dir.glob(".initdb*"))  # initdb's copy of the password is gone
        assert secret not in cluster.logfile.read_text()
    finally:
        cluster.stop(mode="immediate")


def _old_trust_cluster(cluster: EmbeddedPostgres, rows: int) -> None:
    """A cluster as the previous vigil made it: initdb -A trust, a socket folder anyone may enter."""
    as_owner = ["runuser", "-u", SERVICE_USER, "--"] if os.geteuid() == 0 else []
    cluster.socket_dir.mkdir(parents=True)
    cluster.socket_dir.chmod(0o755)
    if as_owner:
        subprocess.run(["chown", "-R", SERVICE_USER, str(cluster.data_dir)], check=True)
    subprocess.run([*as_owner, str(cluster.bin / "initdb"), "-D", str(cluster.pgdata), "-U", SERVICE_USER,
                    "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    options = f"-p {cluster.port} -k {cluster.socket_dir} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_owner, str(cluster.bin / "pg_ctl"), "-D", str(cluster.pgdata), "-l", str(cluster.logfile),
                    "-w", "-o", options, "start"], check=True, capture_output=True)
    with _without_password(cluster) as conn:  # trust: no password needed (the hole being closed)
        conn.autocommit = True
        conn.execute("CREATE DATABASE vigil")
    with _without_password(cluster, dbname="vigil") as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept SELECT generate_series(1, %s)", (rows,))


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "still-running"])
def test_a_trust_cluster_from_an_older_vigil_gets_a_password_and_keeps_its_rows(cluster_dir: Path,
                                                                               running: bool) -> None:
    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    try:
        _old_trust_cluster(cluster, rows=250)
        if not running:
            cluster.stop()
        cluster.start()
        _assert_locked(cluster, restarted=not running)
        with psycopg.connect(cluster.url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 250
        cluster.stop()
        cluster.start()  # a second start finds nothing to upgrade and keeps the same password
        _assert_locked(cluster)
        with psycopg.connect(cluster.url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 250
    finally:
        cluster.stop(mode="immediate")


def test_vigil_db_psql_signs_in_and_shows_no_secret(cluster_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VIGIL_DATA_DIR": str(cluster_dir / "data"),
           "VIGIL_DATABASE__EMBEDDED_PORT": str(free_port())}
    env.pop("DATABASE_URL", None)

    def vigil(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vigil", *args], cwd=cluster_dir, env=env,
                              stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)

    started = vigil("db", "start")
    try:
        assert started.returncode == 0, started.stderr
        asked = vigil("db", "psql", "-At", "-c", "SELECT current_user || '@' || current_database()")
        assert asked.returncode == 0, asked.stderr
        assert asked.stdout.strip() == "postgres@vigil"
        shown = [started, asked, vigil("db", "status"), vigil("settings", "show")]
    finally:
        stopped = vigil("db", "stop")
    assert stopped.returncode == 0, stopped.stderr
    secret = (cluster_dir / "data" / "db" / "pgpass").read_text().strip().rsplit(":", 1)[1]
    for run in shown:
        assert secret not in run.stdout + run.stderr
