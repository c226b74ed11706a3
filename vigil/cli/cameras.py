"""``vigil cameras``: discover, probe, add and manage cameras (and the sites they belong to).

ONVIF exit codes: 20 host unreachable, 21 not an ONVIF device, 22 wrong credentials, 23 camera clock
too far off to correct, 24 malformed or non-standard SOAP reply, 25 no H.264/H.265 profile.
Other codes: 4 database, 5 not found, 6 invalid input, 7 stream unreadable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.common import ExitCode, fail, state

ONVIF_CODES = ("Exit codes: 20 unreachable, 21 not ONVIF, 22 wrong credentials, 23 clock skew too large, "
               "24 malformed SOAP reply, 25 no H.264/H.265 profile.")
STREAM_UNREADABLE = 7

cameras_app = typer.Typer(help="Cameras: discover, probe, add, list, check. " + ONVIF_CODES, no_args_is_help=True)
sites_app = typer.Typer(help="Sites (service centers, street points) that cameras belong to.", no_args_is_help=True)
cameras_app.add_typer(sites_app, name="sites")


def _password(password: str | None, password_env: str | None, user: str | None) -> str | None:
    if password_env:
        if password_env not in os.environ:
            raise fail(f"the variable {password_env} is not set", ExitCode.INVALID_INPUT)
        return os.environ[password_env]
    if password is None and user and os.isatty(0):
        return typer.prompt(f"password for {user}", hide_input=True)
    return password


def _db(ctx: typer.Context) -> Any:
    import psycopg

    from store.db import connect, resolve_url
    from store.embedded import EmbeddedPostgresError

    settings = state(ctx).settings()
    try:
        return connect(resolve_url(settings), timeout_s=settings.database.connect_timeout_s)
    except (psycopg.OperationalError, EmbeddedPostgresError) as exc:
        raise fail(f"database unreachable: {exc}".strip(), ExitCode.DATABASE) from None


def _box(ctx: typer.Context) -> Any:
    from cameras.crypto import CredentialError, SecretBox

    try:
        return SecretBox.from_key_file(state(ctx).settings().key_file)
    except CredentialError as exc:
        raise fail(str(exc), ExitCode.SETTINGS) from None


def _registry_errors(exc: Exception) -> typer.Exit:
    from store.registry import NotFound

    return fail(str(exc), ExitCode.NOT_FOUND if isinstance(exc, NotFound) else ExitCode.INVALID_INPUT)


@cameras_app.command("discover")
def discover(ctx: typer.Context,
             timeout: float = typer.Option(3.0, "--timeout", min=0.2, max=60, help="Seconds to wait for replies."),
             interface: str = typer.Option(None, "--interface", help="Local IPv4 address to probe from."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Find ONVIF cameras on the local network (WS-Discovery Probe, multicast TTL 1)."""
    from cameras.discovery import discover as run

    state(ctx).settings()
    devices = run(timeout, interface)
    if as_json:
        typer.echo(json.dumps([{"address": d.address, "xaddrs": d.xaddrs, "model": d.model, "scopes": d.scopes,
                                "host": d.host, "port": d.port} for d in devices], indent=2))
        return
    if not devices:
        typer.echo(f"no ONVIF device answered within {timeout:g} s")
        return
    for d in devices:
        typer.echo(f"{d.address:15}  {d.model:24}  {' '.join(d.xaddrs)}")
        typer.echo(f"{'':15}  scopes: {' '.join(d.scopes)}")


@cameras_app.command("probe", epilog=ONVIF_CODES)
def probe(ctx: typer.Context, host: str = typer.Argument(..., help="Camera address."),
          port: int = typer.Option(80, "--port", min=1, max=65535, help="ONVIF (HTTP) port."),
          user: str = typer.Option(None, "--user", help="ONVIF user."),
          password: str = typer.Option(None, "--password", help="Password (prefer --password-env)."),
          password_env: str = typer.Option(None, "--password-env", help="Read the password from this variable."),
          timeout: float = typer.Option(8.0, "--timeout", min=0.5, max=120),
          max_skew: float = typer.Option(86400.0, "--max-skew", help="Largest clock skew corrected (seconds)."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Read a camera's device information, clock, profiles, stream and snapshot URIs."""
    import asyncio

    from cameras.onvif import OnvifError
    from cameras.onvif import probe as run

    state(ctx).settings()
    secret = _password(password, password_env, user)
    try:
        report = asyncio.run(run(host, port, user, secret, timeout_s=timeout, max_skew_s=max_skew))
    except OnvifError as exc:
        raise fail(str(exc), exc.exit_code) from None  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(report.to_info(), indent=2))
        return
    typer.echo(f"{report.manufacturer} {report.model}  firmware {report.firmware}  serial {report.serial}")
    corrected = " (corrected automatically)" if report.clock_corrected else ""
    typer.echo(f"clock skew: {report.clock_skew_s:+.1f} s{corrected}; authentication: {report.auth}")
    main = report.main_profile()
    analytics = report.analytics_profile(state(ctx).settings().vision.imgsz)
    for p in report.profiles:
        role = " [main]" if p.token == main.token else ""
        role += " [analytics]" if p.token == analytics.token else ""
        typer.echo(f"  {p.name:12} {p.encoding:5} {p.width}x{p.height} @ {p.fps or '?'} fps "
                   f"{p.bitrate_kbps or '?'} kbit/s{role}")
        typer.echo(f"    stream:   {p.stream_uri}")
        if p.snapshot_uri:
            typer.echo(f"    snapshot: {p.snapshot_uri}")


@cameras_app.command("encoder", epilog=ONVIF_CODES + " 26 the camera refused the encoder change.")
def encoder(ctx: typer.Context, host: str = typer.Argument(..., help="Camera address."),
            profile: str = typer.Option(..., "--profile", help="Profile token (from `vigil cameras probe --json`)."),
            port: int = typer.Option(80, "--port", min=1, max=65535, help="ONVIF (HTTP) port."),
            user: str = typer.Option(None, "--user", help="ONVIF user."),
            password_env: str = typer.Option(None, "--password-env", help="Read the password from this variable."),
            gov_length: int = typer.Option(None, "--gov-length", min=1, max=1000,
                                           help="Frames between key frames (default: 2 s of frames, when needed)."),
            timeout: float = typer.Option(8.0, "--timeout", min=0.5, max=120),
            as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Make a stream fit recording: H.264 with a key frame every 2 s (ONVIF SetVideoEncoderConfiguration), when
    it is not so already and the camera allows it; the browser plays H.264, not H.265."""
    import asyncio
    from dataclasses import asdict

    from cameras.onvif import OnvifError
    from cameras.onvif_encoder import set_recording_encoder

    state(ctx).settings()
    secret = _password(None, password_env, user)
    try:
        change = asyncio.run(set_recording_encoder(host, port, user, secret, profile, gov_length=gov_length,
                                                   timeout_s=timeout))
    except OnvifError as exc:
        raise fail(str(exc), exc.exit_code) from None  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps({"changed": change.changed, "before": asdict(change.before),
                               "after": asdict(change.after), "fits_recording": change.after.fits_recording}))
        return
    after = change.after
    gop = f", a key frame every {after.gop_s:g} s" if after.gop_s else ""
    typer.echo(f"{'changed to' if change.changed else 'already'} {after.encoding}{gop} "
               f"({'fits' if after.fits_recording else 'does not fit'} recording)")


@cameras_app.command("add", epilog=ONVIF_CODES)
def add(ctx: typer.Context,
        site: str = typer.Option(..., "--site", help="Site code."),
        name: str = typer.Option(..., "--name", help="Camera name, unique in the site."),
        onvif: str = typer.Option(None, "--onvif", help="ONVIF camera address."),
        port: int = typer.Option(80, "--port", min=1, max=65535, help="ONVIF port."),
        rtsp: str = typer.Option(None, "--rtsp", help="Bare RTSP URL (credentials in it are moved out)."),
        sub_rtsp: str = typer.Option(None, "--sub-rtsp", help="RTSP URL of the sub-stream for analytics."),
        file: Annotated[Path | None, typer.Option("--file", help="A video file (loops at its native rate).")] = None,
        user: str = typer.Option(None, "--user"),
        password: str = typer.Option(None, "--password", help="Password (prefer --password-env)."),
        password_env: str = typer.Option(None, "--password-env", help="Read the password from this variable."),
        analytics_fps: float = typer.Option(None, "--analytics-fps", min=0.1, max=60),
        snapshot: bool = typer.Option(True, "--snapshot/--no-snapshot", help="Take and keep a snapshot."),
        timeout: float = typer.Option(8.0, "--timeout", min=0.5, max=120)) -> None:
    """Add (or update) a camera: ONVIF (probe, pick main and analytics streams, snapshot), RTSP URL or file."""
    import asyncio

    from cameras.onboarding import StreamUnreadable, onboard_file, onboard_onvif, onboard_stream
    from cameras.onvif import OnvifError
    from core import media
    from store import registry

    if sum(x is not None for x in (onvif, rtsp, file)) != 1:
        raise fail("give exactly one of --onvif HOST, --rtsp URL or --file PATH", ExitCode.USAGE)
    settings = state(ctx).settings()
    secret = _password(password, password_env, user)
    with _db(ctx) as conn:
        try:
            site_id = registry.get_site(conn, site).id or 0
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
        try:
            if onvif:
                result = asyncio.run(onboard_onvif(onvif, port, user, secret, site_id=site_id, name=name,
                                                   analytics_fps=analytics_fps, min_width=settings.vision.imgsz,
                                                   timeout_s=timeout, snapshot=snapshot))
            elif rtsp:
                result = onboard_stream(rtsp, site_id=site_id, name=name, username=user, password=secret,
                                        sub_url=sub_rtsp, analytics_fps=analytics_fps, snapshot=snapshot,
                                        timeout_s=timeout)
            else:
                result = onboard_file(file, site_id=site_id, name=name, analytics_fps=analytics_fps, snapshot=snapshot)
        except OnvifError as exc:
            raise fail(str(exc), exc.exit_code) from None  # type: ignore[arg-type]
        except StreamUnreadable as exc:
            raise fail(f"cannot read the stream: {exc}", STREAM_UNREADABLE) from None  # type: ignore[arg-type]
        try:
            box = _box(ctx) if result.password is not None else None
            camera = registry.save_camera(conn, result.record, result.password, box)
            still = None
            if result.snapshot_jpeg:
                still = media.snapshot_file(settings.data_dir, camera.id or 0)
                still.parent.mkdir(parents=True, exist_ok=True)
                still.write_bytes(result.snapshot_jpeg)
                # Recorded until a worker points snapshot_path at its live picture; a camera added again keeps
                # the worker's (save_camera keeps it too), which the API serves and the still never stands for.
                if not media.is_live_picture(camera.snapshot_path):
                    camera.snapshot_path = str(still)
                    camera = registry.save_camera(conn, camera)
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"added camera {camera.id}: {site}/{camera.name} ({camera.source_kind.value})")
    typer.echo(f"  main stream:      {camera.main_uri}")
    typer.echo(f"  analytics stream: {camera.analytics_uri}")
    if still is not None:
        typer.echo(f"  snapshot:         {still}")
    if media.is_live_picture(camera.snapshot_path):
        typer.echo(f"  live picture:     {camera.snapshot_path} (the vision worker's)")


@cameras_app.command("list")
def list_cameras(ctx: typer.Context, site: str = typer.Option(None, "--site", help="Only this site."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List cameras (passwords are never shown)."""
    from dataclasses import asdict

    from store import registry

    with _db(ctx) as conn:
        try:
            cameras = registry.list_cameras(conn, site)
            sites = {s.id: s.code for s in registry.list_sites(conn)}
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    if as_json:
        typer.echo(json.dumps([{**asdict(c), "site": sites.get(c.site_id)} for c in cameras], indent=2, default=str))
        return
    for c in cameras:
        flag = "" if c.enabled else " (disabled)"
        typer.echo(f"{c.id:4}  {sites.get(c.site_id)}/{c.name}  {c.source_kind.value:5} {c.state:12} "
                   f"{c.analytics_uri or ''}{flag}")


@cameras_app.command("remove")
def remove(ctx: typer.Context, camera: str = typer.Argument(..., help="SITE/NAME or id.")) -> None:
    """Remove a camera and its zones (counters it watched keep their history)."""
    from store import registry

    with _db(ctx) as conn:
        try:
            registry.delete_camera(conn, camera)
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    typer.echo(f"removed {camera}")


@cameras_app.command("passwd")
def passwd(ctx: typer.Context, camera: str = typer.Argument(..., help="SITE/NAME or id."),
           password_env: str = typer.Option(None, "--password-env", help="Read the password from this variable."),
           clear: bool = typer.Option(False, "--clear", help="Remove the stored password.")) -> None:
    """Set (encrypted) or clear a camera's password; prompts when no variable is given."""
    from store import registry

    secret = None if clear else _password(None, password_env, "the camera")
    if secret is None and not clear:
        raise fail("no password given (use --password-env VAR, a terminal prompt, or --clear)", ExitCode.USAGE)
    with _db(ctx) as conn:
        try:
            registry.set_password(conn, camera, secret, _box(ctx))
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    typer.echo("password cleared" if clear else "password stored (encrypted)")


@cameras_app.command("check")
def check(ctx: typer.Context, camera: str = typer.Argument(..., help="SITE/NAME or id."),
          seconds: float = typer.Option(5.0, "--seconds", min=1, max=300),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Read the camera's analytics stream for a few seconds and report its health."""
    import time
    from dataclasses import asdict

    from ingest.reader import CameraReader
    from store import registry

    settings = state(ctx).settings()
    with _db(ctx) as conn:
        try:
            source = registry.camera_source(conn, camera, _box(ctx))
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    reader = CameraReader(source, settings.ingest)
    with reader:
        frame = reader.slot.take(-1, timeout=settings.ingest.open_timeout_s + seconds)
        time.sleep(seconds if frame is not None else 0)
        health = reader.health()
    result = {**asdict(health), "frames_delivered": reader.slot.delivered, "error": reader.last_error}
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        typer.echo(f"{source.label()}: {health.state.value}, {health.width}x{health.height}, "
                   f"{health.input_fps:.1f} fps decoded, {health.analytics_fps:.1f} fps to analytics, "
                   f"{reader.slot.delivered} frames" + (f"; {reader.last_error}" if reader.last_error else ""))
    if frame is None:
        raise typer.Exit(STREAM_UNREADABLE)


@sites_app.command("add")
def site_add(ctx: typer.Context, code: str = typer.Argument(..., help="Short code, e.g. q1-center."),
             name: str = typer.Option(..., "--name"),
             kind: str = typer.Option("service_center", "--kind", help="service_center, street or other."),
             level: str = typer.Option(None, "--level", help="province or commune (district: before the 2025 reform)."),
             address: str = typer.Option(None, "--address"),
             timezone: str = typer.Option("Asia/Ho_Chi_Minh", "--timezone")) -> None:
    """Add or update a site (working hours and more: `vigil config import`)."""
    from cameras.models import SiteKind, SiteRecord
    from store import registry

    try:
        record = SiteRecord(code=code, name=name, kind=SiteKind(kind), level=level, address=address,
                            timezone=timezone)
    except ValueError:
        raise fail(f"--kind {kind!r}: one of service_center, street, other", ExitCode.INVALID_INPUT) from None
    with _db(ctx) as conn:
        try:
            site = registry.save_site(conn, record)
        except registry.RegistryError as exc:
            raise _registry_errors(exc) from None
    typer.echo(f"site {site.id}: {site.code} ({site.kind.value})")


@sites_app.command("list")
def site_list(ctx: typer.Context) -> None:
    """List the sites."""
    from store import registry

    with _db(ctx) as conn:
        for site in registry.list_sites(conn):
            typer.echo(f"{site.id:4}  {site.code:20} {site.kind.value:15} {site.name}")


def register(app: typer.Typer) -> None:
    app.add_typer(cameras_app, name="cameras")
