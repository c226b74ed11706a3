"""The wall's pictures on one connection (``/api/pictures/stream``): a browser keeps six connections per server,
and a wall of MJPEG tiles took them all, so the console's other requests waited minutes. One response carries
every camera's picture, each only when it changed, within the user's sites. A real uvicorn server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.ops_api.test_api_streams import write_live_picture
from tests.support.api import seed_sites, serve_uvicorn


def feed_frames(response: httpx.Response) -> Iterator[tuple[int, int, bytes]]:
    """(camera id, status, JPEG) per frame of the stream: ``<id> <status> <length>\\n`` + bytes."""
    buffer = b""
    for chunk in response.iter_bytes():
        buffer += chunk
        while b"\n" in buffer:
            head, rest = buffer.split(b"\n", 1)
            camera, status, length = (int(x) for x in head.split())
            if len(rest) < length:
                break
            yield camera, status, rest[:length]
            buffer = rest[length:]


def test_one_stream_carries_each_cameras_new_pictures_and_only_the_users_cameras(db_url: str,
                                                                                   tmp_path: Path) -> None:
    with serve_uvicorn(db_url, tmp_path) as served:
        api = served.harness
        seeded = seed_sites(api.conn, 3)
        a, b, other = seeded.cameras
        pictures = {camera: write_live_picture(tmp_path, camera, f"cam-{camera}") for camera in (a, b)}
        operator = api.user("operator", site_ids=seeded.sites[:2])
        url = f"{served.base_url}/api/pictures/stream"

        with httpx.stream("GET", url, params={"cameras": [a, b], "fps": 5, "seconds": 30},
                          headers=operator.headers, timeout=10) as response:
            assert response.status_code == 200
            frames = feed_frames(response)
            first = {camera: (status, jpeg) for camera, status, jpeg in (next(frames), next(frames))}
            assert first == {a: (200, pictures[a]), b: (200, pictures[b])}
            time.sleep(1.0)  # five ticks with nothing new: nothing is sent again
            newer = write_live_picture(tmp_path, b, "b, newer")
            assert next(frames) == (b, 200, newer), "the next frame is camera b's new picture, a is not resent"

        outside = httpx.get(url, params={"cameras": [a, other]}, headers=operator.headers, timeout=10)
        assert outside.status_code == 404 and outside.json()["detail"][0]["field"] == "query.cameras"
        assert str(other) in outside.json()["detail"][0]["message"]
        assert httpx.get(url, params={"cameras": [a]}, timeout=10).status_code == 401
        too_many = httpx.get(url, params={"cameras": list(range(1, 66))}, headers=operator.headers, timeout=10)
        assert too_many.status_code == 422 and "cameras" in too_many.text
