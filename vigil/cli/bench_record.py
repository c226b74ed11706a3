"""``vigil bench record``: the real worker recording (and analysing) N RTSP cameras; recorder CPU, storage, index
lag and gaps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, bench_inputs, fail, state

NATIVE = Path("var/footage/vtest.mp4")
FULL_HD = Path("var/footage/vtest-1080p.mp4")


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("record")(bench_record)


def bench_record(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[str, typer.Option("--cameras", help="Camera counts, comma-separated.")] = "1,8,16",
    seconds: Annotated[float, typer.Option("--seconds", min=5.0, help="Measuring time of each run.")] = 60.0,
    sizes: Annotated[str, typer.Option("--sizes", help="Main-stream footage: native, 1080p or both.")] = "native,1080p",
    fps: Annotated[float, typer.Option("--fps", min=0.1, max=30, help="Analytics frames/s per camera.")] = 2.0,
    port: Annotated[int, typer.Option("--port", help="Loopback port of the RTSP server (0: a free one).")] = 0,
) -> None:
    """Every camera's main stream recorded by the real worker (ffmpeg, index, retention) while its analytics run
    on the sub-stream: ffmpeg CPU per stream, recorder-thread CPU, MB per hour per stream, index lag p95, gaps
    during steady state; then playback start through the API (`vigil serve` on the run's database: a range's
    playlist request to its first segment's bytes, p95, goal < 300 ms) and, with one camera, an hour's export."""
    settings = state(ctx).settings()
    clips = {"native": (NATIVE, NATIVE), "1080p": (FULL_HD, NATIVE)}
    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in clips]
    if unknown or not chosen:
        raise fail(f"--sizes: {', '.join(unknown) or 'empty'}: expected native and/or 1080p", ExitCode.INVALID_INPUT)
    missing = sorted({str(p) for s in chosen for p in clips[s] if not p.is_file()})
    if missing:
        raise fail(f"{', '.join(missing)}: no such file (run `bash scripts/setup.sh`)", ExitCode.NOT_FOUND)
    counts = sorted(set(bench_inputs(NATIVE, cameras, "1,8,16")))
    import socket

    from bench.record import run_bench
    from bench.report import report
    from store.embedded import EmbeddedPostgresError

    if port == 0:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    logging.getLogger("vigil.worker").setLevel(logging.WARNING)
    logging.getLogger("record").setLevel(logging.WARNING)
    try:
        rows = run_bench(settings, {s: clips[s] for s in chosen}, counts, seconds, fps, port,
                         say=lambda line: typer.echo(line, err=True))
    except EmbeddedPostgresError as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
    summary = {"seconds_per_run": seconds, "segment_s": settings.record.segment_s, "analytics_fps_per_camera": fps,
               "model": settings.vision.model}
    notes = ["ffmpeg_cpu_pct_per_stream: CPU of each recorder's ffmpeg process over the window, % of one core "
             "(goal <= 2); indexer_cpu: the worker's recorder thread (playlists, ffprobe, index inserts) per stream",
             "mb_per_hour_per_stream: indexed bytes over recorded seconds; gb_per_camera_day = x 24",
             "index_lag: a segment's end (its file closed) to its row committed; gaps: breaks inside the window "
             "(a new recorder run, or a segment starting > 1 s after the last ended), goal 0",
             "analytics ran beside the recorders on each camera's sub-stream (native size) in the same worker",
             "export_1h_s (1 camera only): one hour of that camera (its window's segments repeated) joined into "
             "an MP4 by record/export.py (the API's and `vigil recordings export`'s exporter)",
             "playback_start_p95_ms: GET /api/recordings/{camera}/playlist.m3u8 for the window -> first bytes of its "
             "first segment, through `vigil serve` started after the window, 5 per camera (goal < 300)"]
    report("record", rows, summary, json_file, notes=notes)
