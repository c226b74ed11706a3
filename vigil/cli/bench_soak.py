"""``vigil bench soak``: the real worker on 16 file cameras for N minutes (memory, drops, latency, queue)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail, state

DEFAULT_FOOTAGE = (Path("var/footage/vtest.mp4"), Path("var/footage/bikes.mp4"))


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("soak")(bench_soak)


def bench_soak(
    ctx: typer.Context,
    minutes: Annotated[float, typer.Option("--minutes", min=0.1, help="How long the soak runs.")] = 30.0,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[int, typer.Option("--cameras", min=1, max=256, help="File cameras (footage in turn).")] = 16,
    fps: Annotated[float, typer.Option("--fps", min=0.1, max=30, help="Analytics frames/s per camera.")] = 2.0,
    sample_s: Annotated[float, typer.Option("--sample-s", min=1.0, help="Seconds between samples.")] = 30.0,
    footage: Annotated[list[Path] | None, typer.Option("--footage", help="Clips the cameras play (repeatable).")
                       ] = None,
    trace_memory: Annotated[bool, typer.Option(
        "--tracemalloc", help="Also trace Python allocations (slower): every sample records the Python heap and "
        "glibc's in-use/free bytes; the summary's 'memory' lists the allocation sites that grew from the end of "
        "the warm-up to the end, and the RSS that malloc_trim gives back.")] = False,
    trace_frames: Annotated[int, typer.Option("--tracemalloc-frames", min=1, max=64,
                                              help="Call-stack depth kept per allocation.")] = 8,
    recording: Annotated[bool, typer.Option(
        "--recording", help="The cameras are RTSP streams of the footage (the GStreamer RTSP server) and the "
        "worker also records each one (one ffmpeg per camera, segments indexed), as `vigil worker` does.")] = False,
) -> None:
    """The real vision worker (leases, readers, detector, rules, store writer) on N looping file cameras
    against a private embedded PostgreSQL for N minutes: memory growth per hour, frames dropped, p95
    frame-to-event latency, writer queue depth and worker restarts."""
    settings = state(ctx).settings()
    clips = list(footage or DEFAULT_FOOTAGE)
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        raise fail(f"{', '.join(missing)}: no such file (run `bash scripts/setup.sh`)", ExitCode.NOT_FOUND)
    from bench.report import report
    from bench.soak import run_soak
    from store.embedded import EmbeddedPostgresError
    from vision.detectors.base import ModelError

    logging.getLogger("vigil.worker").setLevel(logging.WARNING)  # one line per camera start is noise here
    say = lambda line: typer.echo(line, err=True)  # noqa: E731
    kind = "RTSP cameras, recorded," if recording else "file cameras"
    say(f"soak: {cameras} {kind} at {fps:g} fps for {minutes:g} min, a sample every {sample_s:g} s ...")
    trace = None
    if trace_memory:
        from bench.memtrace import MemoryTrace

        trace = MemoryTrace(trace_frames).start()
    try:
        run = run_soak(settings, minutes, clips, cameras=cameras, fps=fps, sample_s=min(sample_s, minutes * 30),
                       say=say, trace=trace, recording=recording)
    except EmbeddedPostgresError as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
    except ModelError as exc:
        raise fail(str(exc), ExitCode.INVALID_INPUT) from None
    notes = ["frames_dropped: analytics frames a reader replaced before vision took them (vision too slow)",
             "frame_to_result: from the reader handing the frame over to the engine's result (detector, "
             "tracker, zones, rules); frame_to_event: the same for results that carried an event",
             "memory_growth_mb_per_hour: least-squares slope of resident memory after the warm-up "
             "(the first fifth of the run, at least a minute); _robust: the Theil-Sen slope of the same samples "
             "(median of pairwise slopes), which transient spikes of a few samples hardly move; _robust_last_2h: "
             "that slope over the last two hours (runs of 2 hours or more); memory_goal_met: a run of 3 hours or "
             "more whose last two hours grew under 2 MB/h (issue 18)",
             "the worker runs in one process (vision.camera_processes 0) so all its memory is measured",
             "recording: " + ("on (RTSP cameras from the GStreamer RTSP server, one ffmpeg recorder per camera in "
                              "the worker's RecorderPool; recorded_*: the segment index at the end)" if recording
                              else "off (--recording records every camera)")]
    if trace_memory:
        notes.append("--tracemalloc: python_heap is what tracemalloc traces (Python objects and numpy buffers); "
                     "malloc_in_use/free are glibc mallinfo2 over all arenas; a growing Python heap is a Python "
                     "leak, growing in-use with a flat heap native memory, growing free/RSS allocator retention")
    report("soak", run.rows, run.summary, json_file, notes=notes)
    for site in run.summary.get("memory", {}).get("top_growing_sites", [])[:10]:
        typer.echo(f"grew {site['size_diff_kb']:+10.1f} KiB {site['count_diff']:+7d} blocks  {site['site']}  "
                   f"{site['code']}")
