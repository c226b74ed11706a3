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

from core.settings import StoreSettings
from store.migrate import Flavor, current_flavor

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


def _ensure(conn: psycopg.Connection, proc: str, relation: str, config_key: str, value: timedelta,
            remove: str, add: str, add_params: tuple, schedule: timedelta | None = None) -> int:
    """The job id of the wanted policy, replacing one with other settings; unchanged ones are kept."""
    same = _scalar(conn, "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s"
                         " AND hypertable_name = %s AND (config->>%s)::interval = %s::interval"
                         " AND (%s::interval IS NULL OR schedule_interval = %s::interval)",
                   (proc, relation, config_key, value, schedule, schedule))
    if same is not None:
        return int(same)  # type: ignore[arg-type]
    conn.execute(f"SELECT {remove}(%s, if_exists => true)", (relation,))  # type: ignore[arg-type]
    return int(_scalar(conn, f"SELECT {add}", add_params))  # type: ignore[arg-type]


def apply_policies(conn: psycopg.Connection, settings: StoreSettings) -> list[int]:
    """TimescaleDB: make the compression, retention and refresh policies match the settings; return the
    job ids. Policies already as wanted are left alone (several writers may start at once: a lock
    serializes them). A no-op returning [] on plain PostgreSQL."""
    if current_flavor(conn) != "timescale":
        return []
    raw_keep = timedelta(days=settings.retention_days)
    events_keep = timedelta(days=settings.event_retention_days)
    compress_after = timedelta(days=settings.compress_after_days)
    every = timedelta(seconds=settings.rollup_refresh_interval_s)
    jobs: list[int] = []
    conn.execute("SELECT pg_advisory_lock(hashtext('vigil_apply_policies'))")
    try:
        for table in RAW_TABLES:
            jobs.append(_ensure(conn, "policy_compression", table, "compress_after", compress_after,
                                "remove_compression_policy", "add_compression_policy(%s, %s::interval)",
                                (table, compress_after)))
        for table, keep in [(t, raw_keep) for t in RAW_TABLES] + [(t, events_keep) for t in EVENT_TABLES]:
            jobs.append(_ensure(conn, "policy_retention", table, "drop_after", keep, "remove_retention_policy",
                                "add_retention_policy(%s, %s::interval)", (table, keep)))
        for views, window in ((HOURLY, timedelta(days=3)), (DAILY, timedelta(days=7))):
            for view in views:
                jobs.append(_ensure(
                    conn, "policy_refresh_continuous_aggregate", view, "start_offset", window,
                    "remove_continuous_aggregate_policy",
                    "add_continuous_aggregate_policy(%s, start_offset => %s::interval, end_offset => NULL,"
                    " schedule_interval => %s::interval)", (view, window, every), schedule=every))
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext('vigil_apply_policies'))")
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
            # The window's arguments are "any" to TimescaleDB: typed here, or a NULL (all time) cannot be bound.
            conn.execute("CALL refresh_continuous_aggregate(%s, %s::timestamptz, %s::timestamptz)",
                         (view, dirty_from, upto))
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
