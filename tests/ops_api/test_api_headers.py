"""Every answer of the API process carries the security headers (content security policy with
frame-ancestors, nosniff, referrer policy), not only the console's page: JSON, errors of every kind, files,
the OpenAPI pages; and an overflow nobody validated is the client's 422, not the server's 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import ApiHarness, seed_sites

EXPECTED = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY"}


@pytest.fixture(scope="module")
def seeded(module_api: ApiHarness) -> Any:
    return seed_sites(module_api.conn, 1)


def assert_secured(response: Any, where: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name, dict(response.headers))
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, (where, policy)


def test_every_kind_of_answer_carries_the_security_headers(module_api: ApiHarness, seeded: Any) -> None:
    client, admin = module_api.client, module_api.user("admin")
    answers = {
        "JSON": client.get("/api/sites", headers=admin.headers),
        "404": client.get("/api/cameras/987654", headers=admin.headers),
        "404 without a route": client.get("/no/such/page"),
        "422": client.get("/api/events", params={"since": "yesterday"}, headers=admin.headers),
        "401": client.get("/api/sites"),
        "413": client.post("/api/sites", content=b"x" * 3_000_000, headers=admin.headers),
        "static file": client.get("/console/static/js/api.js"),
        "console page": client.get("/console/"),
        "health": client.get("/healthz"),
        "export": client.get("/api/exports/events", headers=admin.headers),
        "OpenAPI page": client.get("/docs"),
    }
    for where, response in answers.items():
        assert_secured(response, where)
    assert [answers[k].status_code for k in ("404", "422", "401", "413", "static file")] == [404, 422, 401, 413, 200]
    assert answers["static file"].headers["content-type"].startswith("text/javascript")
    assert "script-src" not in answers["console page"].headers["content-security-policy"], (
        "the console runs its own script files only (default-src 'self')")
    with client.stream("GET", f"/api/cameras/{seeded.cameras[0]}/preview", params={"fps": 5, "seconds": 1},
                       headers=admin.headers) as stream:
        assert_secured(stream, "MJPEG stream")
        b"".join(stream.iter_bytes())
    assert "https://cdn.jsdelivr.net" in answers["OpenAPI page"].headers["content-security-policy"]
    # hls.js (recordings) needs blob: for the video's media source and its transmuxing worker, and only that.
    console = answers["console page"].headers["content-security-policy"]
    assert "media-src 'self' blob:" in console and "worker-src 'self' blob:" in console
    assert "connect-src 'self';" in console and "unsafe-eval" not in console


def test_a_server_error_and_an_unforeseen_overflow_carry_them_too(module_api: ApiHarness) -> None:
    app = module_api.client.app

    def broken() -> None:
        raise RuntimeError("a bug")

    def overflowing() -> None:
        raise OverflowError("date value out of range")

    app.add_api_route("/test-only/broken", broken)
    app.add_api_route("/test-only/overflow", overflowing)
    failed = module_api.client.get("/test-only/broken")
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error"
    assert_secured(failed, "500")
    overflow = module_api.client.get("/test-only/overflow")
    assert overflow.status_code == 422, overflow.text
    assert overflow.json()["detail"][0]["code"] == "value_out_of_range"
    assert "date value" not in overflow.text
    assert_secured(overflow, "overflow")
