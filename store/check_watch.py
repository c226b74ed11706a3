"""A time limit on the pool's connection check, for a database that hangs instead of going away.

A stopped server refuses connections and closes the open ones, so a check fails at once. A hung one (its host
paused, its storage stalled, the process frozen) keeps the sockets open and its kernel keeps acknowledging
packets, so no TCP timeout fires: ``SELECT`` on a lent connection waited for as long as the hang lasted, and
every request behind it with it. ``CheckWatch`` gives each check a deadline; one thread for all of them shuts
down the socket of a check past its deadline, which wakes the waiting call with an error, so the request gets
its 503 (``database_unavailable``) after ``database.pool_timeout_s`` like with a stopped server.

Queries already running when the server hangs are not cut: a report may rightly take longer than a check.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
from dataclasses import dataclass
from time import monotonic

import psycopg
from psycopg_pool import ConnectionPool

log = logging.getLogger("vigil.store")


class CheckTimeout(psycopg.OperationalError):
    """A connection check cut at its deadline: the server hangs."""


@dataclass
class _Check:
    conn: psycopg.Connection
    deadline: float
    timeout_s: float
    cut: bool = False


class CheckWatch:
    """The deadlines of the checks in progress, and the thread that enforces them (started on first use)."""

    def __init__(self) -> None:
        self._reset()
        # A forked child has no watch thread, and the lock may have been held by it: start afresh there.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Condition()
        self._open: dict[int, _Check] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    def check(self, conn: psycopg.Connection, timeout_s: float) -> None:
        """The pool's own check within ``timeout_s``: ``CheckTimeout`` when cut, the driver's error when it fails."""
        entry = _Check(conn, monotonic() + timeout_s, timeout_s)
        with self._lock:
            key = next(self._keys)
            earliest = min((e.deadline for e in self._open.values()), default=None)
            self._open[key] = entry
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="vigil-db-check-watch", daemon=True)
                self._thread.start()
            if earliest is None or entry.deadline < earliest:
                self._lock.notify()  # the watch sleeps until the earliest deadline: this one is sooner
        failure: psycopg.Error | None = None
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error as exc:
            failure = exc
        with self._lock:  # from here on the watch leaves this check alone
            self._open.pop(key, None)
        if entry.cut:  # also when the answer came just as it was cut: the socket is gone all the same
            raise CheckTimeout(f"the database did not answer a connection check in {timeout_s:g} s") from failure
        if failure is not None:
            raise failure

    def _run(self) -> None:
        with self._lock:
            while True:
                now = monotonic()
                for key, entry in [(k, e) for k, e in self._open.items() if e.deadline <= now]:
                    del self._open[key]
                    entry.cut = True
                    _shut(entry.conn)
                    log.warning("the database did not answer a connection check in %g s: connection dropped",
                                entry.timeout_s)
                upcoming = min((e.deadline for e in self._open.values()), default=None)
                self._lock.wait(None if upcoming is None else max(0.01, upcoming - now))


def _shut(conn: psycopg.Connection) -> None:
    """Shut the connection's socket down under the call waiting on it (the call then fails at once)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
    except (OSError, psycopg.Error):
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


WATCH = CheckWatch()
