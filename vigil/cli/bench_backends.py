"""``vigil bench backends``: every CPU backend that can run the model, its raw rate side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail, state


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("backends")(bench_backends)


def bench_backends(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Detector (default: vision.model).")] = None,
    imgsz: Annotated[int | None, typer.Option("--imgsz", min=64, help="Input size (default: vision.imgsz).")]
    = None,
    seconds: Annotated[float, typer.Option("--seconds", min=1.0, help="Measuring time of each figure.")] = 5.0,
) -> None:
    """The model's raw detector rate on every CPU backend installed (yolov3-tiny: OpenCV DNN, OpenVINO;
    person-yolov8s: torch, ONNX Runtime, OpenVINO), with one instance on every core and with one single-thread
    instance per core, on vtest frames one at a time; the precision each runs at and its ratio to the first."""
    settings = state(ctx).settings()
    update: dict[str, object] = {"model": model} if model else {}
    if imgsz:
        update["imgsz"] = imgsz
    vision = settings.vision.model_copy(update=update)
    from vision.detectors.export import VTEST, sample_frames

    if not VTEST.is_file():
        raise fail(f"{VTEST} not found (run `bash scripts/setup.sh`)", ExitCode.NOT_FOUND)

    from bench.backends import measure
    from bench.report import report
    from vision.detectors import ModelError, load_detector, resolve_model

    try:
        weights = resolve_model(vision.model, settings.models_dir)
    except ModelError as exc:
        raise fail(str(exc), ExitCode.NOT_FOUND) from None
    frames = sample_frames(VTEST, 60, lambda _: True)
    typer.echo(f"{vision.model} at {vision.imgsz}, {os.cpu_count()} cores, {seconds:g} s per figure", err=True)
    rows = measure(vision, settings.models_dir, weights, frames, seconds, load_detector,
                   lambda line: typer.echo(line, err=True))
    if not rows:
        raise fail(f"no backend could run {vision.model}", ExitCode.NOT_FOUND)
    best = max(rows, key=lambda r: r["best_fps"])
    report("backends", rows, {"fastest": best["backend"], "fastest_fps": best["best_fps"]}, json_file,
           notes=[f"model {vision.model} at imgsz {vision.imgsz}, batch 1, vtest frames; ratio_to_first: best "
                  f"layout against the first backend's best; precision: what the runtime computes in on this CPU"])
