"""Playback start through the real API, for ``vigil bench record``: from a person asking for a recorded range
(``GET /api/recordings/{camera}/playlist.m3u8``) to the first bytes of its first segment, as hls.js does before a
picture can show. The API runs as ``vigil serve`` on the benchmark's own database and data folder, in its own
process, started on the first probe (after the measuring window, so it costs the window nothing)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import httpx

from bench.api import _start_api, _token_for_admin

START_TIMEOUT_S = 60.0


class PlaybackApi:
    """``probe(camera_id, start, end)`` -> seconds from the playlist request to the first segment's first bytes.
    ``close()`` stops the API."""

    def __init__(self, database_url: str, folder: Path, port: int) -> None:
        self.database_url, self.folder, self.port = database_url, folder, port
        self.base_url = f"http://127.0.0.1:{port}"
        self._process = None
        self._client: httpx.Client | None = None

    def _start(self) -> httpx.Client:
        if self._client is not None:
            return self._client
        token = _token_for_admin(self.database_url)
        self._process = _start_api(self.database_url, self.folder, self.port, workers=1)
        client = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError(f"the API did not start on port {self.port} within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        self._client = client
        return client

    def probe(self, camera_id: int, start: datetime, end: datetime) -> float:
        client = self._start()
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        started = time.perf_counter()
        playlist = client.get(f"/api/recordings/{camera_id}/playlist.m3u8",
                              params={"start": start.astimezone(UTC).strftime(stamp),
                                      "end": end.astimezone(UTC).strftime(stamp)})
        playlist.raise_for_status()
        first = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
        with client.stream("GET", urljoin(str(playlist.url), first)) as segment:
            segment.raise_for_status()
            next(segment.iter_raw())
            return time.perf_counter() - started

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except Exception:
                self._process.kill()
