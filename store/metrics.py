"""The writer's figures as Prometheus metrics, read from ``StoreWriter.stats()`` at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from store.writer import StoreWriter


@dataclass
class WriterStats:
    """A snapshot of what a writer has done (counters since it started) and holds now."""

    queue_rows: int = 0
    queue_capacity: int = 0
    spool_pending_rows: int = 0
    database_up: bool = True
    rows_written: dict[str, int] = field(default_factory=dict)
    batches_written: int = 0
    rows_spooled: int = 0
    rows_spilled: int = 0
    rows_replayed: int = 0
    rows_rejected: int = 0
    database_errors: int = 0
    last_error: str | None = None


class WriterCollector(Collector):
    """Collects one writer's queue depth, rows written/spooled/rejected, batches and database state."""

    def __init__(self, writer: StoreWriter) -> None:
        self.writer = writer

    def collect(self) -> Iterator[Metric]:
        stats = self.writer.stats()
        yield GaugeMetricFamily("vigil_store_queue_rows", "Rows waiting in the writer's memory queue.",
                                value=stats.queue_rows)
        yield GaugeMetricFamily("vigil_store_queue_capacity_rows", "Rows the memory queue holds before spilling.",
                                value=stats.queue_capacity)
        yield GaugeMetricFamily("vigil_store_spool_pending_rows", "Rows on disk waiting for the database.",
                                value=stats.spool_pending_rows)
        yield GaugeMetricFamily("vigil_store_database_up", "1 when the last write reached the database.",
                                value=1 if stats.database_up else 0)
        written = CounterMetricFamily("vigil_store_rows_written", "Rows committed to the database.",
                                      labels=["table"])
        for table, rows in sorted(stats.rows_written.items()):
            written.add_metric([table], rows)
        yield written
        for name, help_text, value in (
            ("vigil_store_batches_written", "Batches committed to the database.", stats.batches_written),
            ("vigil_store_rows_spooled", "Rows written to the disk spool (database unreachable or queue full).",
             stats.rows_spooled),
            ("vigil_store_rows_spilled", "Rows spooled because the memory queue was full (back-pressure).",
             stats.rows_spilled),
            ("vigil_store_rows_replayed", "Spooled rows later committed to the database.", stats.rows_replayed),
            ("vigil_store_rows_rejected", "Rows the database refused, kept in the spool's rejected folder.",
             stats.rows_rejected),
            ("vigil_store_database_errors", "Failed attempts to reach the database.", stats.database_errors),
        ):
            yield CounterMetricFamily(name, help_text, value=value)
