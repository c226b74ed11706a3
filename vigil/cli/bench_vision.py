"""``vigil bench vision``: raw detector vs. pipeline vs. naive per-camera threads vs. a static scene."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, bench_inputs, fail, state

DEFAULT_FOOTAGE = Path("var/footage/vtest.mp4")


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("vision")(bench_vision)


def bench_vision(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    model: Annotated[str, typer.Option("--model", help="One Ultralytics model for all four figures "
                                                       "(the naive way needs model.track).")] = "person-yolov8s",
    imgsz: Annotated[int | None, typer.Option("--imgsz", help="Input size (default: 640 on a GPU, "
                                              "320 on a CPU so the run stays short).")] = None,
    cameras: Annotated[str, typer.Option("--cameras", help="Camera counts, comma-separated.")] = "1,4,8",
    seconds: Annotated[float, typer.Option("--seconds", min=1.0, help="Measuring time of each figure.")] = 6.0,
    footage: Annotated[Path, typer.Option("--footage", help="H.264 clip every bench camera plays.")]
    = DEFAULT_FOOTAGE,
    backend: Annotated[str | None, typer.Option("--backend", help="What runs the pipeline's detectors: auto, "
                                                "torch, onnxruntime, openvino (default: vision.backend). The naive "
                                                "baseline is always Ultralytics' own (torch).")] = None,
    detectors: Annotated[int | None, typer.Option("--detectors", min=0, help="Detector instances of the pipeline "
                                                  "(default: vision.detectors; 0 = one per core on a CPU).")] = None,
    processes: Annotated[int | None, typer.Option(
        "--processes", min=-1, help="Camera processes of the pipeline (default: vision.camera_processes; -1 auto: "
                                    "none on a CPU, one per core but one on a GPU host; 0 one process). With "
                                    "camera processes the one-process pipeline is measured too.")] = None,
) -> None:
    """Same model, same machine, one run: raw_fps, pipeline_fps (whole frames), regions_fps (region detection,
    crops as one mosaic where it helps), regions_crops_fps (each crop alone), naive_fps and static_fps for N
    cameras, their ratios (goals: pipeline/raw >= 0.9, pipeline/naive >= 3 on a GPU, regions/naive >= 1.5 on a
    CPU at 4-8 cameras, static/pipeline >= 5) and p95 latency."""
    settings = state(ctx).settings()
    counts = bench_inputs(footage, cameras)

    from bench.report import report
    from bench.vision import run_bench
    from vision.detectors import ModelError, load_detectors, resolve_model
    from vision.detectors.ultralytics_yolo import pick_device

    device = pick_device(settings.vision.device)
    size = imgsz or (640 if device.startswith("cuda") else 320)
    update: dict[str, object] = {"imgsz": size, "model": model}
    if backend not in (None, "auto", "torch", "onnxruntime", "openvino"):
        raise fail(f"--backend: {backend!r} is not one of auto, torch, onnxruntime, openvino", ExitCode.USAGE)
    if backend is not None:
        update["backend"] = backend
    if detectors is not None:
        update["detectors"] = detectors
    try:
        vision = settings.vision.model_copy(update=update)
        path = resolve_model(model, settings.models_dir)
        if path.suffix == ".weights":
            raise ModelError(f"model {model!r}: the naive baseline needs an Ultralytics model (.pt/.onnx/...)")
        built = load_detectors(vision, settings.models_dir)
    except ModelError as exc:
        raise fail(str(exc), ExitCode.NOT_FOUND) from None
    batches = sorted({b for b in (1, 2, 4, 8, 16, 32) if b <= max(settings.vision.max_batch, 1)})
    rows, summary = run_bench(settings.model_copy(update={"vision": vision}), built, path, footage, counts,
                              seconds, batches, say=lambda line: typer.echo(line, err=True), processes=processes)
    columns = ["cameras", "pipeline/raw", "pipeline/naive", "regions/naive", "regions_crops/naive", "static/pipeline",
               "raw_fps", "pipeline_fps", "regions_fps", "regions_crops_fps", "naive_fps", "static_fps",
               "live_p95_ms", "live_fps", "p95_ms", "fairness", "camera_processes", "pipeline_1proc_fps"]
    notes = [f"model {summary['model']} at imgsz {size} on {device}: pipeline on {summary['detectors']} x "
             f"{summary['detector']}; batch up to {summary['max_batch']}, raw_fps (one instance) at its best batch "
             f"{summary['best_batch']}; decode {summary['decoder']}",
             "ratios first: each row's figures were measured one after another in this run",
             "regions: crops as one mosaic where it shows them larger than the frame (vision.region_mosaic); "
             "regions_crops: each crop a detector input of its own"]
    report("vision", rows, summary, json_file, columns, notes)
