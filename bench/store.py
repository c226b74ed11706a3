"""``vigil bench store``: writer ingest, spool flush and console-query latency over a synthetic history.

The history (stated in docs/benchmarks.md): ``sites`` service centers and streets with 10 cameras each,
half the cameras watching one counter each, half a street. Counter cameras report officer_present (on the
staff zone) and queue_length (on the camera's queue zone, as the hall rule writes it) every 30 s from 07:00 to
17:30 local (every 10 s on the last two days, the rules' own rate);
street cameras report zone_count every 60 s around the clock; 20 events per camera per day; 80 citizens
per counter per day; a health sample per camera every 5 minutes. Generated in SQL one day at a time.

The ``live_counter_state`` figure times ``live_counters`` (the API's live view of a center's counters), which
replaced the store's own live query of that name; the name is kept so results stay side by side, but figures
from before the change timed the older, lighter query.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry

from core.settings import StoreSettings
from core.types import Observation
from store.policies import refresh_rollups
from store.queries import (
    EventFilter,
    camera_health_latest,
    counter_daily_audit,
    counter_rollup,
    counter_timeline,
    live_counters,
    observation_rollup,
    search_events,
)
from store.writer import StoreWriter

TZ = "Asia/Ho_Chi_Minh"
CAMERAS_PER_SITE = 10

_SITES = """
INSERT INTO sites (code, name, kind, working_hours)
SELECT CASE WHEN n <= %(half)s THEN 'sc-' ELSE 'st-' END || n, 'Bench site ' || n,
       CASE WHEN n <= %(half)s THEN 'service_center' ELSE 'street' END,
       '{"weekly": {"mon": [["07:30","11:30"],["13:30","17:00"]], "tue": [["07:30","11:30"],["13:30","17:00"]],
         "wed": [["07:30","11:30"],["13:30","17:00"]], "thu": [["07:30","11:30"],["13:30","17:00"]],
         "fri": [["07:30","11:30"],["13:30","17:00"]], "sat": [["07:30","11:30"]]}}'::jsonb
FROM generate_series(1, %(sites)s) n;
INSERT INTO cameras (site_id, name, source_kind) SELECT s.id, 'cam-' || c, 'rtsp'
FROM sites s CROSS JOIN generate_series(1, 10) c;
INSERT INTO zones (camera_id, name, kind, geometry)
SELECT c.id, z.name, z.kind, '[[0,0],[1,0],[1,1]]'::jsonb FROM cameras c JOIN sites s ON s.id = c.site_id
CROSS JOIN LATERAL (VALUES ('officer', 'counter_staff'), ('citizens', 'counter_customer'), ('waiting', 'queue'))
    z(name, kind)
WHERE s.kind = 'service_center'
UNION ALL
SELECT c.id, 'sidewalk', 'crowd', '[[0,0],[1,0],[1,1]]'::jsonb FROM cameras c JOIN sites s ON s.id = c.site_id
WHERE s.kind = 'street';
INSERT INTO counters (site_id, number, department, camera_id, staff_zone_id, customer_zone_id)
SELECT c.site_id, row_number() OVER (PARTITION BY c.site_id ORDER BY c.id), 'Một cửa', c.id, st.id, cu.id
FROM cameras c JOIN zones st ON st.camera_id = c.id AND st.kind = 'counter_staff'
JOIN zones cu ON cu.camera_id = c.id AND cu.kind = 'counter_customer';
"""

# One local day of history; %(day)s is local midnight, %(step)s the counter cameras' sampling interval.
_DAY = """
INSERT INTO observations (time, camera_id, zone_id, metric, value)
SELECT t, k.camera_id, z.zone_id, z.metric,
       CASE WHEN z.metric = 'officer_present'
            THEN CASE WHEN (extract(epoch FROM t)::bigint / 1200 + k.id) %% 9 = 0 THEN 0 ELSE 1 END
            ELSE ((extract(epoch FROM t)::bigint / 60 + k.id) %% 8) END
FROM generate_series(%(day)s::timestamptz + interval '7 hours', %(day)s::timestamptz + interval '17 hours 30 minutes'
                     - interval '1 second', %(step)s::interval) t
CROSS JOIN counters k
JOIN zones q ON q.camera_id = k.camera_id AND q.kind = 'queue'
CROSS JOIN LATERAL (VALUES (k.staff_zone_id, 'officer_present'), (q.id, 'queue_length')) z(zone_id, metric);
INSERT INTO observations (time, camera_id, zone_id, metric, value)
SELECT t, z.camera_id, z.id, 'zone_count', (extract(epoch FROM t)::bigint / 60 + z.camera_id) %% 15
FROM generate_series(%(day)s::timestamptz, %(day)s::timestamptz + interval '1 day' - interval '1 second',
                     interval '60 seconds') t
CROSS JOIN zones z WHERE z.kind = 'crowd';
INSERT INTO events (id, time, end_time, site_id, camera_id, zone_id, counter_id, type, severity, status, attributes)
SELECT gen_random_uuid(), %(day)s::timestamptz + (i * 72 + c.id %% 60) * interval '1 minute',
       %(day)s::timestamptz + (i * 72 + c.id %% 60 + 5) * interval '1 minute', c.site_id, c.id, NULL, k.id,
       CASE WHEN k.id IS NULL THEN (ARRAY['crowd','stopped_vehicle','congestion','wrong_way'])[1 + i %% 4]
            ELSE (ARRAY['officer_absent','long_wait','counter_unattended_with_queue'])[1 + i %% 3] END,
       (ARRAY['low','medium','high'])[1 + i %% 3], CASE WHEN %(last)s AND i %% 2 = 0 THEN 'new' ELSE 'resolved' END,
       jsonb_build_object('people', i)
FROM cameras c LEFT JOIN counters k ON k.camera_id = c.id CROSS JOIN generate_series(0, 19) i;
INSERT INTO counter_sessions (id, time, service_end, counter_id, camera_id, queue_enter)
SELECT gen_random_uuid(), %(day)s::timestamptz + interval '7 hours 30 minutes' + i * interval '7 minutes',
       %(day)s::timestamptz + interval '7 hours 30 minutes' + i * interval '7 minutes'
           + (3 + i %% 5) * interval '1 minute', k.id, k.camera_id,
       %(day)s::timestamptz + interval '7 hours 30 minutes' + i * interval '7 minutes' - (i %% 7) * interval '1 minute'
FROM counters k CROSS JOIN generate_series(0, 79) i;
INSERT INTO camera_health (time, camera_id, state, input_fps, analytics_fps, reconnects)
SELECT t, c.id, 'online', 25, 2, 0
FROM generate_series(%(day)s::timestamptz, %(day)s::timestamptz + interval '1 day' - interval '1 second',
                     interval '5 minutes') t CROSS JOIN cameras c;
"""


def _run_all(conn: psycopg.Connection, script: str, params: dict[str, Any]) -> None:
    """Each statement of a script on its own (server-side parameters allow one statement per execute)."""
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})  # type: ignore[arg-type]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def generate_history(conn: psycopg.Connection, cameras: int, days: int, say: Callable[[str], None]
                     ) -> dict[str, Any]:
    """Fill an empty migrated database; return what was made and how long it took."""
    from zoneinfo import ZoneInfo

    sites = max(2, cameras // CAMERAS_PER_SITE)
    started = time.perf_counter()
    _run_all(conn, _SITES, {"sites": sites, "half": sites // 2})
    today = datetime.now(ZoneInfo(TZ)).replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        step = "10 seconds" if offset <= 2 else "30 seconds"
        _run_all(conn, _DAY, {"day": day, "step": step, "last": offset == 1})
        say(f"history: {day.date()} ({days - offset + 1}/{days})")
    conn.execute("VACUUM ANALYZE")  # what autovacuum does soon after: visibility map, statistics
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    refresh_rollups(conn)
    counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]  # type: ignore[index]
              for t in ("observations", "events", "counter_sessions", "camera_health")}
    return {"sites": sites, "cameras": sites * CAMERAS_PER_SITE, "days": days, "rows": counts,
            "generate_s": generated_s, "rollup_refresh_s": time.perf_counter() - started, "today": today}


def time_queries(conn: psycopg.Connection, today: datetime, days: int, runs: int) -> list[dict[str, Any]]:
    """p50/p95 ms of each console query over ``runs`` varied calls (after two warm-up calls)."""
    rng = random.Random(7)
    centers = [r["id"] for r in conn.execute("SELECT id FROM sites WHERE kind = 'service_center'").fetchall()]
    streets = [r["id"] for r in conn.execute("SELECT id FROM sites WHERE kind = 'street'").fetchall()]
    counters = {s: [r["id"] for r in conn.execute("SELECT id FROM counters WHERE site_id = %s", (s,)).fetchall()]
                for s in centers}
    yesterday = (today - timedelta(days=1)).date()
    month = today - timedelta(days=days)
    first_page = search_events(conn, EventFilter(site_ids=[streets[0]]), limit=50)

    def any_counter() -> int:
        return rng.choice(counters[rng.choice(centers)])

    cases: list[tuple[str, Callable[[], object]]] = [
        ("live_counter_state", lambda: live_counters(conn, None, rng.choice(centers))),
        ("counter_timeline_day", lambda: counter_timeline(conn, any_counter(), yesterday)),
        ("zone_rollup_hourly_site_day", lambda: observation_rollup(
            conn, "hour", today - timedelta(days=1), today, site_ids=[rng.choice(centers + streets)])),
        ("camera_rollup_daily_site_30d", lambda: observation_rollup(
            conn, "day", month, today, per="camera", site_ids=[rng.choice(centers + streets)])),
        ("counter_rollup_hourly_site_day", lambda: counter_rollup(
            conn, counters[rng.choice(centers)], "hour", today - timedelta(days=1), today)),
        ("counter_rollup_daily_site_30d", lambda: counter_rollup(conn, counters[rng.choice(centers)], "day",
                                                                 month, today)),
        ("event_search_site_7d", lambda: search_events(conn, EventFilter(
            since=today - timedelta(days=7), site_ids=[rng.choice(centers + streets)]), limit=50)),
        ("event_search_type_status", lambda: search_events(conn, EventFilter(
            types=[rng.choice(["crowd", "officer_absent", "long_wait"])], statuses=["new"]), limit=50)),
        ("event_search_next_page", lambda: search_events(conn, EventFilter(site_ids=[streets[0]]),
                                                         cursor=first_page.next_cursor, limit=50)),
        ("camera_health_all", lambda: camera_health_latest(conn)),
        ("camera_health_site", lambda: camera_health_latest(conn, [rng.choice(centers + streets)])),
        ("counter_daily_audit", lambda: counter_daily_audit(conn, any_counter(), yesterday)),
    ]
    results = []
    for name, call in cases:
        for _ in range(2):
            call()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        results.append({"query": name, "p50_ms": percentile(timings, 0.5), "p95_ms": percentile(timings, 0.95),
                        "max_ms": max(timings), "runs": runs})
    return results


def _bench_rows(camera_ids: list[int], count: int, metric: str, base: datetime) -> list[list[Observation]]:
    chunks, chunk = [], []
    for i in range(count):
        chunk.append(Observation(base + timedelta(milliseconds=10 * (i // len(camera_ids))),
                                 camera_ids[i % len(camera_ids)], metric, float(i % 13)))
        if len(chunk) == 1000:
            chunks.append(chunk)
            chunk = []
    return chunks + ([chunk] if chunk else [])


def cluster_cpu_s(pgdata: Path) -> float:
    """CPU seconds (user + system) used so far by the cluster's postmaster and its children."""
    import os

    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = (Path("/proc") / entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def time_ingest(url: str, settings: StoreSettings, camera_ids: list[int], rows: int, threads: int,
                spool_dir: Path, pgdata: Path) -> dict[str, float]:
    """Observations through the writer (write_observations to committed) with ``threads`` threads: rows per
    wall second, and rows per CPU second of writer process + database (a figure the machine's load moves less)."""
    run = int(time.time())  # a kept history is measured again: new series each run, no duplicates
    chunks = _bench_rows(camera_ids, rows, f"bench_ingest_{threads}_{run}", datetime.now(UTC) + timedelta(days=1))
    with StoreWriter(url, settings, spool_dir, registry=CollectorRegistry(), threads=threads,
                     maintenance=False) as writer:
        started, client, server = time.perf_counter(), time.process_time(), cluster_cpu_s(pgdata)
        for chunk in chunks:
            writer.wait_for_room()
            writer.write_observations(chunk)
        if not writer.flush(600):
            raise RuntimeError(f"ingest did not finish: {writer.stats()}")
        elapsed = time.perf_counter() - started
        client = time.process_time() - client
        server = cluster_cpu_s(pgdata) - server
        if writer.stats().rows_spooled:
            raise RuntimeError("ingest spilled to the spool; the figure would not be the plain path")
    return {"rows_per_s": rows / elapsed, "rows_per_cpu_s": rows / (client + server),
            "writer_cpu_s": client, "database_cpu_s": server}


def time_spool(url: str, settings: StoreSettings, camera_ids: list[int], rows: int, spool_dir: Path,
               dead_url: str) -> tuple[float, float]:
    """(rows/s written to the spool while the database is down, rows/s replayed when it is back)."""
    chunks = _bench_rows(camera_ids, rows, f"bench_spool_{int(time.time())}", datetime.now(UTC) + timedelta(days=2))
    with StoreWriter(dead_url, settings, spool_dir, registry=CollectorRegistry(), maintenance=False,
                     connect_timeout_s=1) as offline:
        started = time.perf_counter()
        for chunk in chunks:
            offline.wait_for_room()
            offline.write_observations(chunk)
        offline._drain(600, while_database_down=False)
        spooled_s = time.perf_counter() - started
    started = time.perf_counter()
    with StoreWriter(url, settings, spool_dir, registry=CollectorRegistry(), maintenance=False) as writer:
        if not writer.flush(600):
            raise RuntimeError(f"spool replay did not finish: {writer.stats()}")
        replayed = writer.stats().rows_replayed
    return rows / spooled_s, replayed / (time.perf_counter() - started)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for the private cluster and an address nobody answers)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scratch_dir(keep: Path | None = None) -> Path:
    """``keep`` (created) or a new temporary folder; the cluster runs as 'postgres', so it must reach it."""
    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-store-")) if keep is None else keep.absolute()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    return folder


def load_or_generate_history(conn: psycopg.Connection, folder: Path, cameras: int, days: int,
                             say: Callable[[str], None]) -> dict[str, Any]:
    """The history already in a kept folder (same size asked), else a new one, described in history.json."""
    import json

    described = folder / "history.json"
    if described.exists():
        history = json.loads(described.read_text())
        if (history["cameras"], history["days"]) == (cameras, days):
            say(f"reusing the history in {folder}")
            history["today"] = datetime.fromisoformat(history["today"])
            return history
        raise RuntimeError(f"{folder} holds {history['days']} days x {history['cameras']} cameras; "
                           "give another --keep folder")
    say(f"generating {days} days x {cameras} cameras of history ...")
    history = generate_history(conn, cameras, days, say)
    described.write_text(json.dumps(history, default=str))
    return history


def summarize(ingest: dict[int, dict[str, float]], spool: tuple[float, float], history: dict[str, Any],
              queries: list[dict[str, Any]]) -> dict[str, Any]:
    import os

    worst = max(queries, key=lambda q: q["p95_ms"])
    return {
        "ingest_rows_per_s_1_thread": ingest[1]["rows_per_s"], "ingest_rows_per_s_2_threads": ingest[2]["rows_per_s"],
        "ingest_rows_per_cpu_s_1_thread": ingest[1]["rows_per_cpu_s"],
        "ingest_rows_per_cpu_s_2_threads": ingest[2]["rows_per_cpu_s"],
        "ingest_database_cpu_share": ingest[1]["database_cpu_s"]
        / (ingest[1]["database_cpu_s"] + ingest[1]["writer_cpu_s"]),
        "spool_write_rows_per_s": spool[0], "spool_flush_rows_per_s": spool[1],
        "history_rows": sum(history["rows"].values()), "history_generate_s": history["generate_s"],
        "rollup_refresh_s": history["rollup_refresh_s"],
        "query_p95_ms_worst": worst["p95_ms"], "query_worst": worst["query"],
        "goal_ingest_100k_met": max(i["rows_per_s"] for i in ingest.values()) >= 100_000,
        "goal_query_p95_100ms_met": worst["p95_ms"] < 100,
        "query_p50_median_ms": statistics.median(q["p50_ms"] for q in queries),
        "load_average_1min_at_end": os.getloadavg()[0],
    }
