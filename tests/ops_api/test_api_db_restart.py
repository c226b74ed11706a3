"""The API across a PostgreSQL restart: no 503 after it, a fast 503 during it, and back by itself.

A cluster of the test's own is stopped and started under a real uvicorn-served API whose pool holds
several connections, so the restart leaves several dead ones behind.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from store.db import connect
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from tests.support.api import serve_uvicorn
from tests.support.net import free_port


def test_the_api_serves_right_after_a_database_restart_and_fails_fast_while_it_is_down(
        cluster_dir: Path, tmp_path: Path) -> None:
    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    cluster.start()
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
        with serve_uvicorn(cluster.url, tmp_path) as served:
            headers = served.harness.user("operator").headers

            def me() -> httpx.Response:
                return httpx.get(f"{served.base_url}/api/auth/me", headers=headers, timeout=60)

            with ThreadPoolExecutor(8) as parallel:  # the pool grows to several connections
                assert {r.status_code for r in parallel.map(lambda _: me(), range(40))} == {200}

            cluster.stop()
            cluster.start()
            after = [me() for _ in range(10)]
            assert [r.status_code for r in after] == [200] * 10, [r.text for r in after if r.status_code != 200]

            def timed(_: int) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                return me(), time.monotonic() - started

            cluster.stop()
            for _ in range(2):  # the first wave meets the dead connections, the second an empty pool
                with ThreadPoolExecutor(8) as parallel:
                    for down, took in parallel.map(timed, range(8)):
                        assert down.status_code == 503 and down.json()["code"] == "database_unavailable", down.text
                        assert took < 3.0, f"a request took {took:.1f} s to say the database is down"

            cluster.start()
            back = me()
            assert back.status_code == 200, back.text
            assert me().status_code == 200
    finally:
        cluster.stop(mode="immediate")
