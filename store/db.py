"""Where the database is and how to connect: the external server or the embedded cluster."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from core import media
from core.settings import Settings
from store.check_watch import WATCH, CheckTimeout
from store.embedded import EmbeddedPostgres


def embedded_cluster(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(media.database_dir(settings.data_dir), port=settings.database.embedded_port)


def resolve_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """The URL to use: ``DATABASE_URL``/``database.url`` when set, else the embedded cluster (started)."""
    if settings.database_url:
        return settings.database_url
    cluster = embedded_cluster(settings)
    if start_embedded:
        cluster.start()
    return cluster.url


def connect(url: str, *, autocommit: bool = True, timeout_s: float = 5.0) -> psycopg.Connection:
    """One connection with dict rows; the caller closes it (use it as a context manager)."""
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, int(timeout_s)),
                           row_factory=dict_row)  # type: ignore[return-value]


def make_pool(url: str, *, min_size: int = 1, max_size: int = 8, name: str = "vigil", timeout_s: float = 30.0,
              connect_timeout_s: float = 5.0, statement_timeout_s: float = 0.0) -> ConnectionPool:
    """A connection pool with dict rows; open it with ``with make_pool(...) as pool``.

    ``statement_timeout_s`` > 0: the server cancels any statement of these connections running longer
    (``psycopg.errors.QueryCanceled``), waits for locks included.

    Each connection is checked before it is lent (a restarted server leaves dead ones in the pool), within
    ``timeout_s`` (a hung server is cut off, ``store.check_watch``). A borrower
    waits at most ``timeout_s``, then gets ``PoolTimeout``. Failed reconnections are given up after as long
    and tried again at the next loan, so the pool follows a database that comes back without a long backoff.
    """
    pool: ConnectionPool

    def check(conn: psycopg.Connection) -> None:
        try:
            WATCH.check(conn, timeout_s)  # within the borrower's wait: a hung server is cut (store/check_watch.py)
        except CheckTimeout:
            raise  # checking the idle ones would hang on each in turn; each fails its own check in time
        except psycopg.Error:
            pool.check()  # one dead means the server went away: drop every idle one now, not one per request
            raise

    def configure(conn: psycopg.Connection) -> None:  # a setting of the session: the URL's own options stay
        conn.execute(f"SET statement_timeout = {max(1, round(statement_timeout_s * 1000))}")

    kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row,
                              "connect_timeout": max(1, round(connect_timeout_s))}
    pool = ConnectionPool(url, min_size=min_size, max_size=max_size, name=name, open=False, check=check,
                          timeout=timeout_s, reconnect_timeout=max(1.0, timeout_s), kwargs=kwargs,
                          configure=configure if statement_timeout_s > 0 else None)
    return pool
