"""Behind a TLS proxy: the session cookie is Secure, and only configured proxies may speak for the client.

A real uvicorn-served API on loopback, signed into over a real socket; the proxy headers are sent by the
test as a proxy (or an impostor) would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, serve_uvicorn

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def _sign_in(db_url: str, data_dir: Path, headers: dict[str, str], **api: Any) -> tuple[httpx.Response, str]:
    """Sign in through the served API; the Set-Cookie header and the address the session was recorded from."""
    with serve_uvicorn(db_url, data_dir, **api) as served:
        user = served.harness.user("operator")
        answer = httpx.post(f"{served.base_url}/api/auth/login", headers=headers, timeout=30,
                            json={"username": user.username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        row = served.harness.conn.execute("SELECT remote_addr FROM api_sessions WHERE user_id = %s",
                                          (user.id,)).fetchone()
        return answer, row["remote_addr"]


def _secure(answer: httpx.Response) -> bool:
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("vigil_session="))
    return "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_a_trusted_proxy_saying_https_gets_a_secure_cookie_and_names_the_client(db_url: str,
                                                                                 tmp_path: Path) -> None:
    answer, address = _sign_in(db_url, tmp_path, FORWARDED, trusted_proxies=["127.0.0.1"])
    assert _secure(answer)
    assert address == "203.0.113.7"


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]], ids=["no-proxy-configured", "another-proxy"])
def test_anyone_else_cannot_claim_https_or_another_address(db_url: str, tmp_path: Path, trusted: list[str]) -> None:
    answer, address = _sign_in(db_url, tmp_path, FORWARDED, trusted_proxies=trusted)
    assert not _secure(answer)
    assert address == "127.0.0.1"  # the real peer, not what the header claims


def test_cookie_secure_always_forces_the_flag_and_never_drops_it(db_url: str, tmp_path: Path) -> None:
    forced, _ = _sign_in(db_url, tmp_path / "always", {}, cookie_secure="always")
    assert _secure(forced)
    plain, _ = _sign_in(db_url, tmp_path / "never", FORWARDED, trusted_proxies=["127.0.0.1"], cookie_secure="never")
    assert not _secure(plain)
