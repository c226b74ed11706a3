"""``vigil demo`` stops what it started: after Ctrl-C no PostgreSQL, RTSP server, API or worker is left behind.
Seeding the demo city starts the embedded cluster before the supervisor is built, so the supervisor used to
find it running, take it for someone else's and leave it running after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ops_api.readiness import wait_until_ready
from store.embedded import EmbeddedPostgres
from tests.support.net import free_port
from tests.support.proof import MODELS, ROOT, VTEST


@pytest.mark.slow
def test_ctrl_c_stops_the_demo_and_the_database_it_started(cluster_dir: Path) -> None:
    if not VTEST.is_file():
        pytest.skip("var/footage/vtest.mp4 missing (run scripts/setup.sh)")
    port, db_port = free_port(), free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(cluster_dir / "data"), "VIGIL_MODELS_DIR": str(MODELS),
           "VIGIL_DATABASE__EMBEDDED_PORT": str(db_port), "YOLO_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "vigil", "demo", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 300  # the first demo on a fresh clone composes the hall clip (~1 min)
        while time.monotonic() < deadline and demo.poll() is None:
            line = demo.stdout.readline()  # type: ignore[union-attr]
            seen.append(line)
            if "Stop with Ctrl-C" in line:
                break
        assert demo.poll() is None, "".join(seen[-30:])
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", timeout_s=90)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}:\n" + "".join(seen[-30:])) from None
        family = psutil.Process(demo.pid).children(recursive=True)
        cluster = EmbeddedPostgres(cluster_dir / "data" / "db", port=db_port)
        assert cluster.running()

        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        demo.communicate(timeout=90)
        assert not cluster.running(), "the demo left the PostgreSQL it started running"
        assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(10)
        EmbeddedPostgres(cluster_dir / "data" / "db", port=db_port).stop(mode="immediate")
