"""What the vision workers tell the store about themselves: their writers' figures (``writer_stats``, one row a
worker, published every heartbeat), read back by the API's /metrics. Their camera leases are ``store.leases``."""

from __future__ import annotations

import psycopg

from store.metrics import WriterStats

_PUBLISH = """
INSERT INTO writer_stats (worker, updated_at, queue_rows, queue_capacity, spool_pending_rows,
                          rows_written, rows_spooled, rows_rejected, last_error)
VALUES (%s, now(), %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (worker) DO UPDATE SET updated_at = now(), queue_rows = EXCLUDED.queue_rows,
    queue_capacity = EXCLUDED.queue_capacity, spool_pending_rows = EXCLUDED.spool_pending_rows,
    rows_written = EXCLUDED.rows_written, rows_spooled = EXCLUDED.rows_spooled,
    rows_rejected = EXCLUDED.rows_rejected, last_error = EXCLUDED.last_error
"""


def publish_writer_stats(conn: psycopg.Connection, worker: str, stats: WriterStats) -> None:
    """Upsert ``worker``'s writer figures now."""
    conn.execute(_PUBLISH, (worker, stats.queue_rows, stats.queue_capacity, stats.spool_pending_rows,
                            sum(stats.rows_written.values()), stats.rows_spooled, stats.rows_rejected,
                            stats.last_error))


def writer_queues(conn: psycopg.Connection) -> dict[str, int]:
    """Rows waiting in each worker's writer queue, of the workers heard from in the last 5 minutes (none before
    the table exists)."""
    if not conn.execute("SELECT to_regclass('writer_stats') IS NOT NULL AS ok").fetchone()["ok"]:
        return {}
    return {row["worker"]: row["queue_rows"] for row in conn.execute(
        "SELECT worker, queue_rows FROM writer_stats WHERE updated_at > now() - interval '5 minutes'")}
