"""``vigil bench api``: the command; the benchmark itself is ``bench.api``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("api")(bench_api)


def bench_api(
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[int, typer.Option("--cameras", min=20, help="Cameras in the synthetic city.")] = 200,
    days: Annotated[int, typer.Option("--days", min=3, help="Days of synthetic history.")] = 30,
    clients: Annotated[int, typer.Option("--clients", min=1, help="Concurrent clients.")] = 50,
    seconds: Annotated[float, typer.Option("--seconds", min=2, help="Duration of each load run.")] = 20,
    think_ms: Annotated[float, typer.Option("--think-ms", min=0,
                                            help="Paced runs: each client sends one request per this period.")] = 1000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="API worker processes.")] = 2,
    live_events: Annotated[int, typer.Option("--live-events", min=10, help="Events for the live figure.")] = 200,
    settle_load: Annotated[float, typer.Option(
        "--settle-load", min=0.1, help="Before each run, wait until the 1-minute load average is at most this "
        "(and the API processes are idle), so one run's backlog does not land in the next.")] = 1.0,
    settle_max_s: Annotated[float, typer.Option(
        "--settle-max-s", min=0, help="Wait at most this long for the machine to settle before each run.")] = 240,
    wall_users: Annotated[int, typer.Option(
        "--wall-users", min=0, help="Console users in the walls run, each with a wall of previews and the alarms "
        "stream open while the paced readers run (0: no walls run).")] = 20,
    wall_tiles: Annotated[int, typer.Option("--wall-tiles", min=1, help="Preview tiles on each user's wall.")] = 12,
    walls_only: Annotated[bool, typer.Option(
        "--walls-only", help="Only the walls run (skip the per-endpoint runs and the live-event latency).")] = False,
    only: Annotated[str | None, typer.Option(
        "--only", help="Only the endpoints whose name contains this (e.g. 'alarm list'); no live-event run and no "
        "walls run.")] = None,
) -> None:
    """Operations API latency and throughput under 50 concurrent clients, live-event latency from the store's
    insert to a WebSocket client, and the console-walls run, over 30 days x 200 cameras of synthetic history on
    a private PostgreSQL cluster. Goals on this machine: reads p95 < 100 ms; live event p95 < 500 ms from the
    store's insert; with 20 console walls open (260 streams) sign-in and reads p95 < 100 ms and no 503. The alarm
    list is read with 10,000 open alarms in the store."""
    from bench.api import BenchError, run

    try:
        run(json_file, cameras, days, clients, seconds, think_ms, workers, live_events, settle_load, settle_max_s,
            wall_users, wall_tiles, walls_only, only)
    except BenchError as exc:
        raise fail(str(exc), ExitCode.DATABASE) from None
