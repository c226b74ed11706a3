"""Keeping the time series tidy: rollup refresh, compression and retention, by the engine's own means.

TimescaleDB: policies (background jobs) set from the settings by ``apply_policies``; an engine without
background workers runs them with ``CALL run_job(id)`` (``run_policies``). Plain PostgreSQL: the writer
calls ``refresh_rollups`` and ``apply_retention`` on a schedule (``Maintenance``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import tuple_row

from store.migrate import Flavor, current_flavor
from vigil.settings import StoreSettings

log = logging.getLogger(__name__)

RAW_TABLES = ("observations", "camera_health")
EVENT_TABLES = ("events", "counter_sessions", "ticket_events", "ratings")
HOURLY = ("observation_hourly", "counter_session_hourly", "camera_health_hourly")
DAILY = ("observation_daily", "counter_session_daily")
RETENTION_EVERY_S = 3600.0
BRIN_INDEXES = ["observations_time_brin", "camera_health_time_brin", "counter_sessions_time_brin"]


def _scalar(conn: psycopg.Connection, query: str, params: tuple = ()) -> object:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        row = cur.fetchone()
        return row[0] if row else None


def apply_policies(conn: psycopg.Connection, settings: StoreSettings) -> list[int]:
    """TimescaleDB: (re)create the compression, retention and refresh policies; return their job ids.

    A no-op returning [] on plain PostgreSQL. Idempotent: existing policies are replaced.
    """
    if current_flavor(conn) != "timescale":
        return []
    jobs: list[int] = []
    raw_keep = timedelta(days=settings.retention_days)
    events_keep = timedelta(days=settings.event_retention_days)
    refresh_every = timedelta(seconds=settings.rollup_refresh_interval_s)
    for table in RAW_TABLES:
        conn.execute("SELECT remove_compression_policy(%s, if_exists => true)", (table,))
        jobs.append(int(_scalar(conn, "SELECT add_compression_policy(%s, %s::interval)",  # type: ignore[arg-type]
                                (table, timedelta(days=settings.compress_after_days)))))
    for table, keep in [(t, raw_keep) for t in RAW_TABLES] + [(t, events_keep) for t in EVENT_TABLES]:
        conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
        jobs.append(int(_scalar(conn, "SELECT add_retention_policy(%s, %s::interval)", (table, keep))))  # type: ignore[arg-type]
    for view in HOURLY:
        conn.execute("SELECT remove_continuous_aggregate_policy(%s, if_exists => true)", (view,))
        jobs.append(int(_scalar(conn, "SELECT add_continuous_aggregate_policy(%s, start_offset => %s::interval,"  # type: ignore[arg-type]
                                " end_offset => NULL, schedule_interval => %s::interval)",
                                (view, timedelta(days=3), refresh_every))))
    for view in DAILY:
        conn.execute("SELECT remove_continuous_aggregate_policy(%s, if_exists => true)", (view,))
        jobs.append(int(_scalar(conn, "SELECT add_continuous_aggregate_policy(%s, start_offset => %s::interval,"  # type: ignore[arg-type]
                                " end_offset => NULL, schedule_interval => %s::interval)",
                                (view, timedelta(days=7), refresh_every))))
    return jobs


def policy_jobs(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    """(job id, policy kind, table or view) of every TimescaleDB policy, refreshes of hourly views first."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT job_id, proc_name, hypertable_name FROM timescaledb_information.jobs"
                    " WHERE proc_name LIKE 'policy_%' AND hypertable_name IS NOT NULL"
                    " ORDER BY (hypertable_name LIKE '%daily'), job_id")
        return [(int(r[0]), str(r[1]), str(r[2])) for r in cur.fetchall()]


def run_policies(conn: psycopg.Connection, kinds: tuple[str, ...] = ("policy_refresh_continuous_aggregate",)) -> int:
    """Run TimescaleDB policy jobs now with ``CALL run_job`` (for engines without background workers)."""
    count = 0
    for job_id, kind, _ in policy_jobs(conn):
        if kind in kinds:
            conn.execute("CALL run_job(%s)", (job_id,))
            count += 1
    return count


def refresh_rollups(conn: psycopg.Connection, flavor: Flavor | None = None, dirty_from: datetime | None = None,
                    upto: datetime | None = None) -> None:
    """Bring every rollup up to date with the raw rows (both flavours); ``conn`` must be autocommit."""
    flavor = flavor or current_flavor(conn)
    if flavor == "timescale":
        for view in HOURLY + DAILY:
            conn.execute("CALL refresh_continuous_aggregate(%s, %s, %s)", (view, dirty_from, upto))
    else:
        # The live halves of the views find the rows after the watermark through BRIN: summarize first.
        conn.execute("SELECT brin_summarize_new_values(i) FROM unnest(%s::regclass[]) AS i", (BRIN_INDEXES,))
        conn.execute("SELECT vigil_refresh_rollups(%s, coalesce(%s, now()))", (dirty_from, upto))


def apply_retention(conn: psycopg.Connection, settings: StoreSettings) -> int:
    """Plain PostgreSQL: delete rows past their retention; return how many went."""
    return int(_scalar(conn, "SELECT vigil_apply_retention(%s::interval, %s::interval)",  # type: ignore[arg-type]
                       (timedelta(days=settings.retention_days), timedelta(days=settings.event_retention_days))))


class Maintenance:
    """The plain flavour's schedule, run by a writer thread between batches (no threads of its own)."""

    def __init__(self, settings: StoreSettings, flavor: Flavor) -> None:
        self.settings = settings
        self.flavor = flavor
        self.dirty_from: datetime | None = None
        self._next_refresh = time.monotonic() + settings.rollup_refresh_interval_s
        self._next_retention = time.monotonic() + 60.0

    def note_written(self, earliest: datetime) -> None:
        if self.dirty_from is None or earliest < self.dirty_from:
            self.dirty_from = earliest

    def due(self) -> bool:
        now = time.monotonic()
        return self.flavor == "plain" and (now >= self._next_refresh or now >= self._next_retention)

    def run(self, conn: psycopg.Connection) -> None:
        now = time.monotonic()
        if now >= self._next_refresh:
            dirty, self.dirty_from = self.dirty_from, None
            try:
                refresh_rollups(conn, self.flavor, dirty)
            except psycopg.Error:
                self.note_written(dirty) if dirty else None
                raise
            self._next_refresh = now + self.settings.rollup_refresh_interval_s
        if now >= self._next_retention:
            removed = apply_retention(conn, self.settings)
            if removed:
                log.info("retention removed %d rows", removed)
            self._next_retention = now + RETENTION_EVERY_S
