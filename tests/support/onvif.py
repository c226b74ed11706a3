"""A real ONVIF camera for tests: ipycam (virtual IP camera) in a network namespace the test creates.

ipycam binds 0.0.0.0:3702 and multicasts WS-Discovery Hellos, so it must never run in the machine's own
network. ``run_with_camera(command)`` starts ``unshare -n`` (a fresh namespace with only loopback, up,
with a multicast route), runs ipycam there fed with the shipped footage, runs ``command`` in the same
namespace (so discovery, probe, add and the RTSP reader all talk to 127.0.0.1 inside it), and returns
the command's exit code and output. Nothing can leave the namespace: it has no other interface.

Run as ``python -m tests.support.onvif [--user U --password P] -- COMMAND...`` (inside a namespace).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONVIF_PORT = 18080
RTSP_PORT = 18554
NAMESPACE_SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"


@dataclass
class CommandResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


def namespaces_possible() -> str | None:
    """None when a private network namespace can be made here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root (unshare -n); run the suite as root"
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare (util-linux) or ip (iproute2) is missing: run scripts/setup.sh"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", NAMESPACE_SETUP], capture_output=True, timeout=20)
    if probe.returncode != 0:
        return f"unshare -n failed here: {probe.stderr.decode().strip()}"
    return None


def run_with_camera(command: list[str], *, user: str = "", password: str = "", timeout_s: float = 90.0,
                    env: dict[str, str] | None = None, clock_offset_s: float = 0.0) -> CommandResult:
    """Run ``command`` in a fresh network namespace beside an ipycam ONVIF camera (auth when user is set).

    ``clock_offset_s`` sets the camera's clock that far from the real one (its WS-Security check follows it).
    """
    inner = [sys.executable, "-m", "tests.support.onvif", "--user", user, "--password", password,
             "--clock-offset", str(clock_offset_s), "--", *command]
    script = f"{NAMESPACE_SETUP} && exec " + " ".join(_quote(a) for a in inner)
    result = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                            timeout=timeout_s, cwd=ROOT, env={**os.environ, **(env or {})})
    return CommandResult(result.returncode, result.stdout, result.stderr)


def run_in_namespace(command: list[str], timeout_s: float = 60.0) -> CommandResult:
    """Run ``command`` in a fresh namespace with only loopback (no camera)."""
    script = f"{NAMESPACE_SETUP} && exec " + " ".join(_quote(a) for a in command)
    result = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                            timeout=timeout_s, cwd=ROOT)
    return CommandResult(result.returncode, result.stdout, result.stderr)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


@pytest.fixture(scope="session")
def netns() -> None:
    """Skip (with the reason) where a private network namespace cannot be made."""
    reason = namespaces_possible()
    if reason:
        pytest.skip(reason)


# -- inside the namespace ------------------------------------------------------------------------------
def _shift_camera_clock(offset_s: float) -> None:
    """Make ipycam's ONVIF service (its clock and its WS-Security freshness check) run ``offset_s`` off."""
    import time as real_time
    import types
    from datetime import datetime

    import ipycam.onvif as service

    class ShiftedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.fromtimestamp(real_time.time() + offset_s, tz)

    clock = types.SimpleNamespace(**{n: getattr(real_time, n) for n in dir(real_time) if not n.startswith("__")})
    clock.gmtime = lambda secs=None: real_time.gmtime((real_time.time() if secs is None else secs) + offset_s)
    service.datetime = ShiftedDatetime  # type: ignore[misc]
    service.time = clock  # type: ignore[assignment]


def _start_camera(user: str, password: str) -> object:
    import logging

    import cv2
    from ipycam import CameraConfig, IPCamera

    logging.getLogger("ipycam").setLevel(logging.ERROR)
    os.chdir(os.environ.get("TMPDIR", "/tmp"))  # ipycam may write its config and uploads in the cwd
    config = CameraConfig(name="VigilTestCam", manufacturer="IPyCam", model="VirtualCam-1", local_ip="127.0.0.1",
                          onvif_port=ONVIF_PORT, rtsp_port=RTSP_PORT, web_port=ONVIF_PORT + 1,
                          main_width=768, main_height=576, main_fps=10, main_bitrate="1500K",
                          sub_width=480, sub_height=360, sub_fps=10, sub_bitrate="500K",
                          hw_accel="cpu", show_timestamp=False)
    if user:
        config.set_credentials(user, password)
    camera = IPCamera(config)
    if not camera.start():
        raise SystemExit("ipycam did not start")
    footage = str(ROOT / "var" / "footage" / "vtest.mp4")

    def feed() -> None:
        capture = cv2.VideoCapture(footage)
        while True:
            ok, frame = capture.read()
            if not ok:
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            camera.stream(frame)  # ipycam paces to main_fps

    threading.Thread(target=feed, daemon=True).start()
    return camera


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--clock-offset", type=float, default=0.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.clock_offset:
        _shift_camera_clock(args.clock_offset)
    camera = _start_camera(args.user, args.password)
    deadline = time.monotonic() + 15
    import socket

    while time.monotonic() < deadline:  # ready when ONVIF and RTSP both accept connections
        try:
            for port in (ONVIF_PORT, RTSP_PORT):
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(result.returncode)  # ipycam's threads are not all daemons; the namespace dies with us
    return result.returncode  # pragma: no cover
    del camera


if __name__ == "__main__":
    sys.exit(main())
