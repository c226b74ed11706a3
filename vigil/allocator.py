"""The C allocator of a long-running worker: few arenas, free memory handed back.

A worker's threads (a decoder per camera, the vision thread, the store writer) each allocate and free frames and
buffers all day. glibc gives threads arenas of their own (up to eight per core) and keeps what is freed in each
for reuse: over hours the resident memory creeps up while the bytes in use do not (``docs/benchmarks.md``,
"Soak"). The worker therefore caps the arenas at start (``mallopt(M_ARENA_MAX)``, before its threads make more;
what ``MALLOC_ARENA_MAX`` would do from the environment) and asks glibc every minute to return free pages
(``malloc_trim(0)``, a few milliseconds). Elsewhere than glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any

log = logging.getLogger("vigil.worker")
M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)


def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def default_arenas() -> int:
    """Two arenas per core, at least two: enough that threads rarely wait for one another."""
    return max(2, 2 * (os.cpu_count() or 1))


def limit_arenas(count: int) -> bool:
    """Cap glibc's arenas at ``count`` for arenas made from now on; True when glibc took it."""
    libc = _libc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):  # the environment's choice stands
        return False
    return bool(libc.mallopt(M_ARENA_MAX, int(count)))


def trim() -> bool:
    """Give free arena memory back to the system; True when some was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
