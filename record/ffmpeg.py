"""ffmpeg as the recorder: the command line, starting it tied to its parent, ffprobe, scrubbed messages.

The command copies the main stream (``-c copy``: no decoding, about 1 % of a core per camera) over RTSP/TCP into
MPEG-TS segments with ffmpeg's HLS muxer: segments are cut at key frames near ``segment_s``, named by the UTC
time they opened and the recorder run, and a live playlist lists the newest closed ones with their wall-clock
start (``#EXT-X-PROGRAM-DATE-TIME``). Probing is cut to the minimum (``-analyzeduration 0 -probesize 32``):
with ffmpeg's default probing the packets read while probing are muxed at once and the program date time of
every segment came out about 2.6 s late against the segment files' close times (measured here); RTSP's SDP
already names the codecs. The URL handed to ffmpeg carries the camera's credentials: it is never logged, and
every line ffmpeg writes goes through ``core.redact`` before anyone sees it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core import media
from core.redact import redact
from core.settings import RecordSettings

PR_SET_PDEATHSIG = 1


def record_command(settings: RecordSettings, source_uri: str, run_id: str) -> list[str]:
    """ffmpeg's arguments for one run; it runs in the camera's recordings folder with TZ=UTC."""
    return [
        settings.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
        "-timeout", str(int(settings.io_timeout_s * 1_000_000)),  # RTSP socket I/O, microseconds
        "-analyzeduration", "0", "-probesize", "32",
        "-rtsp_transport", "tcp", "-i", source_uri,
        "-map", "0:v", "-map", "0:a?", "-c", "copy",
        # A packet without a decoding time (the first ones of a stream with B-frames, seen here) would make the
        # muxer give up on the camera: it gets its presentation time instead; every other packet is untouched.
        "-bsf:v", "setts=dts='if(eq(DTS,NOPTS),PTS,DTS)'",
        "-f", "hls", "-hls_time", f"{settings.segment_s:g}", "-hls_list_size", str(settings.live_segments),
        "-hls_flags", "program_date_time+independent_segments+second_level_segment_index+temp_file",
        "-hls_segment_type", "mpegts", "-strftime", "1", "-strftime_mkdir", "1",
        "-hls_segment_filename", media.recording_segment_pattern(run_id),
        media.LIVE_PLAYLIST,
    ]


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the thread that started it ends (a killed worker leaves no
    ffmpeg behind writing into the camera's folder)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(command: list[str], folder: Path) -> subprocess.Popen[bytes]:
    """Start ffmpeg in ``folder`` with stderr piped (read it: a full pipe blocks ffmpeg)."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(command, cwd=folder, env={**os.environ, "TZ": "UTC"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_die_with_parent)


def scrub(line: str, secrets: tuple[str | None, ...] = ()) -> str:
    """A line of ffmpeg's with the camera's credentials taken out (URLs quote them)."""
    return redact(line.rstrip(), secrets)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    codec: str | None
    width: int | None
    height: int | None
    duration_s: float | None


def probe(ffprobe: str, path: Path, timeout_s: float = 10.0) -> StreamInfo | None:
    """The video codec, picture size and duration of a media file; None when ffprobe cannot read it."""
    try:
        result = subprocess.run(
            [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=codec_name,width,height:format=duration", "-of", "json", str(path)],
            capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        return None
    streams = data.get("streams") or [{}]
    stream = streams[0]
    duration = data.get("format", {}).get("duration")
    try:
        seconds = float(duration) if duration not in (None, "N/A") else None
    except ValueError:
        seconds = None
    return StreamInfo(stream.get("codec_name"), stream.get("width"), stream.get("height"), seconds)
