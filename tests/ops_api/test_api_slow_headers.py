"""A client that never finishes its request head is cut off; everyone else is served as before.

The real API under uvicorn (as `vigil serve` runs it) with ``api.header_timeout_s`` at 1.5 s, attacked over
loopback sockets the way slowloris does: a header trickled a few bytes at a time, or nothing at all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import ServedApi, insert_event, seed_sites, serve_uvicorn

LIMIT_S = 1.5


@pytest.fixture(scope="module")
def served(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    with serve_uvicorn(module_db_url, tmp_path_factory.mktemp("slow"), header_timeout_s=LIMIT_S) as api:
        yield api


def _open(served: ServedApi) -> socket.socket:
    port = int(served.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _seconds_until_closed(sock: socket.socket, trickle: list[bytes], every_s: float = 0.25) -> float:
    """Send ``trickle`` one piece per ``every_s`` (then nothing) until the server closes; the time it took."""
    started = time.monotonic()
    stop = threading.Event()

    def send() -> None:
        for piece in trickle:
            if stop.wait(every_s):
                return
            try:
                sock.sendall(piece)
            except OSError:
                return

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        while True:
            try:
                if sock.recv(4096) == b"":
                    break
            except ConnectionResetError:
                break
            except TimeoutError:
                pytest.fail("the server kept the connection open for 10 s")
    finally:
        stop.set()
        sender.join()
        sock.close()
    return time.monotonic() - started


def test_a_header_trickled_for_ever_is_cut_off_at_the_limit(served: ServedApi) -> None:
    sock = _open(served)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    took = _seconds_until_closed(sock, [b"X-Slow-%d: a\r\n" % i for i in range(200)])
    assert LIMIT_S - 0.2 < took < LIMIT_S + 1.0, f"closed after {took:.2f} s"


def test_a_connection_that_sends_nothing_is_cut_off_at_the_limit(served: ServedApi) -> None:
    took = _seconds_until_closed(_open(served), [])
    assert LIMIT_S - 0.2 < took < LIMIT_S + 1.0, f"closed after {took:.2f} s"


def test_a_slow_second_request_on_a_kept_alive_connection_is_cut_off_too(served: ServedApi) -> None:
    sock = _open(served)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 200"), first
    took = _seconds_until_closed(sock, [b"GET /healthz HTTP/1.1\r\n", *[b"X-Slow: a\r\n"] * 100])
    assert took < LIMIT_S + 1.5, f"closed after {took:.2f} s"


def test_ordinary_requests_and_a_long_stream_still_work(served: ServedApi) -> None:
    api = served.harness
    with httpx.Client(base_url=served.base_url, timeout=10) as client:  # one kept-alive connection
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(LIMIT_S * 0.7)  # idle between requests: the keep-alive timer's business, not the head's
    seeded = seed_sites(api.conn, 1)
    manager = api.user("manager")
    with httpx.stream("GET", f"{served.base_url}/api/events/stream", headers=manager.headers,
                      timeout=10) as response:
        assert response.status_code == 200
        time.sleep(LIMIT_S * 2)  # well past the head limit, the stream stays open and live
        event = insert_event(api.conn, seeded.sites[0], seeded.cameras[0])
        received = next(line for line in response.iter_lines() if line.startswith("data: "))
    assert str(event) in received


def test_a_large_header_sent_at_a_normal_pace_is_served(served: ServedApi) -> None:
    sock = _open(served)
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 6000 + b"\r\nConnection: close\r\n\r\n"
    for i in range(0, len(head), 1000):  # in pieces, as a slow but honest link delivers it
        sock.sendall(head[i:i + 1000])
        time.sleep(0.05)
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200")
