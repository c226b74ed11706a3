"""``vigil bench dispatch``: the vision process's own CPU per frame in the camera-process layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.bench_vision import DEFAULT_FOOTAGE
from vigil.cli.common import bench_inputs, state


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("dispatch")(bench_dispatch)


def bench_dispatch(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[str, typer.Option("--cameras", help="Camera counts, comma-separated.")] = "2,4,8",
    processes: Annotated[int, typer.Option("--processes", min=1, help="Camera processes (at most one per "
                                                                       "camera).")] = 2,
    seconds: Annotated[float, typer.Option("--seconds", min=1.0, help="Measuring time of each figure.")] = 8.0,
    footage: Annotated[Path, typer.Option("--footage", help="H.264 clip every bench camera plays.")]
    = DEFAULT_FOOTAGE,
) -> None:
    """The vision process's CPU per frame (pipes, batching, boxes back) with camera processes and a stand-in
    detector (constant boxes, no network): the overhead that comes on top of the detector on a GPU host.
    Results as the worker takes them (store) and whole (full), side by side."""
    settings = state(ctx).settings()
    counts = bench_inputs(footage, cameras, "2,4,8")

    from bench.dispatch import run
    from bench.report import report

    rows = run(settings, footage, counts, processes, seconds, say=lambda line: typer.echo(line, err=True))
    columns = ["cameras", "camera_processes", "cpu_us_per_frame_store", "cpu_us_per_frame_full", "full/store_cpu",
               "frames_per_s_store", "frames_per_s_full", "frames_per_batch_store"]
    notes = ["stand-in detector (six constant boxes per frame, no network): the figures are the vision process's "
             "own work, not detection",
             "cpu_us_per_frame: the vision process's CPU time (all its threads) per frame it detected"]
    report("dispatch", rows, {"footage": str(footage), "seconds_per_figure": seconds,
                              "max_batch": settings.vision.max_batch}, json_file, columns, notes)
