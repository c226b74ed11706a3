"""Versioned schema migrations: plain SQL files applied in order, each version recorded once.

``store/migrations/NNNN_name.sql`` applies on every server. A version may instead ship two flavours,
``NNNN_name.timescale.sql`` (used when the ``timescaledb`` extension is available) and
``NNNN_name.plain.sql`` (plain PostgreSQL): the same tables and views, built with each engine's tools.
Each file runs in its own transaction together with its row in ``schema_migrations``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg
from psycopg.rows import tuple_row

log = logging.getLogger(__name__)

Flavor = Literal["timescale", "plain"]
_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<flavor>timescale|plain))?\.sql$")


class MigrationError(RuntimeError):
    """A migration failed or the recorded history does not match the files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    flavor: Flavor | None
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def available_migrations(flavor: Flavor) -> list[Migration]:
    """The migrations for one flavour, in version order."""
    by_version: dict[int, Migration] = {}
    folder = resources.files("store") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        match = _NAME.match(entry.name)
        if not match:
            continue
        file_flavor = match["flavor"]
        if file_flavor is not None and file_flavor != flavor:
            continue
        version = int(match["version"])
        if version in by_version and by_version[version].flavor is None and file_flavor is None:
            raise MigrationError(f"two migrations share version {version:04d}")
        by_version[version] = Migration(version, match["name"], file_flavor, entry.read_text(encoding="utf-8"))
    return [by_version[v] for v in sorted(by_version)]


def _rows(conn: psycopg.Connection, sql: str, params: tuple = ()) -> list[tuple]:
    """Tuple rows whatever the connection's row factory is."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall()


def detect_flavor(conn: psycopg.Connection) -> Flavor:
    """TimescaleDB when its extension is installed or can be, else plain PostgreSQL."""
    rows = _rows(conn, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    return "timescale" if rows else "plain"


def current_flavor(conn: psycopg.Connection) -> Flavor | None:
    """The flavour the database was migrated with, or None for an empty database."""
    if not _has_history(conn):
        return None
    rows = _rows(conn, "SELECT value FROM schema_meta WHERE key = 'flavor'")
    return rows[0][0] if rows else None


def _has_history(conn: psycopg.Connection) -> bool:
    return bool(_rows(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0])


def migrate(conn: psycopg.Connection, flavor: Flavor | None = None) -> list[Migration]:
    """Apply every migration not yet recorded; return those applied (empty when up to date).

    ``conn`` must be in autocommit mode; each migration runs in its own transaction.
    """
    if not conn.autocommit:
        raise MigrationError("migrate() needs an autocommit connection")
    recorded_flavor = current_flavor(conn)
    flavor = flavor or recorded_flavor or detect_flavor(conn)
    if recorded_flavor and recorded_flavor != flavor:
        raise MigrationError(f"database was built for {recorded_flavor}, refusing to migrate it as {flavor}")
    if not _has_history(conn):
        with conn.transaction():
            conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " flavor text, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute("CREATE TABLE schema_meta (key text PRIMARY KEY, value text NOT NULL)")
            conn.execute("INSERT INTO schema_meta VALUES ('flavor', %s)", (flavor,))
    applied = dict(_rows(conn, "SELECT version, checksum FROM schema_migrations"))
    done: list[Migration] = []
    for migration in available_migrations(flavor):
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                log.warning("migration %04d_%s changed after it was applied (checksum differs)",
                            migration.version, migration.name)
            continue
        log.info("applying migration %04d_%s (%s)", migration.version, migration.name, flavor)
        try:
            with conn.transaction():
                conn.execute(migration.sql)  # type: ignore[arg-type]  # trusted files shipped with the code
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, flavor, checksum) VALUES (%s, %s, %s, %s)",
                    (migration.version, migration.name, migration.flavor, migration.checksum),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
        done.append(migration)
    return done
