"""Tamper alarms on clips made from the shipped footage: covered, frozen, out of focus, turned away."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cameras.models import CameraSource
from core.settings import IngestSettings
from core.types import Event, EventType
from ingest.reader import CameraReader
from tests.support.rtsp import RtspServer, footage

# Each clip: 8 s of the normal scene, then the fault (ffmpeg filters on the real footage).
FAULTS = {
    "plain": ("-t", "30", "-vf", "null"),
    "blackout": ("-t", "20", "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,8)'"),
    "defocus": ("-t", "20", "-vf", "gblur=sigma=12:enable='gte(t,8)'"),
    "defocus-late": ("-t", "24", "-vf", "gblur=sigma=12:enable='gte(t,12)'"),  # served over RTSP
    "frozen": ("-t", "25", "-vf", "loop=loop=170:size=1:start=80,setpts=N/10/TB"),
    "moved": ("-t", "30", "-filter_complex",
              "[0]split[a][b];[b]crop=iw-150:ih-110:150:110,scale=768:576[s];[a][s]overlay=enable='gte(t,8)'"),
}
SETTINGS = IngestSettings(analytics_fps=2.0)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tamper")
    made = {}
    for name, args in FAULTS.items():
        out = folder / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(footage()), *args, "-an", "-c:v", "libx264",
                        "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "20", "-bf", "0", str(out)],
                       check=True, timeout=120)
        made[name] = out
    return made


def _tamper_events(clip: Path, data_dir: Path) -> list[Event]:
    events: list[Event] = []
    camera = CameraSource.from_file(9, clip, loop=False, realtime=False)  # stream time drives the detector
    with CameraReader(camera, SETTINGS, on_event=events.append, data_dir=data_dir) as reader:
        deadline = time.monotonic() + 60
        while not reader.ended and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reader.ended
    return [e for e in events if e.type == EventType.CAMERA_TAMPER]


def test_untouched_footage_raises_no_tamper_alarm(clips: dict[str, Path], tmp_path: Path) -> None:
    assert _tamper_events(clips["plain"], tmp_path) == []


@pytest.mark.parametrize("kind", ["blackout", "frozen", "defocus", "moved"])
def test_each_fault_raises_its_own_tamper_alarm_with_a_snapshot(kind: str, clips: dict[str, Path],
                                                                tmp_path: Path) -> None:
    events = _tamper_events(clips[kind], tmp_path)
    kinds = {e.attributes["kind"] for e in events}
    assert kinds == {kind}, f"{kind} clip raised {kinds or 'nothing'}"
    opened = events[0]
    assert opened.end is None and opened.camera_id == 9
    assert opened.evidence_path and Path(opened.evidence_path).stat().st_size > 1000  # a JPEG of what was seen


def test_a_tamper_picture_lies_with_the_cameras_other_evidence_of_that_day(clips: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    """One layout for every event picture: DATA_DIR/evidence/<camera>/<day>/<event>-<label>.jpg, so whoever
    looks for a camera's pictures of a day finds the tamper alarms beside the rules' evidence."""
    import numpy as np

    from core.types import Detections, Severity
    from vision.evidence import write_evidence

    opened = _tamper_events(clips["blackout"], tmp_path)[0]
    day = opened.start.strftime("%Y-%m-%d")
    assert Path(opened.evidence_path or "") == tmp_path / "evidence" / "9" / day / f"{opened.id}-start.jpg"
    crowd = Event(EventType.CROWD, 9, opened.start, Severity.LOW)
    rule_picture = write_evidence(tmp_path, crowd, np.zeros((72, 96, 3), np.uint8), Detections.empty())
    assert rule_picture.parent == Path(opened.evidence_path or "").parent


def test_a_network_camera_learns_its_view_and_raises_defocus(clips: dict[str, Path], tmp_path: Path,
                                                            rtsp_server_factory: Callable[..., RtspServer]) -> None:
    """An RTSP stream's first frame carries no timestamp, so the reader times it by the monotonic clock and
    the next frames by the stream: time goes back. The detector must still finish learning the view, or
    defocus and moved-camera alarms never come on any network camera (and its learning samples grow)."""
    server = rtsp_server_factory({"/cam1": str(clips["defocus-late"])})
    events: list[Event] = []
    camera = CameraSource.from_rtsp(9, server.url())
    with CameraReader(camera, SETTINGS, on_event=events.append, data_dir=tmp_path):
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not any(e.type == EventType.CAMERA_TAMPER for e in events):
            time.sleep(0.1)
    kinds = {e.attributes["kind"] for e in events if e.type == EventType.CAMERA_TAMPER}
    assert kinds == {"defocus"}, f"a blurred network camera raised {kinds or 'nothing'}"
