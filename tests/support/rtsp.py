"""A real RTSP server (GStreamer's gst-rtsp-server, tools/rtsp_server.py) on a free loopback port.

``rtsp_server`` serves ``/cam1`` = the shipped footage (var/footage/vtest.mp4, H.264 768x576, looped);
``rtsp_server_factory(mounts)`` starts others. The server can be killed, restarted on the same port,
frozen (SIGSTOP) and thawed, as a camera or a network would misbehave.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
FOOTAGE = ROOT / "var" / "footage"


def footage(name: str = "vtest.mp4") -> Path:
    path = FOOTAGE / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash scripts/setup.sh` once (it encodes the shipped footage)")
    return path


class RtspServer:
    """One gst-rtsp-server process; ``url('/cam1')`` is where a camera reader connects."""

    def __init__(self, mounts: dict[str, str], port: int | None = None) -> None:
        self.mounts = mounts
        self.port = port or free_port()
        self.process: subprocess.Popen[str] | None = None

    def url(self, mount: str = "/cam1") -> str:
        return f"rtsp://127.0.0.1:{self.port}{mount}"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start and wait for its READY line."""
        args = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port)]
        for path, source in self.mounts.items():
            args += ["--mount", f"{path}={source}"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout_s
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if line.startswith("READY"):
                    return
                if not line and self.process.poll() is not None:
                    break
        err = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
        self.stop()
        raise RuntimeError(f"RTSP server did not start on port {self.port}: {err.strip()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # a frozen server cannot handle SIGTERM
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the camera vanishes without a goodbye."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.stop()

    def restart(self) -> None:
        self.kill()
        self.start()

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def rtsp_server_factory() -> Iterator[Callable[..., RtspServer]]:
    """Start RTSP servers with the given mounts ({"/cam1": "FILE.mp4" or "testsrc"}); stopped after the test."""
    servers: list[RtspServer] = []

    def start(mounts: dict[str, str], port: int | None = None) -> RtspServer:
        server = RtspServer(mounts, port)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def rtsp_server(rtsp_server_factory: Callable[..., RtspServer]) -> RtspServer:
    """/cam1: the shipped footage (H.264 768x576, 10 fps), looped forever."""
    return rtsp_server_factory({"/cam1": str(footage())})
