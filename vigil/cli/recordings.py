"""``vigil recordings``: list what is recorded, export a range as MP4 (with a reason, recorded with its sha256),
verify a handed-out file against the recorded sha256s, prune by the retention rules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.common import ExitCode, fail, state

recordings_app = typer.Typer(help="Recorded footage: list, export, verify, prune.", no_args_is_help=True)


def _conn(ctx: typer.Context) -> Any:
    import psycopg

    from store.db import connect, resolve_url
    from store.embedded import EmbeddedPostgresError

    settings = state(ctx).settings()
    try:
        return connect(resolve_url(settings), timeout_s=settings.database.connect_timeout_s)
    except (EmbeddedPostgresError, psycopg.OperationalError) as exc:
        raise fail(f"database: {exc}".strip(), ExitCode.DATABASE) from None


def _moment(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: give a time like 2026-12-07T08:00:00+07:00", ExitCode.USAGE) from None
    if moment.tzinfo is None:
        raise fail(f"{option} {value!r}: include the UTC offset (+07:00)", ExitCode.USAGE)
    return moment


def _gb(size: int | None) -> str:
    return f"{(size or 0) / 1e9:.2f} GB"


@recordings_app.command("list")
def list_(
    ctx: typer.Context,
    camera: int = typer.Option(None, "--camera", help="One camera: its recorded spans and gaps."),
    since: str = typer.Option(None, help="With --camera: from this time (default: 24 hours before --until)."),
    until: str = typer.Option(None, help="With --camera: to this time (default: now)."),
    exports: bool = typer.Option(False, "--exports", help="The exports handed out instead (newest first)."),
) -> None:
    """Per camera: the oldest and newest footage, segments and size; or one camera's spans; or the exports."""
    from datetime import UTC, timedelta

    from store import playback

    with _conn(ctx) as conn:
        if exports:
            for row in playback.list_exports(conn, camera):
                typer.echo(f"#{row['id']} camera {row['camera_id']} {row['actual_start'].isoformat()} -> "
                           f"{row['actual_end'].isoformat()} by {row['username'] or '-'} at "
                           f"{row['created_at']:%Y-%m-%d %H:%M} sha256 {row['sha256']} reason: {row['reason']}")
            return
        if camera is None:
            for row in playback.camera_totals(conn):
                typer.echo(f"camera {row['camera_id']}: {row['first'].isoformat()} -> {row['last'].isoformat()}, "
                           f"{row['segments']} segments, {_gb(row['bytes'])}")
            return
        end = _moment(until, "--until") if until else datetime.now(UTC)
        start = _moment(since, "--since") if since else end - timedelta(hours=24)
        found = playback.spans(conn, camera, start, end)
    for span in found:
        typer.echo(f"recorded {span.start.isoformat()} -> {span.end.isoformat()} ({span.segments} segments, "
                   f"{_gb(span.bytes)}, {','.join(span.codecs) or '?'})")
    for a, b in playback.gaps_between(found, start, end):
        typer.echo(f"gap      {a.isoformat()} -> {b.isoformat()} ({(b - a).total_seconds():.0f} s)")


@recordings_app.command("export")
def export(
    ctx: typer.Context,
    camera: int = typer.Argument(..., help="Camera id."),
    start: str = typer.Option(..., "--start", help="Start, with its offset: 2026-12-07T08:00:00+07:00."),
    end: str = typer.Option(..., "--end", help="End, with its offset."),
    reason: str = typer.Option(..., "--reason", help="Why the footage is handed out (kept with the export)."),
    case_ref: str = typer.Option(None, "--case-ref", help="The case's or complaint's reference."),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also copy the MP4 here.")] = None,
) -> None:
    """An MP4 of the camera's footage in the range (stream copy of whole segments: cut at key frames, so it
    covers a little more than asked; the actual range is printed); sha256, reason and a hold are recorded."""
    import shutil
    import uuid

    from core import media
    from ops_api import audit
    from ops_api.accounts import cli_actor
    from record.export import ExportError, ExportPiece, export_file_name, export_mp4
    from store import playback

    settings = state(ctx).settings()
    begin, finish = _moment(start, "--start"), _moment(end, "--end")
    if finish <= begin:
        raise fail("--end must be after --start", ExitCode.USAGE)
    if len(reason.strip()) < 3:
        raise fail("--reason: say why the footage is handed out (3 characters at least)", ExitCode.USAGE)
    with _conn(ctx) as conn:
        segments = playback.segments(conn, camera, begin, finish)
        if not segments:
            raise fail(f"camera {camera} has nothing recorded between {begin} and {finish}", ExitCode.NOT_FOUND)
        pieces = [ExportPiece(media.recording_file(settings.data_dir, s.path) or Path("/nonexistent"), s.start, s.end)
                  for s in segments]
        name = export_file_name(camera, pieces[0].start, pieces[-1].end, uuid.uuid4().hex[:6])
        try:
            result = export_mp4(pieces, media.export_file(settings.data_dir, name),
                                timeout_s=settings.playback.export_timeout_s)
        except ExportError as exc:
            raise fail(f"export failed: {exc}") from None
        actor = cli_actor()
        with conn.transaction():
            hold = playback.create_hold(conn, camera, result.actual_start, result.actual_end, reason.strip(),
                                        case_ref, None)
            row = playback.insert_export(conn, camera_id=camera, start=begin, end=finish,
                                         actual_start=result.actual_start, actual_end=result.actual_end,
                                         reason=reason.strip(), user_id=None, username=actor, sha256=result.sha256,
                                         size=result.bytes, file_name=name, hold_id=hold["id"])
            audit.record(conn, None, "recording.export", "camera", camera, username=actor, after={
                "export_id": row["id"], "actual_start": result.actual_start.isoformat(),
                "actual_end": result.actual_end.isoformat(), "reason": reason.strip(), "sha256": result.sha256,
                "file_name": name, "hold_id": hold["id"]})
    if output is not None:
        shutil.copyfile(result.file, output)
    typer.echo(f"exported {result.file if output is None else output}")
    typer.echo(f"covers {result.actual_start.isoformat()} -> {result.actual_end.isoformat()} "
               f"({result.segments} segments, cut at key frames)")
    typer.echo(f"sha256 {result.sha256}  (export #{row['id']}, hold #{hold['id']})")


@recordings_app.command("verify")
def verify(ctx: typer.Context,
           file: Annotated[Path, typer.Argument(help="A file handed out as a Vigil export.")]) -> None:
    """Check a file against the sha256s recorded at export: exit 0 and say which export it is, or exit 1."""
    from record.export import file_sha256
    from store import playback

    if not file.is_file():
        raise fail(f"{file}: no such file", ExitCode.NOT_FOUND)
    digest = file_sha256(file)
    with _conn(ctx) as conn:
        found = playback.exports_by_sha256(conn, digest)
    if not found:
        raise fail(f"{file.name}: sha256 {digest} matches NO recorded export (altered, or not from this system)")
    for row in found:
        typer.echo(f"OK {file.name}: export #{row['id']} of camera {row['camera_id']}, "
                   f"{row['actual_start'].isoformat()} -> {row['actual_end'].isoformat()}, made by "
                   f"{row['username'] or '-'} at {row['created_at'].isoformat()}, reason: {row['reason']}")
    typer.echo(f"sha256 {digest}")


@recordings_app.command("prune")
def prune(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be deleted; delete nothing."),
) -> None:
    """Delete footage past its retention (continuous N days, around events M days, holds kept) and, under the
    disk budget, the oldest continuous footage first (``record.retention.prune``)."""
    try:
        from record.retention import prune as run_prune
        from store.recordings import RecordingIndex
    except ImportError:
        raise fail("recording retention (record/retention.py) is not part of this build", ExitCode.NOT_BUILT) from None
    settings = state(ctx).settings()
    with _conn(ctx) as conn:
        report = run_prune(RecordingIndex(conn), settings, settings.data_dir, dry_run=dry_run)
    deleted = f"{report.deleted_segments} segments, {_gb(report.deleted_bytes)}"
    typer.echo(f"{'would delete' if dry_run else 'deleted'} {deleted} (expired {report.expired.segments}, disk budget "
               f"{report.budget_continuous.segments + report.budget_events.segments}, finished after a crash "
               f"{report.resumed.segments}); footage before: {_gb(report.footage_bytes)}")
    if report.storage_alarm:
        typer.secho("storage alarm: held or event footage would have to go under the disk budget", fg="red", err=True)
    for error in report.errors:
        typer.secho(f"error: {error}", fg="red", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(recordings_app, name="recordings")
