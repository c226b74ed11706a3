"""``vigil analyze VIDEO``: a recorded video through the vision engine (a backfill), to JSON lines and/or the DB."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.common import ExitCode, fail, state

if TYPE_CHECKING:
    from collections.abc import Callable

    from vision.camera_config import CameraConfig
    from vision.engine import FrameResult


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def _parse_start(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--start {text!r} is not an ISO 8601 time (e.g. 2026-11-22T08:00:00+07:00)",
                   ExitCode.USAGE) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def analyze(
    ctx: typer.Context,
    video: Annotated[Path, typer.Argument(help="Video file (any format OpenCV/FFmpeg decodes).")],
    camera_config: Annotated[Path | None, typer.Option("--camera-config",
                                                       help="YAML of one camera and its zones.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="yolov3-tiny, person-yolov8s, or a model path "
                                                              "(default: settings vision.model).")] = None,
    fps: Annotated[float | None, typer.Option("--fps", min=0.01, help="Frames per second of video to analyse "
                                              "(default: the camera's analytics_fps, else every frame).")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Write DIR/detections.jsonl and "
                                                               "DIR/events.jsonl.")] = None,
    no_db: Annotated[bool, typer.Option("--no-db", help="Do not write to the database.")] = False,
    start: Annotated[str | None, typer.Option("--start", help="Wall-clock time of the video's first frame, "
                                              "ISO 8601 (default: now); written times are start + time in the "
                                              "file.")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Frames per inference "
                                              "(default: vision.max_batch).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Stop after this many analysed "
                                              "frames.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Run a recorded video through the same engine as live cameras, faster than real time where the
    hardware allows, and write detections and events (JSON lines and/or the database, as a backfill)."""
    settings = state(ctx).settings()
    if no_db and jsonl is None:
        raise fail("nothing to write: give --jsonl DIR, or drop --no-db to write to the database", ExitCode.USAGE)
    if not video.is_file():
        raise fail(f"{video}: no such file", ExitCode.NOT_FOUND)
    begin = _parse_start(start)

    from vision.camera_config import CameraConfig, CameraConfigError, load_camera_config
    from vision.detectors import ModelError, load_detector
    from vision.engine import CameraSetup, VisionEngine
    from vision.offline import JsonlSink, VideoError, expected_frames, probe, run_analysis

    try:
        camera = load_camera_config(camera_config) if camera_config else CameraConfig()
        info = probe(video)
        detector = load_detector(settings.vision, settings.models_dir, model)
    except (CameraConfigError, VideoError) as exc:
        raise fail(str(exc), ExitCode.INVALID_INPUT) from None
    except ModelError as exc:
        raise fail(str(exc), ExitCode.NOT_FOUND) from None
    url = None if no_db else _database_url(ctx)
    if url is not None:
        camera = _registry_ids(url, camera)
    rate = fps or camera.analytics_fps
    rules = _rules_for(camera)
    engine = VisionEngine(detector, settings.vision,
                          [CameraSetup(camera.camera_id, camera.zones, rules, camera.name, rate or info.fps)],
                          settings.data_dir)
    sinks: list[Any] = []
    if jsonl is not None:
        sinks.append(JsonlSink(jsonl, camera.zones))
    if url is not None:
        sinks.append(_database_sink(ctx, url))
    total = expected_frames(info, rate, limit)
    typer.echo(f"{video.name}: {info.width}x{info.height} {info.fps:g} fps, {info.frames} frames; analysing "
               f"{'every frame' if not rate else f'{rate:g} fps'} with {detector.name} on {detector.device}, "
               f"{len(camera.zones)} zones, {len(rules)} rules", err=True)
    began = datetime.now(UTC)
    try:
        with _progress_bar(progress, total) as advance:
            done = run_analysis(engine, video, camera.camera_id, begin, sinks, rate,
                                batch or settings.vision.max_batch, limit, advance)
    except (OSError, RuntimeError, ValueError) as exc:  # what was analysed so far is still written below
        logging.getLogger("vigil.vision").debug("analysis failed", exc_info=True)
        raise fail(f"analysis of {video.name} stopped: {type(exc).__name__}: {exc}", ExitCode.FAILURE) from None
    finally:
        for sink in sinks:
            sink.close()
        detector.close()
    elapsed = (datetime.now(UTC) - began).total_seconds()
    video_s = (done / rate) if rate else done / info.fps
    typer.echo(f"analysed {done} frames in {elapsed:.1f} s ({done / max(elapsed, 1e-9):.1f} frames/s, "
               f"{video_s / max(elapsed, 1e-9):.2f}x real time); {engine.inferences} inferences, "
               f"{engine.detected_frames} frames through the detector", err=True)
    if jsonl is not None:
        events = sinks[0].events
        typer.echo(f"wrote {jsonl / 'detections.jsonl'} ({done} lines) and {jsonl / 'events.jsonl'} "
                   f"({len(events)} events)", err=True)


def _rules_for(camera: CameraConfig) -> list[Any]:
    """The analytics rules of the camera's plan (``vision.rules.build_rules``): its zones, the counters of its
    site that it watches, the site's working hours."""
    from vision.rules import build_rules

    if not camera.zones:
        return []
    try:
        return list(build_rules(camera.plan()))
    except ValueError as exc:  # a CalendarError is one
        raise fail(f"camera '{camera.name or camera.camera_id}': {exc}", ExitCode.INVALID_INPUT) from None


class _progress_bar:  # a context manager used like a function
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("analysing"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=False)
        self._progress.start()
        task = self._progress.add_task("analyse", total=self.total or None, rate="")

        def advance(n: int) -> None:
            speed = self._progress.tasks[0].speed
            self._progress.update(task, advance=n, rate=f"{speed:.1f} f/s" if speed else "")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()


class _StoreSink:
    """Results -> the database through the store writer (events by id: the last version wins)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.events = 0

    def add(self, result: FrameResult) -> None:
        if result.events:
            self.writer.write_events(result.events)
            self.events += len(result.events)
        if result.observations:
            self.writer.write_observations(result.observations)
        if result.sessions:
            self.writer.write_counter_sessions(result.sessions)

    def close(self) -> None:
        done = self.writer.close()
        stats = self.writer.stats()
        written = sum(stats.rows_written.values())
        typer.echo(f"database: {written} rows written, {stats.rows_rejected} rejected"
                   + ("" if done else f", {stats.spool_pending_rows} left in the spool for the next run"), err=True)


def _database_url(ctx: typer.Context) -> str:
    import psycopg

    from store.db import resolve_url

    try:
        return resolve_url(state(ctx).settings())
    except (psycopg.Error, OSError, RuntimeError) as exc:
        raise fail(f"database not reachable: {exc} (use --no-db --jsonl DIR to skip it)", ExitCode.DATABASE) from None


def _registry_ids(url: str, camera: CameraConfig) -> CameraConfig:
    """The registry's ids for a camera file taken from ``vigil config export`` (cameras and zones are keyed by
    name there), so backfilled events point at the registered camera and zones. Unknown: the file's ids."""
    import dataclasses

    import psycopg

    from store.db import connect
    from store.registry import NotFound, get_camera, list_zones

    code = camera.site.get("code")
    if not code or not camera.name:
        return camera
    try:
        with connect(url) as conn:
            record = get_camera(conn, f"{code}/{camera.name}")
            registered = {z.name: z.id for z in list_zones(conn, record.id)} if record.id is not None else {}
    except (NotFound, psycopg.Error):
        typer.echo(f"camera {code}/{camera.name} is not registered: events keep the file's ids", err=True)
        return camera
    zones = [dataclasses.replace(z, id=registered.get(z.name, z.id)) for z in camera.zones]
    return dataclasses.replace(camera, camera_id=record.id or camera.camera_id, zones=zones)


def _database_sink(ctx: typer.Context, url: str) -> _StoreSink:
    from core import media
    from store.writer import StoreWriter

    settings = state(ctx).settings()
    writer = StoreWriter(url, settings.store, media.spool_dir(settings.data_dir))
    writer.start()
    return _StoreSink(writer)
