"""``vigil bench store``: writer ingest (1 and 2 threads), spool flush, and console-query latency over a
synthetic history, on a private PostgreSQL cluster started for the run (nothing else is touched)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail, state


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("store")(bench_store)


def bench_store(
    ctx: typer.Context,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    cameras: Annotated[int, typer.Option("--cameras", min=20, help="Cameras in the synthetic city.")] = 200,
    days: Annotated[int, typer.Option("--days", min=3, help="Days of synthetic history.")] = 30,
    ingest_rows: Annotated[int, typer.Option("--ingest-rows", min=10_000,
                                             help="Observations per ingest figure.")] = 1_000_000,
    spool_rows: Annotated[int, typer.Option("--spool-rows", min=10_000, help="Observations spooled.")] = 300_000,
    runs: Annotated[int, typer.Option("--runs", min=5, help="Timed calls per console query.")] = 40,
    keep: Annotated[Path | None, typer.Option("--keep", help="Keep the cluster and its history in this folder; "
                                              "a later run with the same folder measures again without "
                                              "regenerating.")] = None,
) -> None:
    """Goals on a 2-core machine: ingest >= 100,000 rows/s, every console query p95 < 100 ms."""
    settings = state(ctx).settings()
    import os

    from psycopg.rows import dict_row

    from bench.report import report
    from bench.store import (
        free_port,
        load_or_generate_history,
        scratch_dir,
        summarize,
        time_ingest,
        time_queries,
        time_spool,
    )
    from store.db import connect
    from store.embedded import EmbeddedPostgres, EmbeddedPostgresError
    from store.migrate import migrate

    say = lambda line: typer.echo(line, err=True)  # noqa: E731
    load_at_start = os.getloadavg()[0]
    folder = scratch_dir(keep)
    cluster = EmbeddedPostgres(folder / "db", port=free_port())
    try:
        cluster.start()
    except EmbeddedPostgresError as exc:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        raise fail(str(exc), ExitCode.DATABASE) from None
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
            history = load_or_generate_history(conn, folder, cameras, days, say)
            say(f"history: {history['rows']} in {history['generate_s']:.0f} s; "
                f"rollups {history['rollup_refresh_s']:.1f} s")
        with connect(cluster.url) as conn:  # a new session, as the API's would be (database-level settings)
            say(f"console queries: {runs} timed calls each ...")
            queries = time_queries(conn, history["today"], days, runs)
            camera_ids = [r["id"] for r in conn.cursor(row_factory=dict_row).execute("SELECT id FROM cameras")]
        store = settings.store
        ingest = {}
        for threads in (1, 2):
            say(f"ingest: {ingest_rows} observations, {threads} writer thread(s) ...")
            ingest[threads] = time_ingest(cluster.url, store, camera_ids, ingest_rows, threads,
                                          folder / f"spool-ingest-{threads}", cluster.pgdata)
        say(f"spool: {spool_rows} observations with the database unreachable, then replayed ...")
        dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
        spool = time_spool(cluster.url, store, camera_ids, spool_rows, folder / "spool", dead)
    finally:
        cluster.stop(mode="fast" if keep else "immediate")
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    rows = [{"figure": f"ingest_rows_per_s ({t} thread{'s' if t > 1 else ''})", "value": v["rows_per_s"]}
            for t, v in ingest.items()]
    rows += [{"figure": f"ingest_rows_per_cpu_s ({t} thread{'s' if t > 1 else ''})", "value": v["rows_per_cpu_s"]}
             for t, v in ingest.items()]
    rows += [{"figure": "spool_write_rows_per_s", "value": spool[0]},
             {"figure": "spool_flush_rows_per_s", "value": spool[1]}]
    rows += [{"figure": f"{q['query']} p50/p95 ms", "value": f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f}"}
             for q in queries]
    summary = summarize(ingest, spool, history, queries)
    summary["load_average_1min_at_start"] = load_at_start
    summary.update({f"{q['query']}_p50_ms": q["p50_ms"] for q in queries})
    summary.update({f"{q['query']}_p95_ms": q["p95_ms"] for q in queries})
    notes = [f"history: {history['cameras']} cameras at {history['sites']} sites, {days} days: {history['rows']}",
             "rates: counters every 30 s 07:00-17:30 (10 s on the last 2 days), streets every 60 s, "
             "20 events/camera/day, 80 citizens/counter/day, health every 5 min",
             f"writer: batch {store.writer_batch_rows} rows, queue {store.writer_queue_max} rows, plain PostgreSQL"]
    report("store", rows, summary, json_file, columns=["figure", "value"], notes=notes)
