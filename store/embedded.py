"""A private PostgreSQL cluster in the data folder, run from the system's PostgreSQL binaries.

Used when no ``DATABASE_URL`` is given (one machine, the demo, tests). As root, initdb refuses to run,
so the cluster is owned by and run as the ``postgres`` user.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PG_ROOTS = (Path("/usr/lib/postgresql"),)
SERVICE_USER = "postgres"
DB_NAME = "vigil"


class EmbeddedPostgresError(RuntimeError):
    """The embedded cluster could not be created, started or stopped; the message says why."""


def find_pg_bin() -> Path:
    """The newest PostgreSQL ``bin`` folder installed on the system."""
    for root in PG_ROOTS:
        if root.is_dir():
            versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
                              key=lambda p: float(p.name) if p.name.replace(".", "").isdigit() else 0)
            if versions:
                return versions[-1] / "bin"
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise EmbeddedPostgresError(
        "No PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH). "
        "Run `make setup` (installs postgresql-15) or set DATABASE_URL to an existing server."
    )


@dataclass
class EmbeddedPostgres:
    """One cluster: ``data_dir`` holds PGDATA, the socket and the log."""

    data_dir: Path
    port: int = 55432
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir / "pgsocket"
        self.logfile = self.data_dir / "postgresql.log"
        self.bin = find_pg_bin()

    @property
    def url(self) -> str:
        return f"postgresql://{SERVICE_USER}@{self.host}:{self.port}/{DB_NAME}"

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVICE_USER}@{self.host}:{self.port}/{database}"

    # -- running commands as the cluster's owner -------------------------------------------------
    def _as_owner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError as exc:
            raise EmbeddedPostgresError(
                f"Running as root but there is no '{SERVICE_USER}' user to own the cluster; "
                "install postgresql-15 (make setup) or run as an ordinary user."
            ) from exc
        return ["runuser", "-u", SERVICE_USER, "--"]

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._as_owner() + args, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVICE_USER)
            for path in (self.socket_dir, self.pgdata if self.pgdata.exists() else None):
                if path is not None:
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            if self.logfile.exists():
                os.chown(self.logfile, owner.pw_uid, owner.pw_gid)
            # The owner must be able to reach the data folder to create pgdata inside it.
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
            reach = self._run(["test", "-w", str(self.data_dir)], timeout=10)
            if reach.returncode != 0:
                raise EmbeddedPostgresError(
                    f"the '{SERVICE_USER}' user cannot reach {self.data_dir}: a parent folder is private "
                    "to root. Choose a data_dir whose parents are traversable (chmod o+x) or set DATABASE_URL."
                )

    # -- lifecycle --------------------------------------------------------------------------------
    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster once (idempotent)."""
        self._prepare_dirs()
        if self.initialized():
            return
        started = time.monotonic()
        result = self._run([str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", SERVICE_USER, "-A", "trust",
                            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], timeout=120)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed for {self.pgdata}:\n{result.stderr.strip()}")
        with (self.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            # Tuned for an analytics box: the writer batches, so a lost last second is re-sent from spool.
            conf.write("\n# vigil embedded defaults\nsynchronous_commit = off\nmax_connections = 200\n"
                       "shared_buffers = 256MB\nwal_level = minimal\nmax_wal_senders = 0\n"
                       "shared_preload_libraries = ''\ntimezone = 'UTC'\n")
        log.info("created PostgreSQL cluster in %s (%.1f s)", self.pgdata, time.monotonic() - started)

    def running(self) -> bool:
        if not self.initialized():
            return False
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "status"], timeout=30)
        return result.returncode == 0

    def start(self, wait_s: float = 60) -> None:
        """Create if needed, start if not running, and make sure the ``vigil`` database exists."""
        self.init()
        if not self.running():
            self._prepare_dirs()
            options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host}"
            result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.logfile),
                                "-w", "-t", str(int(wait_s)), "-o", options, "start"], timeout=wait_s + 10)
            if result.returncode != 0:
                tail = self.log_tail()
                raise EmbeddedPostgresError(
                    f"PostgreSQL did not start on {self.host}:{self.port}: {result.stderr.strip()}\n{tail}"
                )
            log.info("PostgreSQL running on %s:%s", self.host, self.port)
        self._ensure_database()

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-m", mode, "-w", "stop"],
                           timeout=60)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url(), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def psql_command(self) -> list[str]:
        return [str(self.bin / "psql"), "-h", self.host, "-p", str(self.port), "-U", SERVICE_USER, DB_NAME]
