"""Real recorded footage for the playback tests, made by real ffmpeg the way the recorder makes it (the HLS muxer,
2-s MPEG-TS segments), and indexed by a small helper of the tests' own, so these tests do not depend on the
recorder's code.

``recorded_segments`` (session): the shipped footage (vtest.mp4: H.264 768x576, 10 fps, GOP 2 s) cut into 40
segments once; ``hevc_segments``: 6 s of it re-encoded as H.265. ``index_footage(conn, data_dir, camera, start,
pieces)`` copies segments into the camera's recordings folder and inserts their index rows back to back from
``start``. ``LiveRecording`` runs ffmpeg in real time on a looping clip, writing the recorder's live playlist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from core import media
from tests.support.rtsp import footage


@dataclass(frozen=True)
class Piece:
    """A segment file made by ffmpeg and how long it plays."""

    file: Path
    duration_s: float
    codec: str
    width: int
    height: int


@dataclass(frozen=True)
class Indexed:
    start: datetime
    end: datetime
    path: str  # relative to the recordings area


def _probe(file: Path) -> tuple[str, int, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,width,height", "-of", "json", str(file)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    stream = json.loads(out)["streams"][0]
    return stream["codec_name"], stream["width"], stream["height"]


def cut_segments(source: Path, folder: Path, extra: Sequence[str] = ()) -> list[Piece]:
    """``source`` cut by ffmpeg's HLS muxer into 2-s MPEG-TS segments (stream copy unless ``extra`` says)."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *(extra or ["-c", "copy"]),
                    "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
                    "-hls_segment_filename", str(folder / "seg%03d.ts"), str(playlist)], check=True, timeout=120)
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+)", playlist.read_text())]
    codec, width, height = _probe(folder / "seg000.ts")
    return [Piece(folder / f"seg{i:03d}.ts", d, codec, width, height) for i, d in enumerate(durations)]


@pytest.fixture(scope="session")
def recorded_segments(tmp_path_factory: pytest.TempPathFactory) -> list[Piece]:
    return cut_segments(footage("vtest.mp4"), tmp_path_factory.mktemp("segments-h264"))


@pytest.fixture(scope="session")
def hevc_segments(tmp_path_factory: pytest.TempPathFactory) -> list[Piece]:
    return cut_segments(footage("vtest.mp4"), tmp_path_factory.mktemp("segments-hevc"),
                        ["-t", "6", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=20:log-level=0",
                         "-an"])


def index_footage(conn: psycopg.Connection, data_dir: Path, camera_id: int, start: datetime,
                  pieces: Sequence[Piece], *, run_id: str | None = None, node: str = "test-node") -> list[Indexed]:
    """Copy ``pieces`` into the camera's recordings folder of ``start``'s day and index them back to back from
    ``start`` (one recorder run), as the recorder's indexer would."""
    run_id = run_id or uuid.uuid4().hex[:8]
    folder = media.recording_segments_dir(data_dir, camera_id, start.date())
    folder.mkdir(parents=True, exist_ok=True)
    out, when = [], start
    for piece in pieces:
        end = when + timedelta(seconds=piece.duration_s)
        target = folder / f"{when:%H%M%S}-{run_id}-{piece.file.name}"
        shutil.copyfile(piece.file, target)
        relative = str(target.relative_to(media.recordings_dir(data_dir)))
        conn.execute("INSERT INTO recording_segments (camera_id, start_time, end_time, path, bytes, codec, width,"
                     " height, node, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     (camera_id, when, end, relative, target.stat().st_size, piece.codec, piece.width, piece.height,
                      node, run_id))
        out.append(Indexed(when, end, relative))
        when = end
    return out


def index_rows(conn: psycopg.Connection, camera_id: int, start: datetime, durations: Sequence[float], *,
               run_id: str = "run-1", codec: str = "h264", gaps: dict[int, float] | None = None) -> list[Indexed]:
    """Index rows without files (for queries on the index alone): segments of ``durations`` back to back from
    ``start``, with ``gaps[i]`` seconds of nothing before segment ``i``."""
    out, when = [], start
    for i, duration in enumerate(durations):
        when += timedelta(seconds=(gaps or {}).get(i, 0.0))
        end = when + timedelta(seconds=duration)
        path = f"{camera_id}/{when:%Y-%m-%d}/{when:%H%M%S%f}-{run_id}.ts"
        conn.execute("INSERT INTO recording_segments (camera_id, start_time, end_time, path, bytes, codec, width,"
                     " height, node, run_id) VALUES (%s, %s, %s, %s, 1000, %s, 768, 576, 'n1', %s)",
                     (camera_id, when, end, path, codec, run_id))
        out.append(Indexed(when, end, path))
        when = end
    return out


class LiveRecording:
    """ffmpeg in real time (``-re``) on a looping clip, writing 2-s segments under the camera's recordings
    folder and the live playlist (``#EXT-X-PROGRAM-DATE-TIME`` per segment), as the recorder does."""

    def __init__(self, data_dir: Path, camera_id: int, source: Path | None = None) -> None:
        self.folder = media.recording_camera_dir(data_dir, camera_id)
        self.playlist = media.recording_live_playlist(data_dir, camera_id)
        self.source = source or footage("vtest.mp4")
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveRecording:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.source),
             "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "6",
             "-hls_flags", "program_date_time+delete_segments+omit_endlist", "-strftime", "1", "-strftime_mkdir", "1",
             "-hls_segment_filename", str(self.folder / "%Y-%m-%d" / "live-%H%M%S.ts"), str(self.playlist)],
            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (self.playlist.is_file() and "#EXTINF" in self.playlist.read_text()):
            time.sleep(0.1)
        if not self.playlist.is_file():
            self.__exit__()
            raise RuntimeError("ffmpeg wrote no live playlist in 15 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None


def ffprobe_duration(file: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(file)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return float(json.loads(out)["format"]["duration"])
