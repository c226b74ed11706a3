"""Where a long run's memory goes: the Python heap (tracemalloc), the C allocator (glibc) and resident memory.

Used by ``vigil bench soak --tracemalloc``. Resident memory alone cannot tell a leak from allocator noise;
comparing three figures over the same run can:

- ``python_heap_mb``: what tracemalloc traces now (every Python object, and numpy's array buffers);
- ``malloc_in_use_mb`` / ``malloc_free_mb``: glibc's ``mallinfo2`` over all arenas: bytes handed out by
  malloc (Python, numpy, OpenCV, FFmpeg, torch alike) and bytes free inside the arenas but not returned to
  the system (fragmentation, per-thread arenas); ``malloc_heap_mb``: the arenas' size (in use + free,
  without the separately mmapped big blocks);
- ``rss_mb``: what the kernel counts, split into ``rss_anon_mb`` (heaps, stacks) and ``rss_file_mb`` (the
  libraries' pages, which grow as code runs for the first time).

Python heap growing -> a Python-level leak (the top growing allocation sites say where); malloc in-use
growing with a flat Python heap -> native code holding memory; only the free figure or RSS growing ->
allocator retention, which ``malloc_trim(0)`` at the end measures (the RSS it gives back).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import linecache
import os
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

MB = 1024 * 1024
_ROOT = Path(__file__).resolve().parents[1]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS) or glibc < 2.33
        return None


_LIBC = _libc()


def malloc_sample() -> dict[str, float]:
    """glibc's view of the heap now, MB (empty where the C library is not glibc >= 2.33)."""
    if _LIBC is None:
        return {}
    info = _LIBC.mallinfo2()
    return {"malloc_in_use_mb": round((info.uordblks + info.hblkhd) / MB, 1),
            "malloc_free_mb": round(info.fordblks / MB, 1), "malloc_mmapped_mb": round(info.hblkhd / MB, 1),
            "malloc_heap_mb": round(info.arena / MB, 1)}


def rss_split() -> dict[str, float]:
    """Resident memory by kind, MB: anonymous (heaps, stacks) and file-backed (code and data of the libraries
    mapped in, which grows as new code paths run for the first time, and is not a leak)."""
    fields = {"RssAnon:": "rss_anon_mb", "RssFile:": "rss_file_mb"}
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in fields:
            out[fields[parts[0]]] = round(int(parts[1]) / 1024, 1)
    return out


def malloc_trim() -> bool:
    """Ask glibc to give free arena memory back to the system; True when it released some."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))


class MemoryTrace:
    """tracemalloc for the length of a run: samples of the traced heap, a baseline and an end snapshot.

    ``start()`` before the work begins; ``mark_baseline()`` once it has warmed up; ``mark_end()`` while the
    work still runs; ``growth()`` afterwards. Taking a snapshot is one quick C call; grouping millions of
    traces is slow Python that would fight the work's threads for the GIL, so it waits for ``growth()``.
    The baseline waits on disk meanwhile: held in memory it would show up as growth of resident memory.

    Tracing is never stopped here: on CPython 3.11 ``tracemalloc.stop()`` races with threads that
    track numpy buffers and can crash the process (python/cpython#128679, fixed in 3.12 and 3.13 only;
    it crashed one soak here).
    ``stop()`` is for a caller that knows no other thread allocates any more.
    """

    def __init__(self, frames: int = 8, folder: Path | None = None) -> None:
        self.frames = frames
        self.folder = folder
        self._baseline_file: Path | None = None
        self._end: tracemalloc.Snapshot | None = None
        self.baseline_at_s: float | None = None

    def start(self) -> MemoryTrace:
        tracemalloc.start(self.frames)
        return self

    @property
    def has_baseline(self) -> bool:
        return self._baseline_file is not None

    def sample(self) -> dict[str, float]:
        """The traced Python heap and tracemalloc's own bookkeeping, MB."""
        if not tracemalloc.is_tracing():
            return {}
        current, _peak = tracemalloc.get_traced_memory()
        return {"python_heap_mb": round(current / MB, 1),
                "tracemalloc_overhead_mb": round(tracemalloc.get_tracemalloc_memory() / MB, 1)}

    def mark_baseline(self, elapsed_s: float) -> None:
        handle, name = tempfile.mkstemp(prefix="vigil-tracemalloc-", suffix=".pickle", dir=self.folder)
        os.close(handle)
        self._baseline_file = Path(name)
        _snapshot().dump(name)
        self.baseline_at_s = elapsed_s

    def mark_end(self) -> None:
        """The end snapshot (the first call takes it)."""
        if self._end is None and tracemalloc.is_tracing():
            self._end = _snapshot()

    def stop(self) -> None:
        """Stop tracing: only once no other thread allocates (see the class docstring)."""
        tracemalloc.stop()

    def growth(self, top: int = 25, tracebacks: int = 5) -> dict[str, Any]:
        """The allocation sites that grew most from the baseline to the end (file:line, size and count
        differences), and the call stacks of the biggest few."""
        self.mark_end()
        if self._baseline_file is None or self._end is None:
            return {}
        end, self._end = self._end, None
        try:
            baseline = tracemalloc.Snapshot.load(str(self._baseline_file))
        finally:
            self._baseline_file.unlink(missing_ok=True)
        by_line = [d for d in end.compare_to(baseline, "lineno") if _ours(d)]
        by_stack = [d for d in end.compare_to(baseline, "traceback") if _ours(d)]
        return {
            "baseline_minute": round((self.baseline_at_s or 0) / 60, 2),
            "python_heap_diff_mb": round(sum(d.size_diff for d in by_line) / MB, 2),
            "top_growing_sites": [_site(d) for d in by_line[:top]],
            "top_growing_stacks": [{**_site(d), "stack": [f"{_short(f.filename)}:{f.lineno}" for f in d.traceback]}
                                   for d in by_stack[:tracebacks]],
        }


def _snapshot() -> tracemalloc.Snapshot:
    gc.collect()  # what the snapshot shows is then live, not garbage waiting for the cycle collector
    return tracemalloc.take_snapshot()


def _ours(diff: tracemalloc.StatisticDiff) -> bool:
    """Not tracemalloc's own snapshot machinery (filtered after grouping: filtering traces is slow)."""
    return diff.traceback[-1].filename not in (tracemalloc.__file__, linecache.__file__)


def _site(diff: tracemalloc.StatisticDiff) -> dict[str, Any]:
    frame = diff.traceback[-1]  # the most recent frame: where the memory was allocated
    return {"site": f"{_short(frame.filename)}:{frame.lineno}", "size_diff_kb": round(diff.size_diff / 1024, 1),
            "count_diff": diff.count_diff, "size_kb": round(diff.size / 1024, 1), "count": diff.count,
            "code": linecache.getline(frame.filename, frame.lineno).strip()[:120]}


def _short(filename: str) -> str:
    """A path relative to site-packages or the repository, where it is inside one."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    root = str(_ROOT) + "/"
    return filename[len(root):] if filename.startswith(root) else filename
