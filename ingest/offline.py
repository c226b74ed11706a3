"""Offline analysis: read a video file as fast as it decodes, sampled to an analytics rate, losing nothing.

``iter_frames(source, analytics_fps)`` is a plain iterator (no thread, no slot, no pacing): each frame's
``captured_at`` is ``start_time`` plus its time in the file, so results line up with the footage.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cameras.models import CameraSource
from core.types import Frame
from ingest.decode import Decoder, open_stream, to_bgr
from ingest.timing import Sampler


def iter_frames(source: CameraSource | str | Path, analytics_fps: float | None = None, *, start_time: float = 0.0,
                decoder: Decoder = "cpu", timeout_s: float = 10.0) -> Iterator[Frame]:
    """Yield the sampled frames of a file (or any source) once, in order; ``analytics_fps`` None: every frame."""
    if not isinstance(source, CameraSource):
        source = CameraSource.from_file(0, source, loop=False, realtime=False)
    fps = analytics_fps or source.analytics_fps
    sampler = Sampler(fps) if fps else None
    stream = open_stream(source, timeout_s, timeout_s, decoder)
    try:
        for index, frame in enumerate(stream.container.decode(stream.stream)):
            t = frame.time if frame.time is not None else index / float(stream.stream.average_rate or 25)
            if sampler is None or sampler.due(t):
                yield Frame(source.id, to_bgr(frame), start_time + t, index, frame.time)
    finally:
        stream.close()
