"""``vigil eval``: the analytics rules measured against ground truth, through the real detector and engine.

The scripted scenarios (``scenarios/library.py``) are rendered once into ``DATA_DIR/scenarios``
(deterministic from the seed: real people cut from vtest.avi, composited along the scripts; each further
``--seed`` renders into ``scenarios/seed-N`` with other people in each part) and the
untouched vtest.avi is scored against its hand annotations (``scenarios/real.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.common import ExitCode, fail, state

GOALS = {"presence_accuracy": 0.98, "queue_mae": 0.5, "wait_error_pct": 10.0, "service_error_pct": 10.0,
         "max_delay_s": 3.0, "false_alarms": 0}


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate_command)


def renderings(settings: Any, scenario: list[str] | None, seeds: list[int], rebuild: bool = False
               ) -> tuple[Any, Iterator[tuple[int, Path]]]:
    """The sprite bank, and each seed's ground-truth file of each scenario (default: all), each rendered as it
    comes where missing or stale: seed 0 in ``DATA_DIR/scenarios``, another in ``scenarios/seed-N``. Unknown
    names and missing footage are refused at once."""
    from core import media
    from scenarios.library import SCENARIOS, build
    from scenarios.sprites import VTEST, load_bank

    unknown = sorted(set(scenario or []) - set(SCENARIOS))
    if unknown:
        raise fail(f"unknown scenario {unknown[0]!r} (one of: {', '.join(SCENARIOS)})", ExitCode.USAGE)
    if not VTEST.is_file():
        raise fail(f"{VTEST} not found: the scenarios are cut from it (run `bash scripts/setup.sh`)",
                   ExitCode.NOT_FOUND)
    folder = media.scenarios_dir(settings.data_dir)
    bank = load_bank(folder / "cache", settings.models_dir)
    return bank, ((one, truth_file) for one in seeds
                  for truth_file in build(folder if one == 0 else folder / f"seed-{one}", bank, scenario or None,
                                          seed=one, force=rebuild))


def _row(scores: dict[str, Any]) -> dict[str, Any]:
    citizens = scores.get("citizens") or {}
    incidents = scores["incidents"]
    return {
        "scenario": scores["scenario"],
        "seed": scores.get("seed"),
        "role": scores.get("role"),
        "fps": scores.get("analytics_fps"),
        "frames": scores["frames"],
        "presence_%": None if scores.get("presence_accuracy") is None else 100 * scores["presence_accuracy"],
        "queue_mae": scores.get("queue_mae"),
        "wait_err_%": citizens.get("wait_error_pct"),
        "service_err_%": citizens.get("service_error_pct"),
        "sessions": f"{citizens['matched']}/{citizens['citizens_served']}" if citizens else None,
        "forecast_mae_hall_s": (scores.get("forecast") or {}).get("mae_hall_s"),
        "forecast_err_%": (scores.get("forecast") or {}).get("mae_pct"),
        "incidents": f"{incidents['detected']}/{incidents['incidents']}",
        "max_delay_s": incidents["max_delay_s"],
        "false_alarms": incidents["false_alarms"],
        "wall_s": scores["wall_s"],
    }


def _goals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def worst(key: str, high: bool) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return (max(values) if high else min(values)) if values else None

    presence = worst("presence_%", high=False)
    checks = {
        "presence >= 98 %": presence is None or presence >= 100 * GOALS["presence_accuracy"],
        "queue MAE <= 0.5": (worst("queue_mae", True) or 0) <= GOALS["queue_mae"],
        "wait error <= 10 %": (worst("wait_err_%", True) or 0) <= GOALS["wait_error_pct"],
        "service error <= 10 %": (worst("service_err_%", True) or 0) <= GOALS["service_error_pct"],
        "incidents within 3 s": (worst("max_delay_s", True) or 0) <= GOALS["max_delay_s"]
        and all(r["incidents"].split("/")[0] == r["incidents"].split("/")[1] for r in rows),
        "no false alarm": sum(r["false_alarms"] for r in rows) == 0,
    }
    return {"goals_met": all(checks.values()), **{k: "met" if v else "MISSED" for k, v in checks.items()}}


def evaluate_command(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write every figure to this JSON file.")] = None,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", "-s", help="Only these scenarios "
                                                       "(repeatable; default: all).")] = None,
    real: Annotated[bool, typer.Option("--real/--no-real", help="Also score the untouched vtest.avi (not with "
                                                  "--scenario).")] = True,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Render the scenarios again.")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Detector (default: settings vision.model).")] = None,
    fps: Annotated[float | None, typer.Option("--fps", min=0.1, max=10, help="Analytics frames per second "
                                              "for every scenario, the tracker tuned to it (default: each camera's "
                                              "deployed rate by role: ingest.counter_fps, ingest.street_fps).")
                   ] = None,
    evidence: Annotated[Path | None, typer.Option("--evidence", help="Write the events' evidence JPEGs "
                                                  "under this folder.")] = None,
    seed: Annotated[list[int] | None, typer.Option("--seed", help="Seed of the scenario rendering (repeatable: each "
                                                   "seed is another rendering, other people in the same script, "
                                                   "scored on its own row; the goals hold on every one). Default 0.")
                    ] = None,
    scale: Annotated[float, typer.Option("--scale", min=0.25, max=4, help="Resize every frame by this factor "
                                         "before analysis: 2.5 shows the 768-px scenes as a 1920-px camera "
                                         "without a sub-stream would (default 1: as rendered).")] = 1.0,
) -> None:
    """Score the analytics rules on ground-truthed scenarios and on real footage: officer-presence accuracy,
    queue-length MAE, wait- and service-time error, incident delay past the rule's threshold, false alarms, and
    the hall screen's wait forecast at each arrival against the true wait (MAE in hall seconds and %).
    Each camera is analysed at the rate it gets when deployed (by its role), or at --fps."""
    settings = state(ctx).settings()
    from bench.report import report
    from scenarios.evaluate import deployed_fps, evaluate
    from scenarios.real import real_truth
    from scenarios.sprites import VTEST
    from vision.detectors import ModelError, load_detector

    seeds = list(dict.fromkeys(seed or [0]))
    _, scenes = renderings(settings, scenario, seeds, rebuild)  # (refuses unknown names before loading a model)
    try:
        detector = load_detector(settings.vision, settings.models_dir, model)
    except ModelError as exc:
        raise fail(str(exc), ExitCode.NOT_BUILT) from None
    results = []
    try:
        for one, truth_file in scenes:
            truth = json.loads(truth_file.read_text(encoding="utf-8"))
            rate = fps or deployed_fps(truth, settings.ingest)
            typer.echo(f"{truth['scenario']} (seed {one}): {truth['frames']} frames, analysed at {rate:g} fps ...",
                       err=True)
            scores, _ = evaluate(truth, truth_file.with_suffix(".mp4"), detector, settings.vision, rate,
                                 evidence_dir=evidence if evidence is None or len(seeds) == 1
                                 else evidence / f"seed-{one}", scale=scale)
            results.append({**scores, "seed": one})
        if real and not scenario:
            truth = real_truth()
            rate = fps or deployed_fps(truth, settings.ingest)
            typer.echo(f"{truth['scenario']}: {truth['frames']} frames, analysed at {rate:g} fps ...", err=True)
            scores, _ = evaluate(truth, VTEST, detector, settings.vision, rate, evidence_dir=evidence, scale=scale)
            results.append(scores)
    finally:
        detector.close()
    rows = [_row(s) for s in results]
    def named(s: dict[str, Any]) -> str:
        return s["scenario"] if s.get("seed") is None or len(seeds) == 1 else f"{s['scenario']} (seed {s['seed']})"

    notes = [f"{named(s)}: missed {r['type']} at {r['true_start']} s" for s in results
             for r in s["incidents"]["per_incident"] if not r["detected"]]
    notes += [f"{named(s)}: false alarm {f['type']} {f['start']}-{f['end']} s" for s in results
              for f in s["incidents"]["false_alarm_list"]]
    if scale != 1.0:
        notes.insert(0, f"every frame resized by {scale:g} before analysis (--scale)")
    report("eval (analytics)", rows, _goals(rows), json_file, notes=notes,
           extra={"scenarios": results, "model": model or settings.vision.model})
