"""``vigil config``: export and import the city's set-up (sites, cameras, zones, counters) as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail, state

config_app = typer.Typer(help="Sites, cameras, zones and counters as YAML, to keep in git.", no_args_is_help=True)


@config_app.command("export")
def export(ctx: typer.Context,
           out: Annotated[Path | None, typer.Option("--out", "-o", help="Default: stdout.")] = None) -> None:
    """Write the whole set-up as YAML. Camera passwords are never exported."""
    import yaml

    from store.config_io import HEADER, export_config
    from vigil.cli.cameras import _db

    with _db(ctx) as conn:
        data = export_config(conn)
    text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}: {len(data['sites'])} sites, "
                   f"{sum(len(s['cameras']) for s in data['sites'])} cameras", err=True)


@config_app.command("import")
def import_(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML file.")],
            dry_run: bool = typer.Option(False, "--dry-run", help="Check the file only; change nothing.")) -> None:
    """Create or update everything in the file (by site code, camera name, zone name, counter number).

    Nothing is deleted. Passwords: `password_env: VAR` reads them from the environment; cameras without
    one keep their stored password. Every problem is listed with its place; then nothing is changed.
    """
    import os

    import yaml

    from store.config_io import ConfigError, import_config, validate_config
    from vigil.cli.cameras import _box, _db

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise fail(f"{file} is not valid YAML: {exc}", ExitCode.INVALID_INPUT) from None
    if dry_run:
        errors = validate_config(data, os.environ)
        for error in errors:
            typer.secho(f"  {error}", err=True, fg=typer.colors.RED)
        if errors:
            raise fail(f"{file}: {len(errors)} problem(s)", ExitCode.INVALID_INPUT)
        typer.echo(f"{file}: valid")
        return
    state(ctx).settings()
    with _db(ctx) as conn:
        try:
            report = import_config(conn, data, _box(ctx))
        except ConfigError as exc:
            for error in exc.errors:
                typer.secho(f"  {error}", err=True, fg=typer.colors.RED)
            raise fail(f"{file}: {len(exc.errors)} problem(s); nothing was changed", ExitCode.INVALID_INPUT) from None
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"imported {report.sites} sites, {report.cameras} cameras, {report.zones} zones, "
               f"{report.counters} counters ({report.passwords_set} passwords set)")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
