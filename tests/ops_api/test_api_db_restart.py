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


def _freeze(cluster: EmbeddedPostgres, signal_number: int) -> None:
    """Stop (SIGSTOP) or resume (SIGCONT) every process of the cluster: a database that hangs (its host paused,
    its storage stalled) keeps its sockets open and its kernel keeps acknowledging, so no TCP timeout fires."""
    import os

    import psutil

    postmaster = psutil.Process(int((cluster.pgdata / "postmaster.pid").read_text().split()[0]))
    for process in [postmaster, *postmaster.children(recursive=True)]:
        os.kill(process.pid, signal_number)


def test_a_hung_database_gets_a_fast_503_too_and_service_comes_back(cluster_dir: Path, tmp_path: Path) -> None:
    import signal

    cluster = EmbeddedPostgres(cluster_dir / "db", port=free_port())
    cluster.start()
    frozen = False
    try:
        with connect(cluster.url) as conn:
            migrate(conn)
        with serve_uvicorn(cluster.url, tmp_path) as served:
            headers = served.harness.user("operator").headers

            def timed(_: int) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                answer = httpx.get(f"{served.base_url}/api/auth/me", headers=headers, timeout=20)
                return answer, time.monotonic() - started

            with ThreadPoolExecutor(4) as parallel:  # several connections in the pool
                assert {r.status_code for r, _ in parallel.map(timed, range(12))} == {200}

            _freeze(cluster, signal.SIGSTOP)
            frozen = True
            with ThreadPoolExecutor(4) as parallel:
                for hung, took in parallel.map(timed, range(8)):
                    assert hung.status_code == 503 and hung.json()["code"] == "database_unavailable", hung.text
                    assert took < 5.0, f"a request took {took:.1f} s to say the database does not answer"
            assert httpx.get(f"{served.base_url}/healthz", timeout=5).status_code == 200

            _freeze(cluster, signal.SIGCONT)
            frozen = False
            deadline = time.monotonic() + 15
            while (back := timed(0)[0]).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert back.status_code == 200, back.text
    finally:
        if frozen:
            _freeze(cluster, signal.SIGCONT)
        cluster.stop(mode="immediate")


def test_a_query_stuck_past_the_statement_timeout_is_stopped_with_a_clear_503(db_url: str, tmp_path: Path) -> None:
    # A query that cannot finish (here: stuck behind a lock another session holds) would hold one of the pool's
    # few connections for as long as it lasted; database.statement_timeout_s has the server stop it, and the
    # request says why, while the rest keeps serving.
    with serve_uvicorn(db_url, tmp_path, database={"statement_timeout_s": 1.0}) as served:
        headers = served.harness.user("operator").headers
        sites = f"{served.base_url}/api/sites"
        assert httpx.get(sites, headers=headers, timeout=30).status_code == 200
        with connect(db_url, autocommit=False) as locker:
            locker.execute("LOCK TABLE sites IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            stuck = httpx.get(sites, headers=headers, timeout=30)
            took = time.monotonic() - started
            assert stuck.status_code == 503, stuck.text
            body = stuck.json()
            assert body["code"] == "query_timeout" and body["params"] == {"timeout_s": 1.0}, body
            assert "1 s" in body["detail"] and "LOCK" not in body["detail"] and "sites" not in body["detail"]
            assert took < 5, f"the stuck request took {took:.1f} s"
            assert httpx.get(f"{served.base_url}/healthz", timeout=10).status_code == 200
            locker.rollback()
        assert httpx.get(sites, headers=headers, timeout=30).status_code == 200  # the pool's connections still work


def test_a_query_an_administrator_cancels_is_answered_as_cancelled_not_as_too_slow(db_url: str,
                                                                                  tmp_path: Path) -> None:
    # The server raises the same error for its statement timeout and for pg_cancel_backend; telling the user
    # to "ask for less" after an administrator stopped a query a second in would send them the wrong way.
    with serve_uvicorn(db_url, tmp_path, database={"statement_timeout_s": 60.0}) as served:
        headers = served.harness.user("operator").headers
        sites = f"{served.base_url}/api/sites"
        with connect(db_url, autocommit=False) as locker, ThreadPoolExecutor(1) as background:
            locker.execute("LOCK TABLE sites IN ACCESS EXCLUSIVE MODE")
            pending = background.submit(httpx.get, sites, headers=headers, timeout=30)
            with connect(db_url) as admin:
                cancelled: list[object] = []
                deadline = time.monotonic() + 10
                while not cancelled and time.monotonic() < deadline:
                    time.sleep(0.05)
                    cancelled = admin.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                                              "WHERE wait_event_type = 'Lock' AND query ILIKE '%sites%'").fetchall()
                assert cancelled, "the request never reached the database"
            answer = pending.result(timeout=30)
            locker.rollback()
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["code"] == "query_cancelled" and "60" not in body["detail"], body
        assert httpx.get(sites, headers=headers, timeout=30).status_code == 200
