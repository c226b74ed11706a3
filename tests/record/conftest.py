"""Fixtures of the recording tests: a short clip with a key frame every half second (so segments can be one
second long and a test stays short), recorder settings to match, a camera registered in a fresh database, and
a recorder pool over the real index that collects its events."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from cameras.models import CameraRecord, SiteKind, SiteRecord, SourceKind
from core.settings import RecordSettings
from core.types import Event
from record.pool import RecorderPool
from store import recordings, registry
from tests.support.rtsp import footage


@pytest.fixture(scope="session")
def short_gop_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of the shipped footage at 384x288, H.264 with a key frame every 0.5 s (10 fps, GOP 5)."""
    clip = tmp_path_factory.mktemp("clips") / "short-gop.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-t", "8", "-i", str(footage()), "-vf", "scale=384:288",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "5", "-bf", "0",
                    str(clip)], check=True, timeout=120)
    return clip


@pytest.fixture
def record_settings() -> RecordSettings:
    """One-second segments, quick restarts, short watchdogs: minutes of behaviour in seconds."""
    return RecordSettings(segment_s=1, io_timeout_s=2, stall_s=4, offline_grace_s=3, backoff_initial_s=0.2,
                          backoff_max_s=1, index_interval_s=0.25)


@pytest.fixture
def add_camera(db: psycopg.Connection) -> Callable[..., int]:
    """Register a network camera (its main stream at ``url``) in a site; return its id."""
    sites: dict[str, int] = {}

    def add(url: str, name: str = "cam-1", *, record: str = "continuous", site: str = "junction",
            kind: SourceKind = SourceKind.RTSP) -> int:
        if site not in sites:
            sites[site] = registry.save_site(db, SiteRecord(code=site, name=site, kind=SiteKind.STREET)).id
        camera = registry.save_camera(db, CameraRecord(site_id=sites[site], name=name, source_kind=kind,
                                                       main_uri=url))
        recordings.set_camera_recording(db, camera.id, mode=record)
        return int(camera.id)

    return add


class Collected:
    """A recorder pool's events as they were sent (each version of an event, in order)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def latest(self) -> dict[object, Event]:
        return {event.id: event for event in self.events}


@pytest.fixture
def recorder_pool(db_url: str, tmp_path: Path,
                  record_settings: RecordSettings) -> Iterator[Callable[..., tuple[RecorderPool, Collected]]]:
    """Start recorder pools over the real index in ``tmp_path``; closed after the test."""
    pools: list[RecorderPool] = []

    def start(settings: RecordSettings | None = None, node: str = "node-1") -> tuple[RecorderPool, Collected]:
        events = Collected()
        pool = RecorderPool(settings or record_settings, tmp_path, node,
                            lambda: recordings.RecordingIndex.connect(db_url), events)
        pool.start()
        pools.append(pool)
        return pool, events

    yield start
    for pool in pools:
        pool.close()


def poll(predicate: Callable[[], object], timeout_s: float, interval_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
