"""What delivers a camera's frames to the pipeline: a feed, built by a picklable feed factory.

A feed has a latest-frame slot (``ingest.slot.FrameSlot``), ``start()`` and ``stop()``; ingest's
``CameraReader`` is the live one (it also has ``health()`` and ``request_stop()``). The factory travels
inside a ``CameraSpec`` to a camera process and builds the feed there, so the pipeline never needs to know
which kind of feed a camera has: ``ReadCamera`` (the default) reads the camera's stream or file with ingest;
a benchmark hands in a factory of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cameras.models import CameraSource
from core.settings import Settings
from core.types import CameraHealth
from ingest.reader import CameraReader, EventSink, HealthSink
from ingest.slot import FrameSlot


class Feed(Protocol):
    """Delivers one camera's frames into its slot from ``start()`` until ``stop()``."""

    @property
    def slot(self) -> FrameSlot: ...

    def start(self) -> object: ...

    def stop(self) -> None: ...


@runtime_checkable
class ReportsHealth(Protocol):
    """A feed that knows its camera's health (ingest's readers do; a benchmark's file camera does not)."""

    def health(self) -> CameraHealth: ...


@runtime_checkable
class StopsAsked(Protocol):
    """A feed that can be asked to stop without waiting, so many stop at once (then ``stop()`` awaits it)."""

    def request_stop(self) -> None: ...


class FeedFactory(Protocol):
    """Builds the feed of one camera where it will run (picklable: it crosses to camera processes)."""

    def __call__(self, source: CameraSource, settings: Settings, on_event: EventSink | None,
                 on_health: HealthSink | None) -> Feed: ...


@dataclass(frozen=True)
class ReadCamera:
    """The default feed: ingest's ``CameraReader`` on the camera's stream or file, with tamper evidence."""

    def __call__(self, source: CameraSource, settings: Settings, on_event: EventSink | None,
                 on_health: HealthSink | None) -> CameraReader:
        return CameraReader(source, settings.ingest, on_event, on_health, data_dir=settings.data_dir)


READ_CAMERA = ReadCamera()


def stop_feeds(feeds: list[Feed]) -> None:
    """Stop many feeds: all asked at once, then each awaited."""
    for feed in feeds:
        if isinstance(feed, StopsAsked):
            feed.request_stop()
    for feed in feeds:
        feed.stop()
