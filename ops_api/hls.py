"""HLS playlists of recorded footage for players (hls.js in the console): a VOD playlist built from the index, and
the recorder's live playlist with its segment addresses turned into the API's.

Every segment address points at the API (``/api/recordings/<camera>/segments/<path>``), which checks the viewer
again for each segment; a player never learns where the files lie on the server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from store.playback import Segment, is_discontinuity

MEDIA_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPES = {".ts": "video/mp2t", ".m4s": "video/iso.segment", ".mp4": "video/mp4"}
# The tags that belong to the segment whose address follows them (dropped with it when it cannot be served).
_SEGMENT_TAGS = ("#EXTINF", "#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-BYTERANGE", "#EXT-X-DISCONTINUITY")


def segment_url(camera_id: int, path: str) -> str:
    """The API address of an indexed segment (``path`` relative to the recordings area)."""
    return f"/api/recordings/{camera_id}/segments/{quote(path)}"


def program_date_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def vod_playlist(camera_id: int, segments: Sequence[Segment]) -> str:
    """A complete (``#EXT-X-ENDLIST``) playlist of ``segments``, oldest first: the wall-clock time of each
    (``#EXT-X-PROGRAM-DATE-TIME``) and ``#EXT-X-DISCONTINUITY`` wherever the footage has a hole or the recorder
    restarted, so the player restarts its clock there instead of stalling."""
    target = max(1, math.ceil(max((s.duration_s for s in segments), default=1.0)))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-MEDIA-SEQUENCE:0"]
    previous = None
    for segment in segments:
        if is_discontinuity(previous, segment):
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(segment.start)}",
                  f"#EXTINF:{segment.duration_s:.3f},", segment_url(camera_id, segment.path)]
        previous = segment
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def playlist_paths(text: str, playlist: Path, area: Path, camera_folder: Path) -> list[str]:
    """The segments a recorder's playlist names (relative to it, or absolute file paths), as paths relative to the
    recordings area; addresses that lead out of the camera's folder (or are URLs) are left out."""
    return [p for p in (_local(line.strip(), playlist, area, camera_folder) for line in text.splitlines()
                        if line.strip() and not line.startswith("#")) if p is not None]


def _local(uri: str, playlist: Path, area: Path, camera_folder: Path) -> str | None:
    if "://" in uri:
        return None
    path = (playlist.parent / uri).resolve()  # ffmpeg writes the address as given: relative, or absolute
    if not path.is_relative_to(camera_folder.resolve()):
        return None
    return str(path.relative_to(area.resolve()))


def rewrite_live(text: str, camera_id: int, playlist: Path, area: Path, camera_folder: Path) -> str:
    """The recorder's live playlist with each segment address replaced by the API's; a segment whose address
    leads elsewhere is dropped with its tags."""
    out: list[str] = []
    pending: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            (pending if line.startswith(_SEGMENT_TAGS) else out).append(line)
            continue
        local = _local(line, playlist, area, camera_folder)
        if local is not None:
            out += [*pending, segment_url(camera_id, local)]
        pending = []
    return "\n".join(out) + "\n"

