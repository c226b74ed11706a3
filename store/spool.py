"""The writer's disk spool: rows that could not reach the database, kept in order until they do.

Append-only segment files ``NNNNNNNNNNNN.jsonl`` named by sequence; one line per batch
(``store.tables.encode_batch``). Each append is flushed to the OS at once (a crashed process loses
nothing); a segment is fsync'ed when it is closed. Replay reads the oldest closed segment and the writer
deletes it only after all its rows are committed, so a replay cut short is simply replayed again:
the tables' idempotent keys make a second landing a no-op.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from store.tables import Row, decode_batch, encode_batch

log = logging.getLogger(__name__)
SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Segment:
    seq: int
    path: Path
    rows: int


class Spool:
    """Thread-safe ordered spool in ``folder``; segments hold about ``segment_rows`` rows each."""

    def __init__(self, folder: Path, segment_rows: int = 20_000) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_rows = segment_rows
        self._lock = threading.Lock()
        self._closed: deque[Segment] = deque()
        self._active: TextIO | None = None
        self._active_seq = 0
        self._active_rows = 0
        self._pending_rows = 0
        for path in sorted(self.folder.glob("*" + SUFFIX)):
            if path.stem.isdigit():
                rows = sum(n for _, n in _count(path))
                self._closed.append(Segment(int(path.stem), path, rows))
                self._pending_rows += rows
                self._active_seq = max(self._active_seq, int(path.stem))
        if self._closed:
            log.warning("spool %s holds %d rows from an earlier run; they will be replayed first",
                        self.folder, self._pending_rows)

    @property
    def pending_rows(self) -> int:
        """Rows on disk not yet committed to the database."""
        return self._pending_rows

    def append(self, table: str, rows: Sequence[Row]) -> None:
        """Append one batch after everything already spooled."""
        line = encode_batch(table, rows) + "\n"
        with self._lock:
            if self._active is None:
                self._active_seq += 1
                path = self.folder / f"{self._active_seq:012d}{SUFFIX}"
                self._active = path.open("a", encoding="utf-8")
                self._active_rows = 0
            self._active.write(line)
            self._active.flush()
            self._active_rows += len(rows)
            self._pending_rows += len(rows)
            if self._active_rows >= self.segment_rows:
                self._rotate()

    def _rotate(self) -> None:
        if self._active is None:
            return
        os.fsync(self._active.fileno())
        self._active.close()
        self._active = None
        self._closed.append(Segment(self._active_seq, self.folder / f"{self._active_seq:012d}{SUFFIX}",
                                    self._active_rows))
        self._active_rows = 0

    def oldest(self) -> Segment | None:
        """The oldest segment to replay (closing the one being written when it is the only one)."""
        with self._lock:
            if not self._closed and self._active_rows:
                self._rotate()
            return self._closed[0] if self._closed else None

    def read(self, segment: Segment) -> Iterator[tuple[str, list[Row]]]:
        """The batches of a segment, in the order they were spooled."""
        with segment.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith("\n"):
                    log.warning("spool %s line %d is incomplete (cut by a crash); skipped", segment.path, number)
                    return
                yield decode_batch(line)

    def remove(self, segment: Segment) -> None:
        """Forget a segment whose rows are all committed."""
        with self._lock:
            if self._closed and self._closed[0] == segment:
                self._closed.popleft()
                self._pending_rows -= segment.rows
            segment.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._rotate()


def _count(path: Path) -> Iterator[tuple[str, int]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n"):
                document = json.loads(line)
                yield document["t"], len(document["r"])
