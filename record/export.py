"""An MP4 export of recorded footage: the segments joined by ffmpeg's concat demuxer with stream copy.

Whole segments only: nothing is re-encoded, so the file starts and ends at the segments' key frames, a little
before the range asked for and a little after it (at most one segment, about one GOP, at each end). What the
file really covers is returned and stated by the caller; holes in the footage (a camera outage, a recorder
restart) are left out of the file, so its duration is the footage's, not the wall clock's. The file is written
under a temporary name and renamed when whole, and its sha256 is computed from the bytes on disk.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

CHUNK = 1 << 20


class ExportError(RuntimeError):
    """ffmpeg could not join the segments (a missing or unreadable file, a full disk, a time-out)."""


@dataclass(frozen=True)
class ExportPiece:
    """One segment to put in the file: its file and the wall-clock time it covers."""

    file: Path
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ExportResult:
    file: Path
    sha256: str
    bytes: int
    actual_start: datetime
    actual_end: datetime
    segments: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def export_file_name(camera_id: int, actual_start: datetime, actual_end: datetime, tag: str = "") -> str:
    """``vigil-cam12-20261207T081458Z-20261207T083002Z.mp4``: the camera and what the file really covers (UTC)."""
    suffix = f"-{tag}" if tag else ""
    return f"vigil-cam{camera_id}-{_stamp(actual_start)}-{_stamp(actual_end)}{suffix}.mp4"


def _concat_list(pieces: Sequence[ExportPiece]) -> str:
    # The concat demuxer's quoting: a single quote inside '...' is written '\''.
    return "".join("file '{}'\n".format(str(p.file.resolve()).replace("'", "'\\''")) for p in pieces)


def export_mp4(pieces: Sequence[ExportPiece], target: Path, *, title: str | None = None, timeout_s: float = 600.0,
               ffmpeg: str = "ffmpeg") -> ExportResult:
    """Join ``pieces`` (oldest first) into the MP4 ``target``; raise ``ExportError`` when ffmpeg fails."""
    if not pieces:
        raise ExportError("no footage to export")
    missing = [p.file.name for p in pieces if not p.file.is_file()]
    if missing:
        raise ExportError(f"{len(missing)} segment file(s) are missing, the first {missing[0]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    listing = target.with_name(f".{target.name}.txt")
    listing.write_text(_concat_list(pieces), encoding="utf-8")
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0",
               "-i", str(listing), "-map", "0:v", "-map", "0:a?", "-c", "copy", "-bsf:a", "aac_adtstoasc",
               "-movflags", "+faststart", *(["-metadata", f"title={title}"] if title else []), "-f", "mp4",
               str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise ExportError(f"ffmpeg failed: {last}")
        os.replace(partial, target)
    except subprocess.TimeoutExpired:
        raise ExportError(f"ffmpeg did not finish in {timeout_s:.0f} s") from None
    finally:
        listing.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return ExportResult(target, file_sha256(target), target.stat().st_size, pieces[0].start, pieces[-1].end,
                        len(pieces))
