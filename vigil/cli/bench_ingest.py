"""``vigil bench ingest``: N concurrent RTSP cameras (GStreamer server, H.264 768x576 footage)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import bench_inputs, state

DEFAULT_FOOTAGE = Path("var/footage/vtest.mp4")


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("ingest")(bench_ingest)


def bench_ingest(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[str, typer.Option("--cameras", help="Camera counts, comma-separated.")] = "1,4,8,16",
    seconds: Annotated[float, typer.Option("--seconds", min=1.0, help="Measuring time of each count.")] = 10.0,
    footage: Annotated[Path, typer.Option("--footage", help="H.264 mp4 every camera streams.")] = DEFAULT_FOOTAGE,
    port: Annotated[int, typer.Option("--port", help="Loopback port of the RTSP server (0: a free one).")] = 0,
) -> None:
    """Decoded frames/s, analytics frames/s, CPU per decoded frame, memory per camera, and reconnect time
    after an RTSP server restart, for each camera count."""
    settings = state(ctx).settings()
    counts = sorted(set(bench_inputs(footage, cameras, "1,4,8,16")))
    import socket

    from bench.ingest import machine_note, run_bench
    from bench.report import report
    from ingest.decode import choose_decoder

    if port == 0:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    rows = run_bench(footage.resolve(), counts, settings.ingest, seconds, port,
                     say=lambda line: typer.echo(line, err=True))
    summary = {"decoder": choose_decoder(settings.ingest.decode), "analytics_fps_per_camera":
               settings.ingest.analytics_fps, "footage": str(footage), "seconds_per_count": seconds}
    notes = [machine_note(), "reconnect_*: from the restarted server's READY line to each camera's next frame; "
             "outage_s: from the kill to the last camera's frame (server start included)"]
    report("ingest", rows, summary, json_file, notes=notes)
