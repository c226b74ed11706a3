"""``vigil run``, ``vigil worker`` and ``vigil demo``: the running system."""

from __future__ import annotations

import signal
import socket
import sys

import typer

from vigil.cli.common import ExitCode, fail, state


def _vigil_argv(ctx: typer.Context, *args: str) -> list[str]:
    """argv for a child ``vigil`` process with the same settings file and log level."""
    root = state(ctx)
    argv = [sys.executable, "-m", "vigil"]
    if root.config_file:
        argv += ["--config", root.config_file]
    if root.log_level:
        argv += ["--log-level", root.log_level]
    return [*argv, *args]


def worker(
    ctx: typer.Context,
    worker_id: str = typer.Option(None, "--id", help="Lease owner name (default: HOST-PID)."),
    capacity: int = typer.Option(16, min=1, max=1024, help="Most cameras this worker analyses."),
    lease_ttl: float = typer.Option(15.0, min=1.0, help="Seconds a lease lives without a heartbeat."),
) -> None:
    """Run one vision worker: lease cameras from the database, analyse them, write results (until SIGTERM)."""
    import psycopg

    from store.db import resolve_url
    from vigil.worker import Worker, WorkerOptions
    from vision.detectors.base import ModelError

    settings = state(ctx).settings()
    options = WorkerOptions(capacity=capacity, lease_ttl_s=lease_ttl)
    if worker_id:
        options.worker_id = worker_id
    try:
        url = resolve_url(settings)
    except Exception as exc:
        raise fail(f"database: {exc}", ExitCode.DATABASE) from None
    runner = Worker(settings, url, options)
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    try:
        runner.run()
    except ModelError as exc:
        raise fail(str(exc), ExitCode.INVALID_INPUT) from None
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {exc}", ExitCode.DATABASE) from None


def run(
    ctx: typer.Context,
    workers: int = typer.Option(1, min=0, max=64, help="Vision worker processes on this machine."),
    capacity: int = typer.Option(16, min=1, help="Cameras per worker."),
    api: bool = typer.Option(True, help="Serve the API and console."),
) -> None:
    """Run the configured system: database (embedded unless DATABASE_URL), migrations, workers, API and console."""

    supervisor, cleanup = _prepare(ctx, workers, capacity, api, extra=[])
    _supervise(supervisor, cleanup)


def _prepare(ctx: typer.Context, workers: int, capacity: int, api: bool, extra: list,  # type: ignore[type-arg]
             cluster_was_running: bool | None = None) -> tuple:  # type: ignore[type-arg]
    """Start the database, migrate, and build the supervisor's children (``extra`` first).

    Returns the supervisor and a cleanup function that stops the embedded cluster if this command started it
    (``cluster_was_running``: whether it ran before the command began, when the command used it already).
    """
    import psycopg

    from store.db import connect, embedded_cluster, resolve_url
    from store.embedded import EmbeddedPostgresError
    from store.migrate import MigrationError, migrate
    from vigil.supervisor import ChildSpec, Supervisor

    settings = state(ctx).settings()
    cluster = None if settings.database_url else embedded_cluster(settings)
    was_running = cluster.running() if cluster is not None and cluster_was_running is None else cluster_was_running
    started_here = cluster is not None and not was_running
    try:
        url = resolve_url(settings)
        with connect(url) as conn:
            migrate(conn)
    except (EmbeddedPostgresError, MigrationError, psycopg.OperationalError) as exc:
        raise fail(f"database: {exc}", ExitCode.DATABASE) from None
    env = {"DATABASE_URL": url, "YOLO_OFFLINE": "1"}
    children = list(extra)
    if api:
        children.append(ChildSpec("api", _vigil_argv(ctx, "serve"), env=env, ready=_http_ready(settings),
                                  ready_timeout_s=60))
    # A stable id per worker slot: a restarted worker finds its own disk spool (and leases) again; with the
    # default HOST-PID id the rows a crashed worker had spooled would never be replayed.
    host = socket.gethostname()
    children += [ChildSpec(f"worker-{i + 1}", _vigil_argv(ctx, "worker", "--id", f"{host}-worker-{i + 1}",
                                                          "--capacity", str(capacity)), env=env,
                           stop_grace_s=30) for i in range(workers)]
    def cleanup() -> None:
        if started_here and cluster is not None:
            cluster.stop()

    return Supervisor(children), cleanup


def _http_ready(settings):
    import urllib.request

    url = f"http://{settings.api.host}:{settings.api.port}/healthz"

    def ready() -> bool:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200

    return ready


def _supervise(supervisor, cleanup) -> None:
    supervisor.install_signal_handlers()
    supervisor.start_all()
    try:
        supervisor.run()
    finally:
        supervisor.stop_all()
        cleanup()  # the embedded cluster this command started


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("run")(run)
    from vigil.cli.demo_city import demo  # its own module; registered here to keep the commands' order

    app.command("demo")(demo)
