"""A small process supervisor for ``vigil run`` and ``vigil demo``.

Starts child processes (API server, vision workers, the demo's RTSP server), restarts a child that dies
with capped backoff and logs why (exit code or signal), and on SIGTERM/SIGINT stops them in reverse order:
SIGTERM first (workers flush their writer), SIGKILL after a grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("vigil.supervisor")


@dataclass
class ChildSpec:
    """How to run one child. ``ready`` (optional) is polled after start until it returns True."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    restart: bool = True
    stop_grace_s: float = 15.0
    ready: Callable[[], bool] | None = None
    ready_timeout_s: float = 60.0


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    history: list[str] = field(default_factory=list)


def describe_exit(code: int) -> str:
    """'exited with code 3' or 'killed by SIGKILL'."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Run children until stopped; restart the ones that die."""

    def __init__(self, specs: Sequence[ChildSpec], backoff_initial_s: float = 1.0, backoff_max_s: float = 30.0):
        self.children = [_Child(spec) for spec in specs]
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._stop = threading.Event()

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)
            self._wait_ready(child)

    def _start(self, child: _Child) -> None:
        env = {**os.environ, **(child.spec.env or {})}
        child.process = subprocess.Popen(list(child.spec.argv), env=env)
        child.started_at = time.monotonic()
        log.info("started %s (pid %d)", child.spec.name, child.process.pid)

    def _wait_ready(self, child: _Child) -> None:
        if child.spec.ready is None:
            return
        deadline = time.monotonic() + child.spec.ready_timeout_s
        while time.monotonic() < deadline and not self._stop.is_set():
            if child.process is not None and child.process.poll() is not None:
                return  # died while starting: the run loop restarts it and says why
            try:
                if child.spec.ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        log.warning("%s not ready after %.0f s", child.spec.name, child.spec.ready_timeout_s)

    def poll_once(self) -> None:
        """Check every child once: log and schedule a restart for the dead, restart those due."""
        now = time.monotonic()
        for child in self.children:
            process = child.process
            if process is not None and process.poll() is not None:
                reason = describe_exit(process.returncode)
                child.process = None
                child.history.append(reason)
                if not child.spec.restart:
                    log.error("%s %s; not restarted", child.spec.name, reason)
                    continue
                lived = now - child.started_at
                if lived > 60:
                    child.restarts = 0  # it ran well for a while: start the backoff afresh
                delay = min(self.backoff_max_s, self.backoff_initial_s * 2 ** child.restarts)
                child.restarts += 1
                child.next_start = now + delay
                log.error("%s %s after %.0f s; restarting in %.1f s (restart %d)",
                          child.spec.name, reason, lived, delay, child.restarts)
            if child.process is None and child.spec.restart and child.history and now >= child.next_start:
                self._start(child)

    def run(self, poll_s: float = 0.5) -> None:
        """Block until ``stop()`` (or SIGTERM/SIGINT when installed), supervising the children."""
        while not self._stop.wait(poll_s):
            self.poll_once()
        self.stop_all()

    def request_stop(self, *_: object) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def stop_all(self) -> None:
        """SIGTERM every child in reverse start order, then SIGKILL what outlives its grace period."""
        for child in reversed(self.children):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            log.info("stopping %s (pid %d)", child.spec.name, process.pid)
            process.terminate()
            try:
                process.wait(timeout=child.spec.stop_grace_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s: killing it", child.spec.name, child.spec.stop_grace_s)
                process.kill()
                process.wait(timeout=10)
            child.process = None
