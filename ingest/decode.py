"""Opening a camera's stream with PyAV (FFmpeg): RTSP over TCP, open/read timeouts, CPU or NVDEC decode.

``choose_decoder(setting)`` picks ``"cpu"`` for ``auto`` (cheaper per frame than NVDEC plus the copy back
to host memory, see docs/decisions.md) and ``"cuda"`` (NVDEC through FFmpeg's hwaccel) only when asked;
``gpu_decode_available()`` says whether NVDEC could be used.
A CUDA open that fails falls back to the CPU (``open_stream`` reports which one it used).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import av
import cv2
import numpy as np

from core.redact import redact

if TYPE_CHECKING:  # only the type: the decoder runs without the cameras layer loaded
    from cameras.models import CameraSource

log = logging.getLogger(__name__)
Decoder = Literal["cpu", "cuda"]
# Failures of the stream itself, which a CPU decoder would meet just the same.
_STREAM_ERRORS = (ConnectionError, TimeoutError, FileNotFoundError, IsADirectoryError, av.error.ExitError)

# Small probe: the first key frame carries what the decoder needs; FFmpeg's default probing waits seconds.
RTSP_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32768", "fpsprobesize": "0"}


@lru_cache(maxsize=1)
def gpu_decode_available() -> bool:
    """Whether FFmpeg (as linked into PyAV) has CUDA and an NVIDIA GPU is visible."""
    try:
        from av.codec.hwaccel import hwdevices_available

        if "cuda" not in hwdevices_available():
            return False
    except ImportError:
        return False
    if not os.path.exists("/dev/nvidiactl") or not shutil.which("nvidia-smi"):
        return False
    try:
        result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and b"GPU" in result.stdout


def choose_decoder(setting: str) -> Decoder:
    """The decoder for a setting of ``auto``, ``cpu`` or ``cuda``: ``auto`` is the CPU, even on GPU hosts.

    Frames go to vision as BGR arrays in host memory, and NVDEC with that copy back costs more CPU per frame
    than software decoding (4.5 vs 2.5 ms at 768x576), part of it with the GIL held, which capped a whole
    H100 pipeline at ~230 frames/s with no inference at all. ``cuda`` still forces NVDEC (it pays once the
    frames stay on the GPU).
    """
    if setting == "cuda":
        return "cuda"
    return "cpu"


@dataclass
class OpenedStream:
    container: Any  # av.container.InputContainer
    stream: Any  # av.video.stream.VideoStream
    decoder: Decoder

    def close(self) -> None:
        try:
            self.container.close()
        except Exception:  # closing a broken stream must never mask why it broke
            log.debug("close failed", exc_info=True)


def open_stream(source: CameraSource, open_timeout_s: float, read_timeout_s: float,
                decoder: Decoder = "cpu") -> OpenedStream:
    """Open the source's video stream; raise ``av.error.FFmpegError``/``OSError``/``ValueError`` on failure."""
    options = {} if source.is_file else dict(RTSP_OPTIONS)
    hwaccel = None
    if decoder == "cuda":
        from av.codec.hwaccel import HWAccel

        hwaccel = HWAccel(device_type="cuda", allow_software_fallback=True)
    try:
        container = av.open(source.open_uri, mode="r", options=options,
                            timeout=(open_timeout_s, read_timeout_s), hwaccel=hwaccel)
    except _STREAM_ERRORS:
        raise
    except Exception as exc:
        if decoder != "cuda":
            raise
        # No usable CUDA device (driver missing, GPU busy or lost): decode on the CPU rather than never.
        log.warning("%s: CUDA decoding unavailable (%s); decoding on the CPU", source.display_uri,
                    describe_error(exc, [source.password]))
        return open_stream(source, open_timeout_s, read_timeout_s, "cpu")
    try:
        if not container.streams.video:
            raise ValueError(f"{source.display_uri}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if source.is_file and not source.realtime else "SLICE"
    except BaseException:
        container.close()
        raise
    return OpenedStream(container, stream, decoder)


_CV2_YUV = {"yuv420p": cv2.COLOR_YUV2BGR_I420, "nv12": cv2.COLOR_YUV2BGR_NV12}  # pixel format -> conversion


def to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """A decoded picture as a BGR uint8 array.

    The usual 4:2:0 layouts (yuv420p from the software decoder, nv12 from NVDEC) are converted by OpenCV
    from the planes as they are: about 0.3 ms of CPU for a 768x576 picture against 0.9-4.7 ms through
    PyAV's ``to_ndarray(format="bgr24")`` (swscale), measured on both machines (docs/benchmarks.md). Both
    use BT.601 limited range; they differ by about one grey level on average (chroma upsampling). Other
    formats (full-range yuvj420p, 4:2:2, RGB) and odd sizes go through swscale.
    """
    code = _CV2_YUV.get(frame.format.name)
    if code is not None and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(), code)  # planes stacked (H * 3/2, W), line padding removed
    return frame.to_ndarray(format="bgr24")


def describe_error(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """A short reason for logs and event attributes, without credentials (nor the given secrets)."""
    return redact(str(exc) or type(exc).__name__, secrets)[:300]
