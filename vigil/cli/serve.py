"""``vigil serve`` (also ``vigil api``): the Operations API and console under uvicorn."""

from __future__ import annotations

import os

import typer

from vigil.cli.common import ExitCode, fail, state

API_SCHEMA_VERSION = 50  # the alarm center's migration (0050): the API refuses to start on an older schema


def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Address to listen on (default: api.host)."),
    port: int = typer.Option(None, min=1, max=65535, help="Port (default: api.port)."),
    workers: int = typer.Option(1, min=1, max=64, help="uvicorn worker processes (each with its own pool)."),
    log_level: str = typer.Option("warning", help="uvicorn's access/error log level."),
) -> None:
    """Serve the API (and the console when installed). The schema must be migrated (`vigil db migrate`)."""
    import psycopg

    from ops_api.server import ApiServerConfig, run_server
    from store.db import connect, resolve_url
    from store.embedded import EmbeddedPostgresError

    settings = state(ctx).settings()
    try:
        url = resolve_url(settings)
        with connect(url, timeout_s=settings.database.connect_timeout_s) as conn:
            row = conn.execute("SELECT max(version) AS v FROM schema_migrations"
                               " WHERE to_regclass('schema_migrations') IS NOT NULL").fetchone()
    except psycopg.errors.UndefinedTable:
        row = None
    except (EmbeddedPostgresError, psycopg.OperationalError) as exc:
        raise fail(f"database: {exc}".strip(), ExitCode.DATABASE) from None
    if row is None or (row["v"] or 0) < API_SCHEMA_VERSION:
        raise fail("the database schema is older than this API: run `vigil db migrate`", ExitCode.DATABASE)
    os.environ["DATABASE_URL"] = url  # worker processes use this server, never start one
    if state(ctx).config_file:
        os.environ["VIGIL_CONFIG"] = state(ctx).config_file
    host, port = host or settings.api.host, port or settings.api.port
    typer.echo(f"Vigil API on http://{host}:{port}/ (docs at /docs)", err=True)
    run_server(ApiServerConfig("ops_api.asgi:app_factory", factory=True, host=host, port=port, workers=workers,
                               log_level=log_level, timeout_graceful_shutdown=5,
                               header_timeout_s=settings.api.header_timeout_s))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("api", hidden=True)(serve)
