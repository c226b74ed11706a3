"""The small clocks and the frame hand-over that every camera reader relies on."""

import threading
import time
from pathlib import Path

import numpy as np

from core.types import Frame
from ingest.decode import choose_decoder, describe_error, gpu_decode_available
from ingest.slot import FrameSlot
from ingest.timing import Backoff, Sampler


def _frame(index: int) -> Frame:
    return Frame(camera_id=1, image=np.zeros((4, 4, 3), np.uint8), captured_at=time.time(), index=index)


def test_slot_keeps_only_the_newest_frame_and_counts_the_dropped() -> None:
    slot = FrameSlot(1)
    for i in range(5):
        slot.put(_frame(i))
    taken = slot.take(-1)
    assert taken is not None and taken.index == 4
    assert slot.dropped == 4 and slot.delivered == 5
    assert slot.take(4, timeout=0.05) is None  # nothing newer: waits briefly, then gives up


def test_slot_take_wakes_up_when_a_frame_arrives() -> None:
    slot = FrameSlot(1)
    threading.Timer(0.05, slot.put, args=(_frame(7),)).start()
    started = time.monotonic()
    taken = slot.take(-1, timeout=2.0)
    assert taken is not None and taken.index == 7
    assert time.monotonic() - started < 1.0


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(0.5, 8.0)
    delays = [backoff.next() for _ in range(10)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(4.0 <= d <= 8.0 for d in delays[5:])  # capped at 8 s, never below half of it
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter spreads many cameras' reconnects
    backoff.reset()
    assert backoff.next() <= 0.5


def test_sampler_delivers_the_analytics_rate_evenly() -> None:
    sampler = Sampler(2.0)
    chosen = [i for i in range(100) if sampler.due(i / 10)]  # 10 s of a 10 fps stream
    assert len(chosen) == 20
    assert set(np.diff(chosen)) == {5}


def test_sampler_restarts_when_time_goes_back_and_never_bursts() -> None:
    sampler = Sampler(2.0)
    assert sampler.due(30.0)
    assert sampler.due(0.0)  # a looped file starts again
    assert sampler.due(100.0)  # after a long gap: one frame...
    assert not sampler.due(100.1)  # ...not a burst of catch-up frames


def test_cpu_decoding_is_chosen_on_a_machine_without_gpu() -> None:
    # Without an NVIDIA device auto must pick the CPU; cpu/cuda settings are obeyed as given.
    if not Path("/dev/nvidiactl").exists():
        assert not gpu_decode_available()
    # auto is the CPU on GPU hosts too: NVDEC plus the copy back to host memory costs more CPU per frame.
    assert choose_decoder("auto") == "cpu"
    assert choose_decoder("cpu") == "cpu"
    assert choose_decoder("cuda") == "cuda"


def test_errors_never_show_stream_credentials() -> None:
    error = OSError("Connection refused: 'rtsp://admin:s3cret@10.1.2.3:554/Streaming/101'")
    assert "s3cret" not in describe_error(error)
    assert "rtsp://10.1.2.3:554/Streaming/101" in describe_error(error)


def test_cuda_decoding_falls_back_to_the_cpu_where_no_gpu_can_be_opened() -> None:
    if Path("/dev/nvidiactl").exists():
        return  # a GPU host: CUDA opens for real (checked there by hand, see docs/benchmarks.md)
    from cameras.models import CameraSource
    from ingest.decode import open_stream
    from tests.support.rtsp import footage

    stream = open_stream(CameraSource.from_file(1, footage()), 5.0, 5.0, "cuda")
    try:
        frame = next(stream.container.decode(stream.stream))
    finally:
        stream.close()
    assert stream.decoder == "cpu" and frame.width == 768
