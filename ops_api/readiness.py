"""Waiting for an API process to be ready: what the tests, the API benchmark and operators' scripts share."""

from __future__ import annotations

import time

import httpx


def wait_until_ready(base_url: str, timeout_s: float = 60.0, poll_s: float = 0.2) -> None:
    """Block until ``/readyz`` answers 200 (database reachable, LISTEN connection up); raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll_s)
    raise TimeoutError(f"the API at {base_url} was not ready in {timeout_s:.0f} s")
