"""``vigil bench capacity``: the most cameras this machine serves at their rates with under 1 % of frames dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli.common import ExitCode, fail, state

if TYPE_CHECKING:
    from bench.capacity import Profile
    from core.settings import Settings
    from vision.detectors import Detector

STREET_CLIP = Path("var/footage/vtest.mp4")
PROFILES = ("counter", "street")
PHASES = 4  # each profile's clip from four starting points


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("capacity")(bench_capacity)


def bench_capacity(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    profile: Annotated[list[str] | None, typer.Option("--profile", help="counter (the composed hall clip at "
                                                      "ingest.counter_fps) and/or street (vtest at "
                                                      "ingest.street_fps); repeatable, default both.")] = None,
    minutes: Annotated[float, typer.Option("--minutes", min=0.05, help="The window the best count must hold "
                                           "under 1 % dropped.")] = 5.0,
    probe_s: Annotated[float, typer.Option("--probe-s", min=2.0, help="Seconds of each probe of the search.")]
    = 30.0,
    start: Annotated[int, typer.Option("--start", min=1, help="Cameras of the first probe (doubled while they "
                                       "pass).")] = 4,
    max_cameras: Annotated[int, typer.Option("--max-cameras", min=1, max=256, help="Search no higher.")] = 64,
    model: Annotated[str | None, typer.Option("--model", help="Detector (default: vision.model).")] = None,
    recording: Annotated[bool, typer.Option("--recording", help="Record every camera's stream beside the "
                                            "analysis (record/: one ffmpeg per camera).")] = False,
) -> None:
    """For counter cameras (the composed hall clip, 2 fps) and street cameras (vtest, 5 fps): the largest number
    of cameras this machine analyses at their rates with under 1 % of frames dropped over --minutes, with the
    frames/s, this process's CPU and the p95 frame-to-event latency. Goals on a 2-core machine: 16 counter
    cameras, 6 street cameras."""
    settings = state(ctx).settings()
    wanted = profile or list(PROFILES)
    unknown = sorted(set(wanted) - set(PROFILES))
    if unknown:
        raise fail(f"--profile {unknown[0]!r}: one of {', '.join(PROFILES)}", ExitCode.USAGE)
    if "street" in wanted and not STREET_CLIP.is_file():
        raise fail(f"{STREET_CLIP}: no such file (run `bash scripts/setup.sh`)", ExitCode.NOT_FOUND)

    from bench.capacity import search, summarise
    from bench.report import report
    from vision.detectors import ModelError, load_detectors

    vision = settings.vision.model_copy(update={"model": model} if model else {})
    try:
        detectors = load_detectors(vision, settings.models_dir)
    except ModelError as exc:
        raise fail(str(exc), ExitCode.NOT_FOUND) from None
    settings = settings.model_copy(update={"vision": vision})
    say = lambda line: typer.echo(line, err=True)  # noqa: E731
    rows = []
    for name in wanted:
        chosen = _profile(settings, name) if name == "counter" else _street(settings)
        say(f"{name}: {chosen.clip.name} at {chosen.fps:g} fps per camera, {len(detectors)} detector(s) "
            f"{_kind(detectors[0])}; probes of {probe_s:g} s, the best held {minutes:g} min")
        run = _runner(settings, detectors, chosen, recording)
        best, trials = search(run, minutes, probe_s, start, max_cameras, say)
        rows.append(summarise(chosen, best, trials))
    columns = ["profile", "cameras", "fps_per_camera", "analysed_fps", "dropped_share", "cpu_share",
               "p95_frame_to_result_ms", "p95_frame_to_event_ms", "window_s"]
    if recording:
        columns += ["recorders", "recorder_cpu_share", "camera_server_cpu_share"]
    notes = [f"model {vision.model} at imgsz {vision.imgsz} on {len(detectors)} x {_kind(detectors[0])}; "
             "dropped: analytics frames replaced in a camera's slot before vision took them; cpu_share: this "
             "process's CPU time over wall time x cores", "recording beside the cameras: "
             + ("on: one ffmpeg per camera (record/'s RecorderPool) from an RTSP server playing the clip; "
                "recorder_cpu_share: those ffmpeg processes, camera_server_cpu_share: the RTSP server standing in "
                "for the cameras, each of all cores" if recording else "off (--recording records every camera)")]
    report("capacity", [{k: r[k] for k in columns} for r in rows], {}, json_file, columns, notes,
           extra={"profiles": rows})


def _kind(detector: Detector) -> str:
    """The detector's class and, where it has one, the runtime and precision it runs at."""
    runtime = " ".join(str(getattr(detector, k)) for k in ("runtime", "precision") if hasattr(detector, k))
    return f"{type(detector).__name__} ({runtime})" if runtime else type(detector).__name__


def _runner(settings: Settings, detectors: list[Detector], chosen: Profile, recording: bool):  # type: ignore[no-untyped-def]
    from bench.capacity import trial

    return lambda cameras, seconds, kind: trial(settings, detectors, chosen, cameras, seconds, kind=kind,
                                                recording=recording)


def _profile(settings: Settings, name: str) -> Profile:
    """The counter profile: the composed hall scenario (rendered once into the data folder), its zones."""
    from bench.capacity import Profile, phased
    from core import media
    from scenarios.evaluate import camera_plan
    from scenarios.library import build
    from scenarios.sprites import VTEST, load_bank

    if not VTEST.is_file():
        raise fail(f"{VTEST} not found: the hall clip is composed from it (run `bash scripts/setup.sh`)",
                   ExitCode.NOT_FOUND)
    folder = media.scenarios_dir(settings.data_dir)
    [truth_file] = build(folder, load_bank(folder / "cache", settings.models_dir), ["counter_absence"])
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    clip = truth_file.with_suffix(".mp4")
    return Profile(name, clip, settings.ingest.counter_fps, camera_plan(truth), phased(clip, PHASES, folder / "phases"))


def _street(settings: Settings) -> Profile:
    from bench.capacity import Profile, phased
    from core import media
    from scenarios.evaluate import camera_plan
    from scenarios.real import real_truth

    phases = phased(STREET_CLIP, PHASES, media.clip_phases_dir(settings.data_dir))
    return Profile("street", STREET_CLIP, settings.ingest.street_fps, camera_plan(real_truth()), phases)
