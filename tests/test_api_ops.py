"""Operations endpoints: liveness, readiness (database and the process's workers), Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

from tests.support.api import ApiHarness, insert_event, seed_sites, serve_in_process


def test_readiness_reports_database_and_workers(api: ApiHarness) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] | {"vision_workers": 0} == {"database": "ok", "live_events": "ok",
                                                              "outbound": "ok", "vision_workers": 0}


def test_the_api_starts_without_its_database_and_says_it_is_not_ready(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ops_api.app import create_app
    from tests.support.net import free_port

    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=1"
    from vigil.settings import Settings

    settings = Settings(data_dir=tmp_path, database={"connect_timeout_s": 0.5})
    with TestClient(create_app(settings, url, live=False), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
        assert client.get("/healthz").status_code == 200
        signed_in = client.get("/api/auth/me", headers={"Authorization": "Bearer vgt_x"})
        assert signed_in.status_code == 503 and "unavailable" in signed_in.json()["detail"]


def test_metrics_expose_request_latency_events_by_type_and_camera_states(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="wrong_way")
    operator = api.user("operator")
    api.client.get(f"/api/events/{seeded.events[0]}", headers=operator.headers)
    text = api.client.get("/metrics").text
    assert 'vigil_api_request_seconds_count{method="GET",route="/api/events/{event_id}",status="200"} 1.0' in text
    assert 'vigil_events_last_24h{type="wrong_way"} 1.0' in text
    assert 'vigil_cameras{state="online"} 1.0' in text


def test_two_apps_in_one_process_keep_their_own_metrics(db_url: str, tmp_path: Path) -> None:
    with serve_in_process(db_url, tmp_path / "a") as one, serve_in_process(db_url, tmp_path / "b") as two:
        one.client.get("/healthz")
        assert 'route="/healthz"' in one.client.get("/metrics").text
        assert 'route="/healthz"' not in two.client.get("/metrics").text
