"""``vigil bench gate``: the motion gate on walking people, threshold against threshold, on the composed scenes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import state


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("gate")(bench_gate)


def bench_gate(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    seed: Annotated[list[int] | None, typer.Option("--seed", help="Rendering of the scenarios (repeatable; "
                                                   "rendered first where missing, as `vigil eval` does).")] = None,
    threshold: Annotated[list[float] | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="Gate threshold to compare (repeatable; default 0.002, 0.001 "
                                              "and vision.motion_threshold).")] = None,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Scenario (repeatable; default "
                                                       "all).")] = None,
) -> None:
    """For every analysed frame of each rendering (at its camera role's rate), whether the gate let the detector
    look at each person who was walking, by their height in pixels; the share of frames the detector ran on, and
    the 90th percentile of how long a person coming into view waited for a first look. Several thresholds run
    side by side on the same frames."""
    settings = state(ctx).settings()
    from bench.gate import measure, totals
    from bench.report import report
    from scenarios.evaluate import camera_plan, deployed_fps
    from scenarios.library import SCENARIOS
    from vigil.cli.eval import renderings
    from vision.regions import detects_regions

    thresholds = sorted(set(threshold or [0.002, 0.001, settings.vision.motion_threshold]), reverse=True)
    bank, scenes = renderings(settings, scenario, list(dict.fromkeys(seed or [0])))
    rows = []
    for one, truth_file in scenes:
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        fps = deployed_fps(truth, settings.ingest)
        whole = not detects_regions(settings.vision, camera_plan(truth).zones)
        typer.echo(f"{truth['scenario']} (seed {one}) at {fps:g} fps ...", err=True)
        rows += measure(truth_file, SCENARIOS[truth["scenario"]]().actors, bank.person_height, fps, thresholds,
                        settings.vision.forced_refresh_s, whole)
    summed = totals(rows)
    summary = {f"{t['scenario']} {t['height']} at {t['threshold']:g}: not looked at %": t["not_looked_at_pct"]
               for t in summed if t["height"].startswith("<")}
    notes = ["moving: (person, analysed frame) pairs where the person walked in the last 0.5 s; not looked at: the "
             "gate kept the frame from the detector, or (counter cameras, region detection) no motion region covered "
             "the person's box; detector_runs_pct: the detector's share of analysed frames (its cost), averaged over "
             "renderings"]
    report("gate", summed, summary, json_file, notes=notes, extra={"per_rendering": rows})
