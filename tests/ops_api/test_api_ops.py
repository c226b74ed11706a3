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
    from core.settings import Settings

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
    text = api.client.get("/metrics", headers=api.user("admin").headers).text
    assert 'vigil_api_request_seconds_count{method="GET",route="/api/events/{event_id}",status="200"} 1.0' in text
    assert 'vigil_events_last_24h{type="wrong_way"} 1.0' in text
    assert 'vigil_cameras{state="online"} 1.0' in text


def test_two_apps_in_one_process_keep_their_own_metrics(db_url: str, tmp_path: Path) -> None:
    with serve_in_process(db_url, tmp_path / "a") as one, serve_in_process(db_url, tmp_path / "b") as two:
        admin = one.user("admin").headers
        one.client.get("/healthz")
        assert 'route="/healthz"' in one.client.get("/metrics", headers=admin).text
        assert 'route="/healthz"' not in two.client.get("/metrics", headers=admin).text


METRICS_TOKEN = "prometheus-scrape-7f3a9c41d2"


def test_metrics_need_an_admin_of_every_site_or_the_metrics_token(db_url: str, tmp_path: Path) -> None:
    with serve_in_process(db_url, tmp_path, metrics_token=METRICS_TOKEN) as api:
        site = seed_sites(api.conn, 1).sites[0]
        get = lambda headers: api.client.get("/metrics", headers=headers)  # noqa: E731
        bearer = lambda secret: {"Authorization": f"Bearer {secret}"}  # noqa: E731
        assert get({}).status_code == 401
        assert get(bearer(METRICS_TOKEN[:-1])).status_code == 401
        assert get(bearer(METRICS_TOKEN + "0")).status_code == 401
        for role in ("operator", "manager", "engineer"):
            refused = get(api.user(role).headers)
            assert refused.status_code == 403 and refused.json()["code"] == "role_not_permitted"
        assert get(api.user("admin", site_ids=[site]).headers).status_code == 403
        for allowed in (bearer(METRICS_TOKEN), api.user("admin").headers):
            answer = get(allowed)
            assert answer.status_code == 200 and "vigil_api_request_seconds" in answer.text
        assert api.client.get("/healthz").status_code == 200 and api.client.get("/readyz").status_code == 200


def test_without_a_metrics_token_setting_no_bearer_reads_metrics(api: ApiHarness) -> None:
    assert api.client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert api.client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 401


def test_the_metrics_token_reads_metrics_while_the_database_is_down(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from core.settings import Settings
    from ops_api.app import create_app
    from tests.support.net import free_port

    settings = Settings(data_dir=tmp_path, database={"connect_timeout_s": 0.5}, api={"metrics_token": METRICS_TOKEN})
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with TestClient(create_app(settings, url, live=False), raise_server_exceptions=False) as client:
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "vigil_api_request_seconds" in scraped.text
