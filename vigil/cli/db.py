"""``vigil db``: the embedded PostgreSQL cluster and schema migrations."""

from __future__ import annotations

import os
import subprocess

import typer

from vigil.cli.common import ExitCode, fail, state

db_app = typer.Typer(help="The database: embedded cluster (start/stop/status/psql) and migrations.",
                     no_args_is_help=True)


def _embedded(ctx: typer.Context):
    from store.db import embedded_cluster

    settings = state(ctx).settings()
    if settings.database_url:
        raise fail("DATABASE_URL is set: the embedded cluster is not used (manage that server itself).",
                   ExitCode.USAGE)
    return embedded_cluster(settings)


@db_app.command("start")
def start(ctx: typer.Context) -> None:
    """Create (first time) and start the embedded cluster in the data folder."""
    from store.embedded import EmbeddedPostgresError

    cluster = _embedded(ctx)
    try:
        cluster.start()
    except EmbeddedPostgresError as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
    typer.echo(f"running: {cluster.url}")


@db_app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Stop the embedded cluster (fast shutdown: open sessions are closed)."""
    from store.embedded import EmbeddedPostgresError

    cluster = _embedded(ctx)
    try:
        cluster.stop()
    except EmbeddedPostgresError as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
    typer.echo("stopped")


@db_app.command("status")
def status(ctx: typer.Context) -> None:
    """Say whether the database is reachable, which flavour it runs and its schema version."""
    import psycopg

    from store.db import connect
    from store.migrate import current_flavor

    settings = state(ctx).settings()
    if not settings.database_url:
        cluster = _embedded(ctx)
        if not cluster.running():
            typer.echo(f"embedded cluster: stopped ({cluster.pgdata})")
            raise typer.Exit(ExitCode.DATABASE)
        url = cluster.url
    else:
        url = settings.database_url
    try:
        with connect(url, timeout_s=settings.database.connect_timeout_s) as conn:
            flavor = current_flavor(conn)
            version = None
            if flavor:
                version = conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()["v"]
            server = conn.execute("SHOW server_version").fetchone()["server_version"]
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {exc}".strip(), ExitCode.DATABASE) from None
    typer.echo(f"reachable: PostgreSQL {server}; schema: "
               + (f"version {version:04d} ({flavor})" if flavor else "empty (run `vigil db migrate`)"))


@db_app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Apply the schema migrations not yet applied (idempotent)."""
    import psycopg

    from store.db import connect, resolve_url
    from store.migrate import MigrationError
    from store.migrate import migrate as run_migrations

    settings = state(ctx).settings()
    try:
        with connect(resolve_url(settings)) as conn:
            applied = run_migrations(conn)
    except (MigrationError, psycopg.OperationalError) as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
    if applied:
        typer.echo("applied: " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
    else:
        typer.echo("schema is up to date")


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """Open psql on the database (extra arguments go to psql)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from store.db import embedded_cluster

    settings = state(ctx).settings()
    if settings.database_url:
        # The password goes to psql's environment, not its argv (which every local user can read in ps).
        params = conninfo_to_dict(settings.database_url)
        password = params.pop("password", None)
        command, extra_env = ["psql", make_conninfo(**params)], {"PGPASSWORD": str(password)} if password else {}
    else:
        cluster = embedded_cluster(settings)
        if not cluster.running():
            raise fail("the embedded cluster is stopped: run `vigil db start`", ExitCode.DATABASE)
        command, extra_env = cluster.psql_command()
    env = {**os.environ, **extra_env}
    if os.isatty(0):
        os.execvpe(command[0], [*command, *ctx.args], env)
    raise typer.Exit(subprocess.run([*command, *ctx.args], env=env, check=False).returncode)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
