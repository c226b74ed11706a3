"""``vigil bench api``: Operations API latency and throughput under 50 concurrent clients, live-event
latency from the store's insert to a WebSocket client, and the console-walls run (20 users each holding
12 camera previews and the alarms stream open while the paced readers and sign-ins run; ``bench.api_walls``),
over 30 days x 200 cameras of synthetic history (bench.store's generator) and 10,000 open alarms on a private
PostgreSQL cluster.
The API runs as ``vigil serve`` in its own process(es); the load generator is another process on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

GOAL_P95_MS = 100.0
GOAL_LIVE_P95_MS = 500.0
OPEN_ALARMS = 10_000

# Open alarms made from the history's events that raised none (the trigger raises alarms only for events stored
# within a day of their start): every priority, the three open states, counts as floods have them; the new ones
# escalated long ago (first in the list), so the alarm clock has nothing to do during the runs.
_MORE_ALARMS = """
INSERT INTO alarms (site_id, camera_id, zone_id, counter_id, type, severity, priority, status, assignee_id,
                    event_count, first_event_id, first_time, last_event_id, last_time, raised_at, escalated_at)
SELECT e.site_id, e.camera_id, e.zone_id, e.counter_id, e.type, e.severity, 1 + n %% 5,
       (ARRAY['new', 'acknowledged', 'assigned'])[1 + n %% 3], NULL, 1 + n %% 4, e.id, e.time, e.id, e.time, e.time,
       CASE WHEN n %% 3 = 0 THEN e.time + interval '5 minutes' END
FROM (SELECT ev.*, row_number() OVER (ORDER BY ev.time DESC) AS n FROM events ev
      WHERE NOT EXISTS (SELECT 1 FROM alarm_events ae WHERE ae.event_id = ev.id)
      ORDER BY ev.time DESC LIMIT %(missing)s) e
"""


def prepare_alarms(url: str, wanted: int) -> dict[str, int]:
    """``wanted`` open alarms in the store (those the history raised, and more), none waiting for the clock."""
    from store.db import connect

    with connect(url) as conn:
        conn.execute("UPDATE alarms SET escalated_at = raised_at WHERE status = 'new' AND escalated_at IS NULL")
        have = conn.execute("SELECT count(*) AS n FROM alarms WHERE status <> 'resolved'").fetchone()["n"]
        conn.execute(_MORE_ALARMS, {"missing": max(0, wanted - have)})
        conn.execute("ANALYZE alarms")
        counts = conn.execute("SELECT count(*) FILTER (WHERE status <> 'resolved') AS open, count(*) FILTER"
                              " (WHERE urgent) AS urgent, count(*) AS total FROM alarms").fetchone()
    return {"open_alarms": counts["open"], "escalated_unacknowledged": counts["urgent"], "alarms": counts["total"]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# -- the load generator (a separate process) ---------------------------------------------------------------
def _load_process(base_url: str, token: str, paths: list[str], clients: int, seconds: float, think_s: float,
                  out: Any) -> None:
    out.put(asyncio.run(_load(base_url, token, paths, clients, seconds, think_s)))


async def _load(base_url: str, token: str, paths: list[str], clients: int, seconds: float,
                think_s: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as client:
        for path in paths[:3]:  # warm-up: connections, caches, plans
            await client.get(path)
        end = time.perf_counter() + seconds
        rng = random.Random(11)

        async def one_client() -> None:
            if think_s:
                await asyncio.sleep(rng.random() * think_s)  # spread the first requests
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    response = await client.get(rng.choice(paths))
                    if response.status_code != 200:
                        errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)
                if think_s:
                    await asyncio.sleep(max(0.0, think_s - (time.perf_counter() - started)))

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {"latencies": latencies, "errors": errors, "elapsed_s": elapsed}


def server_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the API server and its worker processes."""
    import psutil

    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total
    except psutil.Error:
        return float("nan")


def settle(server_pid: int, say: Any, max_wait_s: float, load_target: float, idle_share: float = 0.05,
           sample_s: float = 2.0) -> dict[str, Any]:
    """Wait, at most ``max_wait_s``, until the API processes use at most ``idle_share`` of a core (their backlog
    from the previous run is worked off) and the 1-minute load average is at most ``load_target``; say what it
    waits for. Returns the load average it starts the next run at, how long it waited, and whether it settled."""
    started = time.monotonic()
    said = -1e9
    while True:
        cpu_before = server_cpu_s(server_pid)
        time.sleep(sample_s)
        api_share = (server_cpu_s(server_pid) - cpu_before) / sample_s
        load = os.getloadavg()[0]
        waited = time.monotonic() - started
        if api_share <= idle_share and load <= load_target:
            return {"loadavg_1m_before": load, "settle_s": waited, "settled": True}
        if waited >= max_wait_s:
            say(f"  not settled after {waited:.0f} s (API processes {api_share:.0%} of a core, 1-min load "
                f"{load:.2f}); measuring anyway")
            return {"loadavg_1m_before": load, "settle_s": waited, "settled": False}
        if waited - said >= 15:
            say(f"  settling: API processes at {api_share:.0%} of a core (want <= {idle_share:.0%}), 1-min load "
                f"{load:.2f} (want <= {load_target:.2f}), waited {waited:.0f} s of at most {max_wait_s:.0f} s")
            said = waited


def run_load(base_url: str, token: str, paths: list[str], clients: int, seconds: float,
             think_s: float, server_pid: int) -> dict[str, Any]:
    cpu_before = server_cpu_s(server_pid)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_load_process, args=(base_url, token, paths, clients, seconds, think_s, out))
    process.start()
    result = out.get(timeout=seconds + 120)
    process.join(timeout=30)
    lat = result["latencies"]
    cpu_ms = (server_cpu_s(server_pid) - cpu_before) * 1000 / max(1, len(lat) + 3)
    return {"requests": len(lat), "rps": len(lat) / result["elapsed_s"], "p50_ms": pct(lat, 0.5), "cpu_ms": cpu_ms,
            "p95_ms": pct(lat, 0.95), "max_ms": max(lat) if lat else float("nan"), "errors": result["errors"]}


# -- live events -----------------------------------------------------------------------------------------
def live_latency(base_url: str, token: str, url: str, site_id: int, camera_id: int, count: int,
                 rate_per_s: float) -> dict[str, Any]:
    """Insert ``count`` events at ``rate_per_s``; the time from each INSERT's start to its WebSocket arrival."""
    from websockets.sync.client import connect as ws_connect

    from store.db import connect

    sent: dict[str, float] = {}
    got: list[float] = []
    with connect(url) as conn, ws_connect(f"{base_url.replace('http', 'ws')}/api/events/live?token={token}") as ws:
        time.sleep(0.5)  # the socket is subscribed

        def producer() -> None:
            for _ in range(count):
                event_id = str(uuid.uuid4())
                sent[event_id] = time.time()
                conn.execute("INSERT INTO events (id, time, site_id, camera_id, type, severity) VALUES"
                             " (%s, now(), %s, %s, 'intrusion', 'high')", (event_id, site_id, camera_id))
                time.sleep(1 / rate_per_s)

        thread = threading.Thread(target=producer, daemon=True)
        thread.start()
        deadline = time.time() + count / rate_per_s + 15
        while len(got) < count and time.time() < deadline:
            try:
                message = json.loads(ws.recv(timeout=max(0.1, deadline - time.time())))
            except TimeoutError:
                break
            if message.get("op") == "insert" and message["event"]["id"] in sent:
                got.append((time.time() - sent[message["event"]["id"]]) * 1000)
        thread.join(timeout=5)
    return {"events": count, "received": len(got), "p50_ms": pct(got, 0.5), "p95_ms": pct(got, 0.95),
            "max_ms": max(got) if got else float("nan")}


# -- arranging -------------------------------------------------------------------------------------------
def _token_for_admin(url: str) -> str:
    from ops_api.accounts import create_user
    from ops_api.security import TOKEN_PREFIX, new_token, token_hash
    from store.db import connect

    with connect(url) as conn:
        user = create_user(conn, "bench-admin", "bench-admin-password", "admin", actor_name="bench")
        token = new_token(TOKEN_PREFIX)
        conn.execute("INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES (%s, 'bench', %s, %s)",
                     (user["id"], token_hash(token), token[:10]))
    return token


def _paths(url: str, today: date, days: int) -> dict[str, list[str]]:
    from store.db import connect

    rng = random.Random(5)
    with connect(url) as conn:
        centers = [r["id"] for r in conn.execute("SELECT id FROM sites WHERE kind = 'service_center'")]
        sites = [r["id"] for r in conn.execute("SELECT id FROM sites")]
        counters = [r["id"] for r in conn.execute("SELECT id FROM counters")]
        types = [r["type"] for r in conn.execute("SELECT DISTINCT type FROM events")]
    day = lambda: (today - timedelta(days=rng.randint(1, days))).isoformat()  # noqa: E731
    events = ["/api/events?limit=50"] + [f"/api/events?limit=50&site_id={rng.choice(sites)}" for _ in range(40)]
    events += [f"/api/events?limit=50&type={rng.choice(types)}&site_id={rng.choice(sites)}" for _ in range(20)]
    # The operators' alarm list: most unfiltered (their whole room's), the others by site, priority or type.
    alarms = ["/api/alarms?limit=50"] * 30 + [f"/api/alarms?limit=50&site_id={rng.choice(sites)}" for _ in range(20)]
    alarms += [f"/api/alarms?limit=50&priority={rng.randint(1, 5)}" for _ in range(5)]
    alarms += [f"/api/alarms?limit=50&type={rng.choice(types)}&site_id={rng.choice(sites)}" for _ in range(5)]
    return {
        "event list": events,
        f"alarm list ({OPEN_ALARMS:,} open alarms)": alarms,
        "counter audit (one counter, one day)": [f"/api/counters/{rng.choice(counters)}/audit?day={day()}"
                                                  for _ in range(60)],
        "counter audit (a site's counters, one day)": [f"/api/sites/{rng.choice(centers)}/counter-audit?day={day()}"
                                                        for _ in range(60)],
        "live counter state (a site)": [f"/api/counters/live?site_id={rng.choice(centers)}" for _ in range(60)],
    }


def _start_api(url: str, folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "VIGIL_DATA_DIR": str(folder / "data"),
           "VIGIL_API__PORT": str(port), "VIGIL_LOG_LEVEL": "WARNING",
           "VIGIL_DATABASE__POOL_SIZE": "16"}
    vigil = Path(sys.executable).parent / "vigil"
    return subprocess.Popen([str(vigil), "serve", "--workers", str(workers)], env=env, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class BenchError(RuntimeError):
    """The benchmark could not run (its database did not start); the message says why."""


def run(json_file: Path | None = None, cameras: int = 200, days: int = 30, clients: int = 50, seconds: float = 20,
        think_ms: float = 1000, workers: int = 2, live_events: int = 200, settle_load: float = 1.0,
        settle_max_s: float = 240, wall_users: int = 20, wall_tiles: int = 12, walls_only: bool = False,
        only: str | None = None) -> None:
    """Goals on this machine: reads p95 < 100 ms (the alarm list with 10,000 open alarms included); live event
    p95 < 500 ms from the store's insert; with 20 console walls open (260 streams) sign-in and reads p95 < 100 ms
    and no 503. ``only``: just the endpoints whose name contains it (no live-event run, no walls)."""
    from bench.api_walls import prepare_walls, run_walls
    from bench.report import report
    from bench.store import free_port, generate_history, scratch_dir
    from store.db import connect
    from store.embedded import EmbeddedPostgres, EmbeddedPostgresError
    from store.migrate import migrate

    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still removes its cluster
    folder = scratch_dir()
    cluster = EmbeddedPostgres(folder / "db", port=free_port())
    api = None
    rows: list[dict[str, Any]] = []
    try:
        try:
            cluster.start()
        except EmbeddedPostgresError as exc:
            raise BenchError(str(exc)) from None
        url = cluster.url
        with connect(url) as conn:
            migrate(conn)
            say(f"generating {days} days x {cameras} cameras of history ...")
            history = generate_history(conn, cameras, days, lambda _line: None)
            site_id, camera_id = conn.execute("SELECT site_id, id FROM cameras ORDER BY id LIMIT 1").fetchone().values()
        say(f"history: {history['rows']} in {history['generate_s']:.0f} s")
        history["alarms"] = prepare_alarms(url, OPEN_ALARMS)
        say(f"alarms: {history['alarms']}")
        if only:
            wall_users = 0
        token = _token_for_admin(url)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        walls = prepare_walls(url, folder / "data", wall_users, wall_tiles) if wall_users else None
        api = _start_api(url, folder, port, workers)
        from ops_api.readiness import wait_until_ready

        wait_until_ready(base_url)
        all_paths = _paths(url, history["today"].date(), days)
        chosen = {n: p for n, p in all_paths.items() if not only or only in n}
        for name, paths in ({} if walls_only else chosen).items():
            for mode, think in (("paced", think_ms / 1000), ("saturated", 0.0)):
                calm = settle(api.pid, say, settle_max_s, settle_load)
                say(f"{name}: {clients} clients, {mode}, 1-min load {calm['loadavg_1m_before']:.2f} ...")
                result = run_load(base_url, token, paths, clients, seconds, think, api.pid)
                rows.append({"endpoint": name, "load": mode, "requests": result["requests"], "rps": result["rps"],
                             "p50_ms": result["p50_ms"], "p95_ms": result["p95_ms"], "max_ms": result["max_ms"],
                             "errors": sum(result["errors"].values()), "api_cpu_ms": result["cpu_ms"], **calm,
                             "loadavg_1m": os.getloadavg()[0]})
        if not walls_only and not only:
            calm = settle(api.pid, say, settle_max_s, settle_load)
            say(f"live events: {live_events} inserts at 20/s, 1-min load {calm['loadavg_1m_before']:.2f} ...")
            live = live_latency(base_url, token, url, site_id, camera_id, live_events, 20.0)
            rows.append({"endpoint": "live event: insert -> WebSocket", "load": "idle",
                         "requests": live["received"], "rps": None, "p50_ms": live["p50_ms"],
                         "p95_ms": live["p95_ms"], "max_ms": live["max_ms"],
                         "errors": live["events"] - live["received"], **calm, "loadavg_1m": os.getloadavg()[0]})
        if walls is not None:
            calm = settle(api.pid, say, settle_max_s, settle_load)
            streams = wall_users * (wall_tiles + 1)
            say(f"console walls: {wall_users} users x ({wall_tiles} previews + alarms) = {streams} streams, "
                f"{clients} paced readers, {seconds:.0f} s without, {seconds:.0f} s with, {seconds / 2:.0f} s streams "
                f"alone, 1-min load {calm['loadavg_1m_before']:.2f} ...")
            mixed = [path for paths in all_paths.values() for path in paths]
            wall_rows, wall_summary = run_walls(base_url, token, mixed, clients, think_ms / 1000, walls, seconds,
                                                api.pid, url)
            rows += [{**row, "settle_s": calm["settle_s"], "settled": calm["settled"]} for row in wall_rows]
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(timeout=15)
            except subprocess.TimeoutExpired:
                api.kill()
        cluster.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)
    summary: dict[str, Any] = {
        "history": {k: v for k, v in history.items() if k != "today"},
        "clients": clients, "api_workers": workers, "think_ms": think_ms, "seconds_per_run": seconds,
        "settle_load": settle_load, "settle_max_s": settle_max_s,
        "all_runs_settled": all(r.get("settled", True) for r in rows),
    }
    if not walls_only:
        paced = [r for r in rows if r["load"] == "paced"]
        summary.update({
            "paced_worst_p95_ms": max(r["p95_ms"] for r in paced),
            "paced_reads_goal_met": all(r["p95_ms"] < GOAL_P95_MS for r in paced),
            "saturated_worst_p95_ms": max(r["p95_ms"] for r in rows if r["load"] == "saturated")})
    if not walls_only and not only:
        summary.update({"live_p95_ms": live["p95_ms"], "live_goal_met": live["p95_ms"] < GOAL_LIVE_P95_MS})
    if walls is not None:
        summary.update(wall_summary)
        summary["walls_reads_goal_met"] = wall_summary["walls_reads_p95_ms"]["with"] < GOAL_P95_MS
        summary["walls_sign_in_goal_met"] = wall_summary["walls_sign_in_p95_ms"]["with"] < GOAL_P95_MS
        summary["walls_no_503"] = wall_summary["walls_503"] == 0
    notes = [f"paced: each of {clients} clients sends one request every {think_ms:.0f} ms (a busy console room); "
             f"saturated: no pause between requests (the most requests/s the API gives on this machine)",
             "the load generator runs in its own process on the same 2 cores, so saturated figures include it",
             "live latency: from the start of the INSERT to the WebSocket message in the client, idle API",
             f"alarm list: {OPEN_ALARMS:,} open alarms in the store (those the history's last day raised and more "
             "made from older events: every priority, new/acknowledged/assigned, a third escalated); 30 of 60 "
             "paths unfiltered, 20 by site, 5 by priority, 5 by type and site",
             "api_cpu_ms: CPU time the API processes spent per request (contention on the machine barely moves it)",
             "loadavg_1m_before / loadavg_1m: the machine's 1-minute load average when each run started (after "
             f"waiting up to {settle_max_s:.0f} s for the API to go idle and the load to fall to {settle_load:.2f}; "
             "settle_s: how long that took) and after it (2 cores: above 2 means other work competed for the CPU)",
             "walls: each console user signs in, opens the alarms (SSE) and one preview per tile at 2 pictures/s "
             "(the wall page); pictures are the worker's live pictures rewritten every 0.5 s; one event a second "
             "is inserted for the alarms; sign-in: one console sign-in a second (argon2id); API CPU per second is "
             "sampled at the start and end of each phase of the same run (without streams, with streams, streams "
             "alone), so walls_streams_cpu_per_s = with - without"]
    report("api", rows, summary, json_file,
           columns=["endpoint", "load", "requests", "rps", "p50_ms", "p95_ms", "max_ms", "errors", "api_cpu_ms",
                    "loadavg_1m_before", "settle_s", "loadavg_1m"],
           notes=notes)
