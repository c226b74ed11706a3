"""The worker's C allocator: capped arenas, so sixteen camera threads do not each keep a heap of freed frames."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Sixteen threads allocate and free frame-sized buffers at once (numpy releases the GIL while copying), as the
# cameras' decoders do; then glibc's own report (malloc_info) says how many heaps (arenas) it made.
PROBE = """
import ctypes, ctypes.util, os, sys, tempfile, threading
import numpy as np
from vigil import allocator
if sys.argv[1] == "capped":
    assert allocator.limit_arenas(2)
frame = np.zeros((576, 768, 3), np.uint8)
start = threading.Barrier(16)
def camera():
    start.wait()
    for _ in range(200):
        copies = [frame.copy() for _ in range(4)]
        del copies
threads = [threading.Thread(target=camera) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fdopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.TemporaryFile() as out:
    handle = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, handle)
    libc.fclose(handle)
    out.seek(0)
    print(out.read().decode().count("<heap nr="))
print(allocator.trim())
"""


def _heaps(mode: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, timeout=120,
                          check=True)
    heaps, trimmed = done.stdout.split()
    return int(heaps), trimmed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_capped_process_keeps_two_arenas_where_sixteen_threads_would_make_many() -> None:
    capped, trimmed = _heaps("capped")
    uncapped, _ = _heaps("plain")
    assert capped <= 2, capped
    assert uncapped > capped, (uncapped, capped)  # without the cap glibc made more (up to 8 per core)
    assert trimmed in ("True", "False")  # malloc_trim ran
