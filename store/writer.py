"""The batched writer: observations, events, health and counter sessions from many threads to the database.

Producers call ``write_*`` (thread-safe, never block on the database). Rows wait in a bounded memory queue;
writer threads take batches and write each with COPY (or a multi-row INSERT where COPY is unavailable)
under the tables' idempotent keys. When the database is unreachable, or the queue is full, batches go to
a disk spool (store/spool.py) and are replayed in order when the database answers again: nothing is
lost and nothing lands twice. Everything it does is counted in ``stats()`` and Prometheus metrics.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import psycopg
from prometheus_client import REGISTRY, CollectorRegistry

from core.settings import StoreSettings
from core.types import CameraHealth, CounterSession, Event, Observation
from store.errors import StoreInputError
from store.metrics import WriterCollector, WriterStats
from store.migrate import current_flavor
from store.policies import Maintenance, apply_policies
from store.sink import BatchSink
from store.spool import Spool
from store.tables import Row, encode_batch, event_row, health_row, observation_row, session_row

log = logging.getLogger(__name__)
TIME_COLUMN = {"observations": 0, "events": 1, "counter_sessions": 1, "camera_health": 0}
RETRY_MIN_S, RETRY_MAX_S = 0.25, 5.0
SITE_CACHE_RELOAD_S = 1.0


class StoreWriter:
    """Batched, spooling writer. Use as a context manager; ``close()`` flushes what it can."""

    def __init__(self, url: str, settings: StoreSettings, spool_dir: Path, *,
                 registry: CollectorRegistry | None = None, use_copy: bool | None = None,
                 threads: int | None = None, maintenance: bool = True, connect_timeout_s: float = 5.0) -> None:
        self.url = url
        self.settings = settings
        self.spool = Spool(Path(spool_dir), settings.spool_segment_rows)
        self.use_copy = use_copy
        self.threads = threads or settings.writer_threads
        self.connect_timeout_s = connect_timeout_s
        self._maintain = maintenance
        self._maintenance: Maintenance | None = None
        self._cond = threading.Condition()
        self._queues: dict[str, deque[list[Row]]] = {t: deque() for t in TIME_COLUMN}  # chunks of rows
        self._queue_rows: dict[str, int] = dict.fromkeys(TIME_COLUMN, 0)
        self._queued = 0
        self._in_flight = 0
        self._oldest_at: float | None = None
        self._flush_wanted = False
        self._stopping = False
        self._workers: list[threading.Thread] = []
        self._replay_lock = threading.Lock()
        self._retry_at = 0.0
        self._retry_delay = RETRY_MIN_S
        self._stats = WriterStats(queue_capacity=settings.writer_queue_max,
                                  rows_written=dict.fromkeys(TIME_COLUMN, 0))
        self._stats_lock = threading.Lock()
        self._known_sites: set[int] = set()
        self._unknown_sites: dict[int, float] = {}  # site id -> when it was last looked up in vain
        self._registry = REGISTRY if registry is None else registry
        self._collector = WriterCollector(self)
        self._collector_registered = True

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> StoreWriter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the writer threads (and register the metrics); policies are applied when reachable."""
        if self._workers:
            return
        try:
            with self._connect() as conn:
                flavor = current_flavor(conn)
                if flavor == "timescale" and self._maintain:
                    try:
                        apply_policies(conn, self.settings)
                    except psycopg.OperationalError:
                        raise
                    except psycopg.Error as exc:  # writing matters more than policy bookkeeping
                        log.warning("TimescaleDB policies not applied: %s", exc)
                if flavor and self._maintain:
                    self._maintenance = Maintenance(self.settings, flavor)
        except psycopg.OperationalError as exc:
            self._database_failed(exc)
        try:
            self._registry.register(self._collector)
        except ValueError:  # another live writer in this process already exports the same names
            log.warning("store writer metrics not registered: a writer in this process already exports them")
            self._collector_registered = False
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), name=f"store-writer-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def close(self, timeout: float = 30.0) -> bool:
        """Flush (up to ``timeout``), stop the threads and close the spool; True when all reached the database."""
        if not self._workers:
            self.spool.close()
            return self.spool.pending_rows == 0 and self._queued == 0
        done = self._drain(timeout, while_database_down=False)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.join(timeout=max(1.0, timeout))
        self._workers.clear()
        with self._cond:  # whatever is still in memory goes to disk: the next start replays it
            for table, chunks in self._queues.items():
                rows = [row for chunk in chunks for row in chunk]
                if rows:
                    self.spool.append(table, rows)
                    self._count(rows_spooled=len(rows))
                chunks.clear()
                self._queue_rows[table] = 0
            self._queued = 0
        self.spool.close()
        if self._collector_registered:
            with contextlib.suppress(KeyError):
                self._registry.unregister(self._collector)
        return done

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row written so far is committed (memory queue and spool empty)."""
        return self._drain(timeout, while_database_down=True)

    def _drain(self, timeout: float, while_database_down: bool) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_wanted = True
            self._cond.notify_all()
            while self._queued or self._in_flight or self.spool.pending_rows:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not while_database_down and not self._stats.database_up
                                      and not self._queued and not self._in_flight):
                    self._flush_wanted = False
                    return False
                self._cond.wait(min(remaining, 0.05))
                self._cond.notify_all()
            self._flush_wanted = False
        return True

    # -- producers -------------------------------------------------------------------------------------
    def write_observation(self, observation: Observation) -> None:
        self._enqueue("observations", [observation_row(observation)])

    def write_observations(self, observations: Iterable[Observation]) -> None:
        self._enqueue("observations", [observation_row(o) for o in observations])

    def write_event(self, event: Event) -> None:
        self.write_events([event])

    def write_events(self, events: Iterable[Event]) -> None:
        """Insert or update events by id (the rule-owned fields; people's status and assignee stay)."""
        events = list(events)
        for event in events:
            if event.site_id is not None:
                self._check_site(event.site_id)
        self._enqueue("events", [event_row(e) for e in events])

    def write_health(self, health: CameraHealth) -> None:
        self._enqueue("camera_health", [health_row(health)])

    def write_counter_session(self, session: CounterSession) -> None:
        self._enqueue("counter_sessions", [session_row(session)])

    def write_counter_sessions(self, sessions: Iterable[CounterSession]) -> None:
        self._enqueue("counter_sessions", [session_row(s) for s in sessions])

    def write_rows(self, table: str, rows: list[Row]) -> None:
        """Rows already in column order (store.tables), e.g. from a bulk loader or the benchmark."""
        if table not in TIME_COLUMN:
            raise StoreInputError("table", f"unknown time-series table {table!r}")
        self._enqueue(table, rows)

    def stats(self) -> WriterStats:
        with self._stats_lock:
            snapshot = WriterStats(**{**self._stats.__dict__, "rows_written": dict(self._stats.rows_written)})
        snapshot.queue_rows = self._queued
        snapshot.spool_pending_rows = self.spool.pending_rows
        return snapshot

    def _enqueue(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        with self._cond:
            if self._queued + len(rows) > self.settings.writer_queue_max:
                # Back-pressure: never block a camera pipeline; spill to disk and count it.
                self.spool.append(table, rows)
                self._count(rows_spooled=len(rows), rows_spilled=len(rows))
                self._cond.notify()
                return
            self._queues[table].append(rows)
            self._queue_rows[table] += len(rows)
            self._queued += len(rows)
            if self._oldest_at is None:
                self._oldest_at = time.monotonic()
            if self._queued >= self.settings.writer_batch_rows:
                self._cond.notify()

    def _check_site(self, site_id: int) -> None:
        if site_id in self._known_sites:
            return
        now = time.monotonic()
        if now - self._unknown_sites.get(site_id, -SITE_CACHE_RELOAD_S) >= SITE_CACHE_RELOAD_S:
            try:
                with self._connect() as conn:
                    self._known_sites = {int(r[0]) for r in conn.execute("SELECT id FROM sites").fetchall()}
            except psycopg.OperationalError:
                return  # cannot check now: accept it rather than lose it
            if site_id in self._known_sites:
                return
            self._unknown_sites[site_id] = now
        raise StoreInputError("event.site_id", f"unknown site {site_id}")

    # -- writer threads --------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout_s)),
                               prepare_threshold=None)

    def _take(self) -> tuple[str, list[Row]] | None:
        """Wait for a batch (full, old enough, or flush/close asked); None when it is time to stop."""
        interval = self.settings.writer_flush_interval_s
        with self._cond:
            while True:
                if self._queued and (self._queued >= self.settings.writer_batch_rows or self._flush_wanted
                                     or self._stopping or time.monotonic() - (self._oldest_at or 0) >= interval):
                    break
                if self._stopping:
                    return None
                if self.spool.pending_rows and time.monotonic() >= self._retry_at and not self._replay_lock.locked():
                    return "", []
                self._cond.wait(interval if self._queued == 0 else max(0.01, interval / 4))
            table = max(self._queue_rows, key=self._queue_rows.__getitem__)
            batch = self._pop(table)
            self._in_flight += 1
            self._oldest_at = time.monotonic() if self._queued else None
            return table, batch

    def _pop(self, table: str) -> list[Row]:
        """Up to one batch of the table's oldest rows (the caller holds the lock)."""
        chunks, want = self._queues[table], self.settings.writer_batch_rows
        batch: list[Row] = []
        while chunks and len(batch) < want:
            chunk = chunks.popleft()
            room = want - len(batch)
            if len(chunk) > room:
                chunks.appendleft(chunk[room:])
                chunk = chunk[:room]
            batch.extend(chunk)
        self._queue_rows[table] -= len(batch)
        self._queued -= len(batch)
        return batch

    def wait_for_room(self, timeout: float = 10.0) -> bool:
        """Block until the memory queue is at most half full (for bulk loaders that prefer to wait)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queued > self.settings.writer_queue_max // 2:
                if time.monotonic() >= deadline:
                    return False
                self._cond.wait(0.01)
        return True

    def _run(self, number: int) -> None:
        sink: BatchSink | None = None
        while True:
            taken = self._take()
            if taken is None:
                break
            table, rows = taken
            try:
                if self.spool.pending_rows and time.monotonic() >= self._retry_at:
                    sink = self._replay(sink)
                if rows:
                    sink = self._write(sink, table, rows)
                if number == 0 and self._maintenance and self._maintenance.due() and sink is not None:
                    self._maintenance.run(sink.conn)
            except psycopg.Error as exc:
                log.warning("store maintenance failed: %s", exc)
            except Exception:  # a bug must not stop the writer thread: log it and go on
                log.exception("store writer thread %d: unexpected error", number)
            finally:
                if rows:
                    with self._cond:
                        self._in_flight -= 1
                        self._cond.notify_all()
        if sink is not None:
            sink.conn.close()

    def _sink(self, sink: BatchSink | None) -> BatchSink:
        if sink is not None and not sink.conn.closed:
            return sink
        return BatchSink(self._connect(), self.use_copy)

    def _write(self, sink: BatchSink | None, table: str, rows: list[Row]) -> BatchSink | None:
        if self.spool.pending_rows or time.monotonic() < self._retry_at:
            self.spool.append(table, rows)  # keep order behind what is already spooled
            self._count(rows_spooled=len(rows))
            return sink
        try:
            sink = self._sink(sink)
            sink.write(table, rows)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._database_failed(exc)
            self.spool.append(table, rows)
            self._count(rows_spooled=len(rows))
            return _discard(sink)
        except (psycopg.Error, TypeError, ValueError) as exc:  # the rows themselves are at fault
            self._reject(table, rows, exc)
            return sink
        self._written(table, rows)
        return sink

    def _replay(self, sink: BatchSink | None) -> BatchSink | None:
        """Replay spooled segments oldest first; stop at the first sign the database is gone."""
        if not self._replay_lock.acquire(blocking=False):
            return sink
        try:
            while (segment := self.spool.oldest()) is not None:
                sink = self._sink(sink)
                for table, rows in self.spool.read(segment):
                    try:
                        sink.write(table, rows)  # the few rows that may be in already take the slow path
                    except (psycopg.OperationalError, psycopg.InterfaceError):
                        raise
                    except psycopg.Error as exc:
                        self._reject(table, rows, exc)
                        continue
                    self._written(table, rows, replayed=True)
                self.spool.remove(segment)
            self._database_ok()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._database_failed(exc)
            sink = _discard(sink)
        finally:
            self._replay_lock.release()
            with self._cond:
                self._cond.notify_all()
        return sink

    # -- bookkeeping -----------------------------------------------------------------------------------
    def _written(self, table: str, rows: list[Row], replayed: bool = False) -> None:
        with self._stats_lock:
            self._stats.rows_written[table] += len(rows)
            self._stats.batches_written += 1
            if replayed:
                self._stats.rows_replayed += len(rows)
        self._database_ok()
        if self._maintenance is not None:
            column = TIME_COLUMN[table]
            earliest: datetime = min(row[column] for row in rows)
            self._maintenance.note_written(earliest)

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            for name, value in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + value)

    def _database_ok(self) -> None:
        if not self._stats.database_up:
            log.info("database reachable again")
        self._stats.database_up = True
        self._retry_delay = RETRY_MIN_S
        self._retry_at = 0.0

    def _database_failed(self, exc: Exception) -> None:
        with self._stats_lock:
            if self._stats.database_up:
                log.warning("database unreachable, spooling to %s: %s", self.spool.folder, exc)
            self._stats.database_up = False
            self._stats.database_errors += 1
            self._stats.last_error = str(exc).strip() or type(exc).__name__
        self._retry_at = time.monotonic() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, RETRY_MAX_S)

    def _reject(self, table: str, rows: list[Row], exc: Exception) -> None:
        """The database refused the rows themselves: keep them aside for a person, never retry forever."""
        log.error("database refused %d %s rows: %s", len(rows), table, exc)
        rejected = self.spool.folder / "rejected"
        rejected.mkdir(exist_ok=True)
        with (rejected / f"{table}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(encode_batch(table, rows) + "\n")
        self._count(rows_rejected=len(rows))
        with self._stats_lock:
            self._stats.last_error = str(exc).strip()


def _discard(sink: BatchSink | None) -> None:
    if sink is not None:
        with contextlib.suppress(psycopg.Error):
            sink.conn.close()
    return None
