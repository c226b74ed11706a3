"""The data folder's layout: every path under ``settings.data_dir`` is spelled here and nowhere else.

```
DATA_DIR/
  db/                                   the embedded PostgreSQL cluster (store/embedded.py)
  secret.key                            the key that encrypts camera passwords (unless secret_key_file is set)
  evidence/<camera>/<YYYY-MM-DD>/<event id>-<label>.jpg
                                        event pictures: the rules' (boxes and zones drawn) and tamper alarms'
  live/<camera>.jpg                     each camera's newest annotated frame, written by its vision worker
  snapshots/camera-<camera>.jpg         the still taken when the camera was onboarded
  plans/site-<site>-<sha256 prefix>.<png|jpg|webp>
                                        a site's uploaded floor or area plan (the map page)
  spool/[<worker>/]                     the store writer's disk spool (one folder per vision worker)
  recordings/<camera>/live.m3u8         the recorder's live playlist (ffmpeg's own, newest segments)
  recordings/<camera>/<YYYY-MM-DD>/<HHMMSS>-<run>-<NNNN>.ts
                                        recorded segments of the main stream (UTC day and time the segment
                                        opened, the recorder run, its number in the run)
  scenarios/                            `vigil eval`'s rendered scenarios and their cache
```

Paths the database keeps (``events.evidence_path``, ``cameras.snapshot_path``) are absolute, except the live
picture's, which is relative to the data folder (``live/<camera>.jpg``) so that every node that shares the
folder finds it. Older evidence (tamper pictures at ``evidence/camera-<id>/tamper-<event>.jpg``) stays
readable: readers go by the stored path (``stored_file``), never by this layout.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

EVIDENCE = "evidence"
LIVE_PICTURES = "live/"  # the prefix of a cameras.snapshot_path that is the worker's live picture
SNAPSHOTS = "snapshots"
PLANS = "plans"
SPOOL = "spool"
RECORDINGS = "recordings"
EXPORTS = "exports"
LIVE_PLAYLIST = "live.m3u8"  # in each camera's recordings folder
DATABASE = "db"
SECRET_KEY = "secret.key"
SCENARIOS = "scenarios"


# -- event pictures ----------------------------------------------------------------------------------------
def evidence_dir(data_dir: Path) -> Path:
    return Path(data_dir) / EVIDENCE


def evidence_file(data_dir: Path, camera_id: int | None, day: date, event_id: UUID | str,
                  label: str = "start") -> Path:
    """An event's picture (absolute): one folder per camera and day, whatever raised the event."""
    camera = "none" if camera_id is None else str(camera_id)
    return (evidence_dir(data_dir) / camera / day.strftime("%Y-%m-%d") / f"{event_id}-{label}.jpg").absolute()


def stored_file(data_dir: Path, stored: str) -> Path | None:
    """The file a stored path names (absolute, or relative to the data folder) if it is a file inside the data
    folder once links are followed; None otherwise (gone, or leading out of the folder)."""
    root = Path(data_dir).resolve()
    path = Path(stored)
    path = (path if path.is_absolute() else root / path).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


# -- live pictures -----------------------------------------------------------------------------------------
def live_pictures_dir(data_dir: Path) -> Path:
    return Path(data_dir) / LIVE_PICTURES


def live_picture(camera_id: int) -> str:
    """A camera's live picture as ``cameras.snapshot_path`` holds it (relative to the data folder)."""
    return f"{LIVE_PICTURES}{camera_id}.jpg"


def live_picture_file(data_dir: Path, camera_id: int) -> Path:
    """Where the vision worker keeps a camera's live picture and the API reads it."""
    return Path(data_dir) / live_picture(camera_id)


def is_live_picture(snapshot_path: str | None) -> bool:
    """Whether a camera's ``snapshot_path`` is the worker's live picture (not a still kept at onboarding)."""
    return bool(snapshot_path) and str(snapshot_path).startswith(LIVE_PICTURES)


# -- onboarding stills -------------------------------------------------------------------------------------
def snapshot_file(data_dir: Path, camera_id: int) -> Path:
    """Where the picture taken at onboarding is kept (``cameras.snapshot_path``, absolute): a still of the
    camera, not its live picture."""
    return (Path(data_dir) / SNAPSHOTS / f"camera-{camera_id}.jpg").absolute()


# -- site plans -------------------------------------------------------------------------------------------
def plans_dir(data_dir: Path) -> Path:
    return Path(data_dir) / PLANS


def site_plan_file(data_dir: Path, site_id: int, digest: str, extension: str) -> Path:
    """Where a site's uploaded plan is kept (absolute; ``sites.plan_image``): named by its content, so a new
    plan never reuses the old one's name (browsers cache plans) and the old file can go."""
    return (plans_dir(data_dir) / f"site-{site_id}-{digest[:16]}.{extension}").absolute()


# -- the store writer's spool ------------------------------------------------------------------------------
def spool_dir(data_dir: Path, worker_id: str | None = None) -> Path:
    """The writer's disk spool: one folder per vision worker (a restarted worker with the same id replays
    it); without a worker, the folder of one-off writers such as ``vigil analyze``."""
    folder = Path(data_dir) / SPOOL
    return folder if worker_id is None else folder / worker_id.replace("/", "_")


# -- recordings --------------------------------------------------------------------------------------------
def recordings_dir(data_dir: Path) -> Path:
    return Path(data_dir) / RECORDINGS


def recording_camera_dir(data_dir: Path, camera_id: int) -> Path:
    """One camera's recordings: a folder per day of segments, and the recorder's live playlist."""
    return recordings_dir(data_dir) / str(camera_id)


def recording_segments_dir(data_dir: Path, camera_id: int, day: date) -> Path:
    """The folder of one camera's recorded segments of one day."""
    return recording_camera_dir(data_dir, camera_id) / day.strftime("%Y-%m-%d")


def recording_live_playlist(data_dir: Path, camera_id: int) -> Path:
    """The recorder's own HLS playlist of the camera's newest segments (the live view plays it)."""
    return recording_camera_dir(data_dir, camera_id) / LIVE_PLAYLIST


def recording_file(data_dir: Path, relative: str) -> Path | None:
    """The file of an indexed segment (``recording_segments.path``, relative to the recordings area), or None
    when the path would lead out of the area."""
    area = recordings_dir(data_dir).resolve()
    path = (area / relative).resolve()
    return path if path.is_relative_to(area) else None


def recording_segment_pattern(run_id: str) -> str:
    """ffmpeg's ``-hls_segment_filename`` for one recorder run, relative to the camera's folder (ffmpeg runs there
    with TZ=UTC and ``-strftime 1``): a folder per UTC day, the time the segment opened, the run, its number."""
    return f"%Y-%m-%d/%H%M%S-{run_id}-%%04d.ts"


def recording_path(camera_id: int, in_camera_dir: str) -> str:
    """A segment's ``recording_segments.path`` (relative to the recordings area) from its path in the camera's
    folder (as the live playlist lists it)."""
    return f"{camera_id}/{in_camera_dir}"


def exports_dir(data_dir: Path) -> Path:
    """Footage exports made on the server (MP4 files handed to a person, with their sha256 recorded)."""
    return Path(data_dir) / EXPORTS


def export_file(data_dir: Path, name: str) -> Path:
    """The file of one export, by its file name (a bare name: no folder may be smuggled in)."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"not an export file name: {name!r}")
    return exports_dir(data_dir) / name


# -- the rest ----------------------------------------------------------------------------------------------
def database_dir(data_dir: Path) -> Path:
    """The embedded PostgreSQL cluster's folder (PGDATA, socket, log and password file inside)."""
    return Path(data_dir) / DATABASE


def key_file(data_dir: Path) -> Path:
    return Path(data_dir) / SECRET_KEY


def scenarios_dir(data_dir: Path) -> Path:
    """``vigil eval``'s rendered scenarios, their ground truth and the cut-out cache."""
    return Path(data_dir) / SCENARIOS


def clip_phases_dir(data_dir: Path) -> Path:
    """A clip re-cut to start at other moments (``vigil bench capacity``: cameras not all in step)."""
    return scenarios_dir(data_dir) / "phases"
