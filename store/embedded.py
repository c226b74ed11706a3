"""A private PostgreSQL cluster in the data folder, run from the system's PostgreSQL binaries.

Used when no ``DATABASE_URL`` is given (one machine, the demo, tests). As root, initdb refuses to run,
so the cluster is owned by and run as the ``postgres`` user.

Every connection, over TCP or the Unix socket, must give the password (SCRAM): a generated secret kept in
``DATA_DIR/db/pgpass`` (libpq's password-file format, mode 0600, owned by whoever runs vigil). The URL names
that file (``?passfile=``), never the secret itself, so URLs can be shown and logged. The socket directory
is private to the cluster's owner. A cluster created by an older vigil with ``trust`` is switched to
passwords in place on start, keeping its data.
"""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

PG_ROOTS = (Path("/usr/lib/postgresql"),)
SERVICE_USER = "postgres"
DB_NAME = "vigil"
PASSWORD_FILE = "pgpass"
# What every cluster's pg_hba.conf says: a password for every user, database and address (no replication:
# max_wal_senders is 0). listen_addresses keeps TCP on loopback.
HBA_SCRAM = ("# vigil: every connection gives the password (SCRAM); the socket directory is private\n"
             "local all all scram-sha-256\n"
             "host all all 127.0.0.1/32 scram-sha-256\n"
             "host all all ::1/128 scram-sha-256\n")
# Only while an older trust cluster gets its password: the socket (in a 0700 directory) lets its owner in.
HBA_SETTING_PASSWORD = HBA_SCRAM.replace("local all all scram-sha-256", "local all all trust")


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
        self.passfile = self.data_dir / PASSWORD_FILE
        self.bin = find_pg_bin()

    @property
    def url(self) -> str:
        """The ``vigil`` database; the password comes from ``passfile`` (the URL holds no secret)."""
        return self.admin_url(DB_NAME)

    def admin_url(self, database: str = "postgres") -> str:
        return (f"postgresql://{SERVICE_USER}@{self.host}:{self.port}/{database}"
                f"?passfile={quote(str(self.passfile), safe='/')}")

    def socket_url(self, database: str = DB_NAME) -> str:
        """The same database through the Unix socket (for processes inside a network namespace)."""
        return (f"postgresql://{SERVICE_USER}@/{database}?host={quote(str(self.socket_dir), safe='/')}"
                f"&port={self.port}&passfile={quote(str(self.passfile), safe='/')}")

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

    def _owner_ids(self) -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.geteuid(), os.getegid()
        owner = pwd.getpwnam(SERVICE_USER)
        return owner.pw_uid, owner.pw_gid

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o700)  # only the cluster's owner (and root) may reach the socket
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
        password = self._password(create=True)
        # initdb reads the password from a file only the cluster's owner can read, removed right after.
        pwfile = self.data_dir / ".initdb-password"
        _write_private(pwfile, password + "\n", owner=self._owner_ids())
        try:
            result = self._run([str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", SERVICE_USER,
                                "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", f"--pwfile={pwfile}",
                                "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed for {self.pgdata}:\n{result.stderr.strip()}")
        self._write_hba(HBA_SCRAM)
        with (self.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            # Tuned for an analytics box: the writer batches, so a lost last second is re-sent from spool.
            conf.write("\n# vigil embedded defaults\nsynchronous_commit = off\nmax_connections = 200\n"
                       "shared_buffers = 256MB\nwal_level = minimal\nmax_wal_senders = 0\n"
                       "shared_preload_libraries = ''\ntimezone = 'UTC'\nunix_socket_permissions = 0700\n")
        log.info("created PostgreSQL cluster in %s (%.1f s)", self.pgdata, time.monotonic() - started)

    def running(self) -> bool:
        if not self.initialized():
            return False
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "status"], timeout=30)
        return result.returncode == 0

    def start(self, wait_s: float = 60) -> None:
        """Create if needed, start if not running, and make sure the ``vigil`` database exists.

        A cluster that still lets anyone in without a password (``trust``, from an older vigil) or whose
        password file is gone gets a new password first; its data stays."""
        self.init()  # also prepares the folders (a private socket directory)
        if self.passfile.exists() and self.passfile.stat().st_mode & 0o077:
            self.passfile.chmod(0o600)  # a copied data folder: libpq ignores a password file others can read
        needs_password = not self._password_enforced()
        if needs_password:
            self._write_hba(HBA_SETTING_PASSWORD)
            if self.running():
                self._pg_ctl("reload")
        if not self.running():
            self._start_server(wait_s)
        if needs_password:
            self._set_password()
        self._ensure_database()

    def _start_server(self, wait_s: float) -> None:
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host}"
                   " -c unix_socket_permissions=0700")
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.logfile),
                            "-w", "-t", str(int(wait_s)), "-o", options, "start"], timeout=wait_s + 10)
        if result.returncode != 0:
            tail = self.log_tail()
            raise EmbeddedPostgresError(
                f"PostgreSQL did not start on {self.host}:{self.port}: {result.stderr.strip()}\n{tail}"
            )
        log.info("PostgreSQL running on %s:%s", self.host, self.port)

    def _pg_ctl(self, action: str) -> None:
        result = self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), action], timeout=30)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"pg_ctl {action} failed: {result.stderr.strip()}")

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

    # -- the password ---------------------------------------------------------------------------------
    def _password(self, *, create: bool = False) -> str:
        """The cluster's password from ``passfile`` (made on first use when ``create``)."""
        if not self.passfile.exists():
            if not create:
                raise EmbeddedPostgresError(f"the cluster's password file {self.passfile} is missing")
            _write_private(self.passfile, f"*:*:*:{SERVICE_USER}:{secrets.token_urlsafe(32)}\n")
        line = self.passfile.read_text(encoding="utf-8").strip().splitlines()[0]
        return line.rsplit(":", 1)[1]

    def _password_enforced(self) -> bool:
        """Whether every pg_hba.conf rule asks for the password and the password file is there."""
        rules = [line.split() for line in (self.pgdata / "pg_hba.conf").read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        return self.passfile.exists() and bool(rules) and all(rule[-1] == "scram-sha-256" for rule in rules)

    def _write_hba(self, text: str) -> None:
        uid, gid = self._owner_ids()
        _write_private(self.pgdata / "pg_hba.conf", text, owner=(uid, gid))

    def _set_password(self) -> None:
        """Give the superuser the password through the private socket, then ask for it everywhere."""
        import psycopg
        from psycopg import sql

        password = self._password(create=True)
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVICE_USER, dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            # Only the SCRAM verifier travels: the secret itself never reaches the server or its log.
            verifier = conn.pgconn.encrypt_password(password.encode(), SERVICE_USER.encode(), b"scram-sha-256")
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SERVICE_USER),
                                                                    sql.Literal(verifier.decode())))
            self._write_hba(HBA_SCRAM)
            conn.execute("SELECT pg_reload_conf()")
        log.warning("the PostgreSQL cluster in %s now asks every connection for its password (%s)",
                    self.pgdata, self.passfile)

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url(), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def psql_command(self) -> tuple[list[str], dict[str, str]]:
        """psql's argv and the environment variables it needs (the password file, never the secret)."""
        return ([str(self.bin / "psql"), "-h", self.host, "-p", str(self.port), "-U", SERVICE_USER, DB_NAME],
                {"PGPASSFILE": str(self.passfile)})


def _write_private(path: Path, text: str, owner: tuple[int, int] | None = None) -> None:
    """Write ``text`` to ``path`` atomically, mode 0600 from the start (owned by ``owner`` when given)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if owner is not None and os.geteuid() == 0:
            os.chown(temporary, *owner)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
