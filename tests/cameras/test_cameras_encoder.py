"""Setting a camera's main stream for recording over ONVIF, against a real device (ipycam, in a network namespace
the test creates): its H.264 stream with a key frame every second already fits and nothing is sent; asked for
another GOP, the device refuses (ipycam does not implement SetVideoEncoderConfiguration) and the command says so
with its own exit code. A camera that accepts the change is not available here: that path is untested."""

from __future__ import annotations

import json

import pytest

from cameras.onvif_encoder import EncoderState
from tests.support.onvif import ONVIF_PORT, ROOT, run_with_camera

VIGIL = str(ROOT / ".venv" / "bin" / "vigil")
ENCODER = [VIGIL, "cameras", "encoder", "127.0.0.1", "--port", str(ONVIF_PORT), "--profile", "Profile_Main",
           "--timeout", "5"]


@pytest.mark.usefixtures("netns")
def test_an_h264_stream_fits_and_a_refused_change_says_why() -> None:
    script = f"{' '.join(ENCODER)} --json; echo EXIT=$?; {' '.join(ENCODER)} --gov-length 20; echo EXIT=$?"
    result = run_with_camera(["sh", "-c", script])
    first, second = result.stdout.split("EXIT=")[0], result.stdout.split("EXIT=")[1]
    report = json.loads(first)
    assert report["changed"] is False and report["fits_recording"] is True
    assert report["before"]["encoding"] == "H264" and report["before"]["gov_length"] == 10  # 1 s at 10 fps
    assert second.startswith("0"), result.stderr
    assert result.stdout.rstrip().endswith("EXIT=26"), result.stdout + result.stderr
    assert "refused to change its encoder: Action not supported" in result.stderr


def test_what_fits_recording() -> None:
    def state(encoding: str, fps: float | None, gov: int | None) -> EncoderState:
        return EncoderState("p", "v", encoding, 1920, 1080, fps, gov)

    assert state("H264", 25, 50).fits_recording and state("H264", None, None).fits_recording
    assert not state("H264", 25, 100).fits_recording, "a key frame every 4 s makes 4-s segments"
    assert not state("H265", 25, 50).fits_recording, "the browser cannot play H.265"
