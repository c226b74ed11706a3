"""Run a video through the real engine and rules, and score what the rules said against the ground truth.

``run_video`` feeds the frames (each at ``start + k * seconds_per_frame``) to ``vision.engine.VisionEngine``
with the camera's rules (``camera_plan`` -> ``vision.rules.build_rules``) and gathers events, observations and sessions.
``score`` compares them with a ground-truth dict (``truth.py``'s form):

- officer presence accuracy: share of truth seconds where the stored presence (the ``officer_present``
  observations as a step function) equals the truth;
- queue-length MAE: each ``queue_length`` observation against the median of the true queue over the same
  interval;
- wait and service time error: each truly served citizen is matched to the session whose service start is
  nearest (within 20 s); the error is |measured - true| / true, averaged (%);
- incidents: each true incident is matched to an event of its type (and zone) whose time span overlaps it,
  nearest start first; the delay is ``raised_at - due`` (``due`` = when a perfect rule would raise it);
  events matched to no incident are false alarms (a second event for one incident counts as one too);
- the wait forecast (``forecast.py``): at each citizen's arrival, the expected wait the hall screen would have
  shown from what the rules had said by then, against that citizen's true wait (MAE in seconds and %).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2

from cameras.plan import CameraPlan, CounterPlan
from core.types import CounterSession, Event, Frame, Observation

MATCH_SLACK_S = 10.0


@dataclass
class RunResult:
    events: list[Event] = field(default_factory=list)  # the last state of each event
    observations: list[Observation] = field(default_factory=list)
    sessions: list[CounterSession] = field(default_factory=list)
    frames: int = 0
    detected_frames: int = 0
    wall_s: float = 0.0


def video_frames(path: Path, camera_id: int, start: datetime, seconds_per_frame: float, fps: float | None = None,
                 limit: int | None = None, scale: float = 1.0) -> Iterator[Frame]:
    """Frames of a file with scenario times: frame k is at ``start + k * seconds_per_frame``; sampled to ``fps``
    frames per scenario second as a camera's reader samples its stream (``ingest.timing.Sampler``; None: all);
    ``scale`` resizes each frame (2.5: the 768-px scenes as a 1920-px camera would frame them)."""
    from ingest.timing import Sampler

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"{path}: cannot be opened as a video")
    sampler = Sampler(fps) if fps else None
    k, sent = -1, 0
    try:
        while limit is None or sent < limit:
            if not cap.grab():
                break
            k += 1
            if sampler is not None and not sampler.due(k * seconds_per_frame):
                continue
            ok, image = cap.retrieve()
            if not ok:
                break
            if scale != 1.0:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
            sent += 1
            yield Frame(camera_id, image, start.timestamp() + k * seconds_per_frame, k, k * seconds_per_frame)
    finally:
        cap.release()


def run_video(engine: Any, frames: Iterator[Frame], rules: Sequence[Any], end: datetime, batch: int = 4) -> RunResult:
    """Process the frames in order through the engine (whose camera carries ``rules``); close the rules at ``end``."""
    import time

    result = RunResult()
    latest: dict[Any, Event] = {}
    started = time.perf_counter()

    def take(events: Sequence[Event], observations: Sequence[Observation], sessions: Sequence[CounterSession]) -> None:
        for event in events:
            previous = latest.get(event.id)
            if previous is not None and "raised_at" in previous.attributes:
                event.attributes.setdefault("raised_at", previous.attributes["raised_at"])
            latest[event.id] = event
        result.observations.extend(observations)
        result.sessions.extend(sessions)

    pending: list[Frame] = []

    def flush() -> None:
        for frame_result in engine.process(pending):
            result.frames += 1
            result.detected_frames += int(frame_result.detected)
            take(frame_result.events, frame_result.observations, frame_result.sessions)
        pending.clear()

    for frame in frames:
        pending.append(frame)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    for rule in rules:
        close = getattr(rule, "close", None)
        if close is not None:
            out = close(end)
            take(out.events, out.observations, out.sessions)
    result.events = list(latest.values())
    result.wall_s = time.perf_counter() - started
    return result


def _rel(moment: datetime | None, start: datetime) -> float | None:
    return None if moment is None else (moment - start).total_seconds()


def presence_accuracy(truth: dict[str, Any], observations: Sequence[Observation], start: datetime,
                      staff_zone_of: dict[str, int]) -> float | None:
    """Share of truth seconds where the stored officer presence equals the truth (all counters)."""
    right = total = 0
    for counter, zone_id in staff_zone_of.items():
        steps = sorted((_rel(o.time, start), o.value >= 0.5) for o in observations
                       if o.metric == "officer_present" and o.zone_id == zone_id)
        for second in truth["seconds"]:
            if counter not in second["officer_present"]:
                continue
            said = False
            for t, value in steps:
                if t is not None and t <= second["t"]:
                    said = value
                else:
                    break
            right += int(said == second["officer_present"][counter])
            total += 1
    return right / total if total else None


def queue_mae(truth: dict[str, Any], observations: Sequence[Observation], start: datetime) -> float | None:
    """Mean absolute error of the queue_length observations against the true median of their interval."""
    names = {z["id"]: z["name"] for z in truth["zones"]}
    errors = []
    for zone_id, name in names.items():
        obs = sorted((_rel(o.time, start) or 0.0, o.value) for o in observations
                     if o.metric == "queue_length" and o.zone_id == zone_id)
        previous = -1.0
        for t, value in obs:
            window = [s["queue"][name] for s in truth["seconds"] if previous < s["t"] <= t and name in s["queue"]]
            previous = t
            if window:
                errors.append(abs(value - statistics.median(window)))
    return statistics.mean(errors) if errors else None


def citizen_errors(truth: dict[str, Any], sessions: Sequence[CounterSession], start: datetime) -> dict[str, Any]:
    """Wait and service time errors (%) of the served citizens, and how many were matched."""
    served = [c for c in truth["citizens"] if c.get("service_start") is not None]
    free = sorted(sessions, key=lambda s: s.service_start)
    wait_err, service_err, rows = [], [], []
    for citizen in served:
        best = min(free, key=lambda s: abs((_rel(s.service_start, start) or 0) - citizen["service_start"]),
                   default=None)
        if best is None or abs((_rel(best.service_start, start) or 0) - citizen["service_start"]) > 20:
            rows.append({"citizen": citizen["name"], "matched": False})
            continue
        free.remove(best)
        true_service = citizen["service_end"] - citizen["service_start"]
        service_err.append(abs(best.service_s - true_service) / true_service * 100)
        row = {"citizen": citizen["name"], "matched": True, "service_s": round(best.service_s, 1),
               "true_service_s": round(true_service, 1)}
        if citizen.get("queue_enter") is not None:
            true_wait = citizen["service_start"] - citizen["queue_enter"]
            row.update(true_wait_s=round(true_wait, 1), wait_s=None if best.wait_s is None else round(best.wait_s, 1))
            if true_wait > 0:
                measured = best.wait_s if best.wait_s is not None else 0.0
                wait_err.append(abs(measured - true_wait) / true_wait * 100)
        rows.append(row)
    return {"citizens_served": len(served), "sessions_seen": len(sessions),
            "matched": sum(1 for r in rows if r["matched"]),
            "wait_error_pct": statistics.mean(wait_err) if wait_err else None,
            "service_error_pct": statistics.mean(service_err) if service_err else None, "per_citizen": rows}


def incident_scores(truth: dict[str, Any], events: Sequence[Event], start: datetime,
                    end_s: float) -> dict[str, Any]:
    """Match true incidents to events: detection delay past ``due`` and the false alarms."""
    unmatched = list(events)
    rows = []
    for incident in truth["incidents"]:
        true_end = incident["end"] if incident["end"] is not None else end_s
        candidates = []
        for event in unmatched:
            if event.type.value != incident["type"]:
                continue
            if incident.get("zone_id") is not None and event.zone_id != incident["zone_id"]:
                continue
            e_start = _rel(event.start, start) or 0.0
            e_end = _rel(event.end, start) if event.end is not None else end_s
            if e_start <= true_end + MATCH_SLACK_S and (e_end or end_s) >= incident["start"] - MATCH_SLACK_S:
                candidates.append((abs(e_start - incident["start"]), event))
        row = {"type": incident["type"], "zone": incident.get("zone"), "true_start": incident["start"],
               "due": incident["due"], "detected": bool(candidates)}
        if candidates:
            _, event = min(candidates, key=lambda c: c[0])
            unmatched.remove(event)
            raised = _rel(datetime.fromisoformat(event.attributes["raised_at"]), start) or 0.0
            row.update(raised=round(raised, 1), delay_s=round(raised - incident["due"], 1),
                       start=round(_rel(event.start, start) or 0.0, 1))
        rows.append(row)
    false_alarms = [{"type": e.type.value, "zone_id": e.zone_id, "start": round(_rel(e.start, start) or 0.0, 1),
                     "end": None if e.end is None else round(_rel(e.end, start) or 0.0, 1)} for e in unmatched]
    delays = [r["delay_s"] for r in rows if r["detected"]]
    return {"incidents": len(rows), "detected": sum(1 for r in rows if r["detected"]),
            "max_delay_s": max(delays) if delays else None, "false_alarms": len(false_alarms),
            "per_incident": rows, "false_alarm_list": false_alarms}


def line_count_scores(truth: dict[str, Any], observations: Sequence[Observation]) -> dict[str, Any]:
    """Counted crossings per line, class and direction against the truth."""
    names = {z["id"]: z["name"] for z in truth["zones"]}
    counted: dict[str, dict[str, float]] = {}
    for o in observations:
        if o.metric.startswith("line_count:") and o.value:
            key = o.metric.split(":", 1)[1]
            line = counted.setdefault(names.get(o.zone_id, str(o.zone_id)), {})
            line[key] = line.get(key, 0) + o.value
    return {"true": truth.get("line_counts", {}), "counted": counted}


def score(truth: dict[str, Any], run: RunResult) -> dict[str, Any]:
    """Every figure of one scenario run."""
    start = datetime.fromisoformat(truth["start"])
    staff = {str(c["id"]): c["staff_zone_id"] for c in truth.get("counters", [])}
    out: dict[str, Any] = {"scenario": truth["scenario"], "frames": run.frames, "wall_s": round(run.wall_s, 1)}
    if staff:
        out["presence_accuracy"] = presence_accuracy(truth, run.observations, start, staff)
    if any(z["kind"] == "queue" for z in truth["zones"]):
        out["queue_mae"] = queue_mae(truth, run.observations, start)
    if truth.get("citizens"):
        out["citizens"] = citizen_errors(truth, run.sessions, start)
    if truth.get("citizens") and truth.get("counters"):  # the hall screen's wait forecast at each arrival
        from .forecast import forecast_scores

        out["forecast"] = forecast_scores(truth, run.observations, run.sessions, start)
    out["incidents"] = incident_scores(truth, run.events, start, truth["duration_s"])
    if truth.get("line_counts"):
        out["line_counts"] = line_count_scores(truth, run.observations)
    return out


def scenario_end(truth: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(truth["start"]) + timedelta(seconds=truth["duration_s"])


def camera_plan(truth: dict[str, Any], camera_id: int = 1) -> CameraPlan:
    """The scenario's camera as the rules see it: its zones, counters, working hours and hall capacity."""
    from core.calendar import WorkingCalendar

    from .compose import zones_from

    counters = tuple(CounterPlan(int(c["id"]), c.get("staff_zone_id"), c.get("customer_zone_id"))
                     for c in truth.get("counters", []))
    return CameraPlan(camera_id, tuple(zones_from(truth["zones"])), counters,
                      WorkingCalendar.from_dict(truth.get("working_hours") or {}), name=truth["scenario"],
                      capacity=truth.get("capacity"))


def deployed_fps(truth: dict[str, Any], ingest: Any) -> float:
    """The analytics rate the scenario's camera gets by default when deployed: its role's (``cameras.plan``)."""
    from cameras.plan import role_fps

    return role_fps(camera_plan(truth).role, ingest)


def evaluate(truth: dict[str, Any], video: Path, detector: Any, vision_settings: Any, fps: float | None = None,
             camera_id: int = 1, limit: int | None = None, evidence_dir: Path | None = None, scale: float = 1.0,
             ) -> tuple[dict[str, Any], RunResult]:
    """Run one ground-truthed video through the real engine and rules at ``fps`` analysed frames per scenario
    second (None: every frame), the tracker tuned to that rate, each frame resized by ``scale``; return its
    scores and the raw run."""
    from vision.engine import CameraSetup, VisionEngine
    from vision.rules import build_rules

    native = 1 / truth["seconds_per_frame"]
    if fps is not None and fps > native + 1e-9:
        raise ValueError(f"{truth['scenario']} has {native:g} frames per second: it cannot be analysed at {fps:g}")
    rate = fps or native
    plan = camera_plan(truth, camera_id)
    rules = build_rules(plan)
    setup = CameraSetup(camera_id, list(plan.zones), rules, plan.name, rate)
    engine = VisionEngine(detector, vision_settings, [setup], data_dir=evidence_dir)
    start = datetime.fromisoformat(truth["start"])
    frames = video_frames(video, camera_id, start, truth["seconds_per_frame"], fps, limit, scale)
    run = run_video(engine, frames, rules, scenario_end(truth))
    scores = score(truth, run)
    scores["analytics_fps"] = round(rate, 2)
    scores["role"] = str(plan.role)
    scores["scale"] = scale
    return scores, run
