"""The live playlist ffmpeg's HLS muxer keeps: which segments have closed, how long each is, when each began.

ffmpeg writes the playlist to a temporary file and renames it, so a reader never sees half of it; a segment is
listed only once it has closed. ``#EXT-X-PROGRAM-DATE-TIME`` (with ``-hls_flags program_date_time``) gives each
segment's wall-clock start to the millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PlaylistEntry:
    uri: str  # as listed: relative to the playlist's folder
    duration_s: float
    program_time: datetime | None  # wall clock of its first frame as ffmpeg reckons it


@dataclass(frozen=True, slots=True)
class Playlist:
    entries: tuple[PlaylistEntry, ...]
    ended: bool  # #EXT-X-ENDLIST: ffmpeg finished this run (the camera went away, or ffmpeg was told to stop)


def parse_program_time(text: str) -> datetime | None:
    """``2026-12-06T04:47:07.017+0000`` (ffmpeg's form) or ISO 8601 with a colon in the offset."""
    text = text.strip()
    for form in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_playlist(text: str) -> Playlist:
    entries: list[PlaylistEntry] = []
    duration: float | None = None
    program_time: datetime | None = None
    ended = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            try:
                duration = float(line[len("#EXTINF:"):].split(",", 1)[0])
            except ValueError:
                duration = None
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            program_time = parse_program_time(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif not line.startswith("#"):
            if duration is not None and duration > 0:
                entries.append(PlaylistEntry(line, duration, program_time))
            duration, program_time = None, None
    return Playlist(tuple(entries), ended)


def read_playlist(path: Path) -> Playlist | None:
    """The playlist at ``path``, or None while there is none."""
    try:
        return parse_playlist(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return None
