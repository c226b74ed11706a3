"""Helpers for the proof tests (tests/proof/test_proof_*.py): the real worker in a thread or as `vigil worker`
processes, a registered street site with cameras, bounded polling, and the process's threads and files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from cameras.geometry import make_zone
from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
from core.settings import Settings
from store import registry
from vigil.worker import Worker, WorkerOptions

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
VTEST = ROOT / "var" / "footage" / "vtest.mp4"


def poll(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.1) -> bool:
    """True as soon as ``predicate()`` is truthy; False after ``timeout_s`` without it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def street_site(conn: psycopg.Connection, code: str = "proof") -> int:
    site = registry.save_site(conn, SiteRecord(code=code, name="Ngã tư thử nghiệm", kind=SiteKind.STREET))
    return site.id or 0


def file_camera(conn: psycopg.Connection, site_id: int, name: str, fps: float = 1.0, zone: bool = True,
                path: Path = VTEST) -> int:
    """A looping file camera on the shipped footage; with ``zone`` its lower road is a restricted zone."""
    camera = registry.save_camera(conn, CameraRecord(site_id=site_id, name=name, source_kind=SourceKind.FILE,
                                                     main_uri=str(path), analytics_fps=fps))
    if zone:
        registry.save_zone(conn, camera.id or 0, make_zone("road", "restricted", [[0, 0.45], [1, 0.45], [1, 1],
                                                                                   [0, 1]]))
    return camera.id or 0


def rtsp_camera(conn: psycopg.Connection, site_id: int, name: str, url: str, fps: float = 2.0,
                username: str | None = None, password: str | None = None, key_file: Path | None = None) -> int:
    """An RTSP camera; a password is stored encrypted with ``key_file`` as onboarding does."""
    from cameras.crypto import SecretBox

    record = CameraRecord(site_id=site_id, name=name, source_kind=SourceKind.RTSP, main_uri=url,
                          analytics_fps=fps, username=username)
    if password is None:
        return registry.save_camera(conn, record).id or 0
    box = SecretBox.from_key_file(key_file) if key_file else None
    return registry.save_camera(conn, record, password=password, box=box).id or 0


def worker_settings(data_dir: Path, **sections: Any) -> Settings:
    """Settings for a worker under test: its own data folder, the project's models, sections overridden."""
    return Settings(data_dir=data_dir, models_dir=MODELS, **sections)


@contextmanager
def worker_thread(settings: Settings, db_url: str, worker_id: str = "w-proof", capacity: int = 8,
                  lease_ttl_s: float = 3.0) -> Iterator[Worker]:
    """The real Worker in a thread of the test process; stopped (flushing, releasing) on exit."""
    worker = Worker(settings, db_url, WorkerOptions(worker_id=worker_id, capacity=capacity, lease_ttl_s=lease_ttl_s))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:  # surfaced by the test, not lost in a thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"proof-{worker_id}", daemon=True)
    thread.start()
    worker.thread = thread  # type: ignore[attr-defined]
    worker.failure = failure  # type: ignore[attr-defined]
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(60)
    assert not thread.is_alive(), "the worker did not stop within a minute"


def vigil_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a ``vigil`` child process on this database and data folder."""
    return {**os.environ, "DATABASE_URL": db_url, "VIGIL_DATA_DIR": str(data_dir), "VIGIL_MODELS_DIR": str(MODELS),
            "YOLO_OFFLINE": "1", **extra}


def worker_process(db_url: str, data_dir: Path, log_file: Path, *args: str,
                   env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``vigil worker ARGS`` as a real process; its log (stderr and stdout) goes to ``log_file``."""
    env = vigil_env(db_url, data_dir, **(env or {}))
    with log_file.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "vigil", "--log-level", "INFO", "worker", *args],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout_s``; the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return int(process.returncode)


def count(conn: psycopg.Connection, sql: str, params: tuple[Any, ...] = ()) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(next(iter(row.values())) if isinstance(row, dict) else row[0])  # type: ignore[index]
