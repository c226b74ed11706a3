"""Sign-in lock-out against a real server on loopback, with clients at different addresses (127.0.0.x):
known and unknown names are answered alike, parallel guesses cannot outrun the count, a guesser at another
address cannot lock the user out, one address is limited over all names, and a wrong current password on a
password change counts like a wrong sign-in."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.api import PASSWORD, ServedApi, serve_uvicorn

MAX_FAILURES = 3  # tests.support.api.make_settings sets api.login_max_failures to 3
USER_ADDR, GUESSER_ADDR = "127.0.0.1", "127.0.0.2"


@contextmanager
def client_at(served: ServedApi, address: str) -> Iterator[httpx.Client]:
    """An HTTP client whose connections leave from ``address`` (any 127.0.0.x reaches the loopback server)."""
    with httpx.Client(base_url=served.base_url, transport=httpx.HTTPTransport(local_address=address),
                      timeout=30) as client:
        yield client


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def audited(served: ServedApi, action: str) -> int:
    return served.harness.conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = %s",
                                       (action,)).fetchone()["n"]


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[ServedApi]:
    with serve_uvicorn(db_url, tmp_path, login_max_failures_per_addr=10) as served:
        yield served


def test_known_and_unknown_names_get_the_same_answers(served: ServedApi) -> None:
    known = served.harness.user("operator")
    with client_at(served, GUESSER_ADDR) as client:
        for _ in range(MAX_FAILURES):
            a, b = sign_in(client, known.username, "wrong-password-1"), sign_in(client, "no-such-user", "wrong-pass-1")
            assert a.status_code == b.status_code == 401 and a.json() == b.json()
        a, b = sign_in(client, known.username, "wrong-password-1"), sign_in(client, "no-such-user", "wrong-pass-1")
    assert a.status_code == b.status_code == 429
    assert a.json()["code"] == b.json()["code"] == "too_many_sign_ins"
    assert int(a.headers["retry-after"]) > 0 and int(b.headers["retry-after"]) > 0


def test_parallel_wrong_sign_ins_check_at_most_the_limit_and_the_right_password_then_waits(served: ServedApi) -> None:
    user = served.harness.user("manager")
    start = threading.Barrier(20)
    statuses: list[int] = []

    def guess() -> None:
        with client_at(served, GUESSER_ADDR) as client:
            client.get("/healthz")  # connected before the race starts
            start.wait(timeout=30)
            statuses.append(sign_in(client, user.username, "wrong-password-1").status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(statuses) == {401: MAX_FAILURES, 429: 20 - MAX_FAILURES}
    assert audited(served, "auth.login_failed") == MAX_FAILURES  # one audit row per password actually checked
    with client_at(served, GUESSER_ADDR) as client:
        assert sign_in(client, user.username, PASSWORD).status_code == 429


def test_a_guesser_at_another_address_cannot_lock_the_user_out(served: ServedApi) -> None:
    user = served.harness.user("operator")
    with client_at(served, GUESSER_ADDR) as guesser:
        for _ in range(MAX_FAILURES):
            assert sign_in(guesser, user.username, "wrong-password-1").status_code == 401
        assert sign_in(guesser, user.username, PASSWORD).status_code == 429
    with client_at(served, USER_ADDR) as own:
        assert sign_in(own, user.username, PASSWORD).status_code == 200


def test_one_address_trying_many_names_is_locked_out_for_every_name(served: ServedApi) -> None:
    user = served.harness.user("engineer")
    with client_at(served, "127.0.0.3") as sprayer:
        for i in range(10):  # login_max_failures_per_addr is 10 here: each name fails only once
            assert sign_in(sprayer, f"guess-{i}", "Password123!").status_code == 401
        refused = sign_in(sprayer, user.username, PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    with client_at(served, USER_ADDR) as own:
        assert sign_in(own, user.username, PASSWORD).status_code == 200


def test_wrong_current_password_is_counted_audited_and_locks_like_a_sign_in(served: ServedApi) -> None:
    user = served.harness.user("operator")
    with client_at(served, GUESSER_ADDR) as stolen_session:
        assert sign_in(stolen_session, user.username, PASSWORD).status_code == 200
        for _ in range(MAX_FAILURES):
            wrong = stolen_session.post("/api/auth/password", json={"current_password": "guess-guess-1",
                                                                    "new_password": "taken-over-account"})
            assert wrong.status_code == 422 and wrong.json()["detail"][0]["code"] == "not_your_password"
        right = stolen_session.post("/api/auth/password", json={"current_password": PASSWORD,
                                                                "new_password": "taken-over-account"})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
        assert sign_in(stolen_session, user.username, PASSWORD).status_code == 429
    assert audited(served, "auth.password_change_failed") == MAX_FAILURES
    with client_at(served, USER_ADDR) as own:
        assert sign_in(own, user.username, PASSWORD).status_code == 200  # the password is unchanged


def test_a_success_clears_the_names_count(served: ServedApi) -> None:
    user = served.harness.user("operator")
    with client_at(served, USER_ADDR) as client:
        for _ in range(2):
            for _ in range(MAX_FAILURES - 1):  # a typo or two, then the right password, again and again
                assert sign_in(client, user.username, "typo-password-1").status_code == 401
            assert sign_in(client, user.username, PASSWORD).status_code == 200
