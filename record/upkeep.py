"""Retention run periodically, by one node for the whole recordings area.

Every worker runs an ``Upkeep`` thread, but only the one that holds the retention lead (a PostgreSQL advisory
lock on its own connection: ``FootageIndex.lead_retention``) works: the recordings area is one shared volume,
and its disk budget is one decision about the oldest footage of every camera. When the leader's node dies its
connection goes, the lock with it, and the next node to ask takes over. A new leader first reconciles files and
index (``reconcile``), then prunes every ``retention_interval_s``. ``recording_storage_full`` is opened when a
prune says footage it may not take crowds the budget, and closed when it is clearly back under.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from core.types import Event, EventType, Severity
from record.index import FootageIndex, FootageIndexFactory
from record.reconcile import ReconcileReport, reconcile
from record.retention import PruneReport, prune

log = logging.getLogger(__name__)
FIRST_RUN_S = 2.0  # let the worker start its cameras before the start-up pass reads the disk


class Upkeep:
    """Use as a context manager; ``leader``, ``last_prune`` and ``last_reconcile`` tell what it did."""

    def __init__(self, settings: Settings, data_dir: Path, node: str, index_factory: FootageIndexFactory,
                 on_event: Callable[[Event], None], *, first_run_s: float = FIRST_RUN_S) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.node = node
        self._index_factory = index_factory
        self._on_event = on_event
        self._first_run_s = first_run_s
        self._index: FootageIndex | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._alarm: Event | None = None
        self.leader = False
        self.last_prune: PruneReport | None = None
        self.last_reconcile: ReconcileReport | None = None
        self.runs = 0

    def __enter__(self) -> Upkeep:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="recordings-upkeep", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._drop_index()

    def _run(self) -> None:
        wait = self._first_run_s
        while not self._stop.wait(wait):
            wait = self.settings.record.retention_interval_s
            try:
                self.run_once()
            except Exception as exc:  # the database went away, a disk error: try again next time
                log.warning("recordings upkeep failed (%s); retrying in %.0f s", exc, wait)
                self._drop_index()

    def run_once(self) -> PruneReport | None:
        """Take or keep the lead; as the leader reconcile (once per lead) and prune. None when not the leader."""
        if self._index is None:
            self._index = self._index_factory()
        index = self._index
        if not self.leader:
            self.leader = index.lead_retention()
            if not self.leader:
                return None
            log.info("recordings upkeep: %s leads retention for the recordings area", self.node)
            self.last_reconcile = reconcile(index, self.settings, self.data_dir, self.node)
        report = prune(index, self.settings, self.data_dir, count_footage=False)
        self.last_prune = report
        self.runs += 1
        self._storage_alarm(report)
        return report

    def _storage_alarm(self, report: PruneReport) -> None:
        facts = {"footage_bytes": report.footage_bytes, "budget_bytes": report.budget_bytes,
                 "protected_bytes": report.protected_bytes, "over_budget_bytes": report.over_budget_bytes,
                 "event_footage_deleted": report.budget_events.segments, "node": self.node}
        if report.storage_alarm and self._alarm is None:
            self._alarm = Event(EventType.RECORDING_STORAGE_FULL, None, start=report.now, severity=Severity.CRITICAL,
                                attributes=facts)
            log.error("recordings: storage full: footage that may not be deleted fills the budget (%s)", facts)
            self._on_event(self._alarm)
        elif report.storage_clear and self._alarm is not None:
            self._on_event(dataclasses.replace(self._alarm, end=datetime.now(UTC),
                                               attributes={**self._alarm.attributes, "closed_with": facts}))
            self._alarm = None

    def _drop_index(self) -> None:
        self.leader = False  # the lock lived on that connection
        if self._index is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close as well
                self._index.close()
            self._index = None
