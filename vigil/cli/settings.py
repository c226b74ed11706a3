"""``vigil settings``: show the effective settings, or print their Markdown reference."""

from __future__ import annotations

import json

import typer

from vigil.cli.common import state

settings_app = typer.Typer(help="The settings tree: effective values and the reference.", no_args_is_help=True)
SECRET_KEYS = {"session_secret", "url", "metrics_token"}


@settings_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective settings (file + environment) as JSON; secrets are masked."""
    settings = state(ctx).settings()
    data = json.loads(settings.model_dump_json())
    for section in data.values():
        if isinstance(section, dict):
            for key in SECRET_KEYS & section.keys():
                if section[key]:
                    section[key] = "***"
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@settings_app.command("doc")
def doc() -> None:
    """Print the settings reference as Markdown (docs/settings.md)."""
    from vigil.settings_doc import settings_markdown

    typer.echo(settings_markdown(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(settings_app, name="settings")
