"""The map page in a real browser, in Vietnamese: an engineer uploads a site plan and drags a camera onto it, turns
it and widens its field of view, and the page reads it back after a reload; a camera blinks as soon as an alarm of
it is raised; the city map draws tiles from a tile server of our own (generated PNGs over loopback: nothing from the
internet, and the content security policy lets that server's pictures in), and a camera clicked there opens its
live picture and recent alarms."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from store.db import connect
from tests.console.test_console_pages import english_left
from tests.support.browser import ConsoleSite, serve_console, shoot, wait_until
from tests.support.net import free_port

CENTER = (10.7735, 106.7005)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tile server of our own: every tile of zoom 0..4 as a generated 256 px PNG, served on loopback."""
    folder = tmp_path_factory.mktemp("tiles")
    for z in range(5):
        for x in range(2 ** z):
            for y in range(2 ** z):
                tile = np.full((256, 256, 3), (228, 236, 240), np.uint8)
                cv2.rectangle(tile, (0, 0), (255, 255), (190, 200, 210), 1)
                cv2.putText(tile, f"{z}/{x}/{y}", (70, 130), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (120, 130, 140), 2)
                path = folder / str(z) / str(x) / f"{y}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), tile)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def console(module_db_url: str, chromium: Any, tile_server: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    sections = {"map": {"tile_url": f"{tile_server}/{{z}}/{{x}}/{{y}}.png", "tile_attribution": "Bản đồ nội bộ IOC",
                        "center_latitude": CENTER[0], "center_longitude": CENTER[1], "zoom": 4, "tile_max_zoom": 4}}
    with serve_console(module_db_url, chromium, tmp_path_factory.mktemp("console-data"), sections=sections) as site:
        yield site


def marker(camera: int) -> str:
    return f".cam-marker:has(div[data-camera='{camera}'])"


def centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def test_a_camera_is_placed_on_an_uploaded_plan_by_dragging_and_read_back(console: ConsoleSite, tmp_path: Path) -> None:
    city = console.city
    loose = city.street_cameras[2]  # "Phố đi bộ": seeded without a place on the plan
    plan = np.full((600, 1000, 3), 245, np.uint8)
    cv2.rectangle(plan, (40, 40), (960, 560), (80, 80, 80), 8)
    cv2.line(plan, (0, 300), (1000, 300), (160, 160, 160), 40)
    picture = tmp_path / "so-do-nut-giao.png"
    cv2.imwrite(str(picture), plan)
    page = console.open("engineer", f"map?mode=plan&site={city.street}", ready="#map-empty")
    assert "chưa có sơ đồ" in page.inner_text("#map-empty")
    page.set_input_files("#plan-file", str(picture))
    page.wait_for_selector("img.site-plan-image")
    wait_until(page, "document.querySelector('img.site-plan-image').naturalWidth === 1000")
    page.wait_for_selector(marker(city.street_cameras[0]))
    page.click(f"#place-{loose}")
    page.wait_for_selector(marker(loose))
    image = page.locator("img.site-plan-image").bounding_box()
    target = (image["x"] + 0.8 * image["width"], image["y"] + 0.7 * image["height"])
    drag(page, centre(page, marker(loose)), target)
    page.wait_for_selector(".toast.ok:has-text('Phố đi bộ')")
    # placing it saved the plan's centre with the same toast, so the drag's save is awaited in the database
    with connect(console.db_url) as conn:
        for _ in range(50):
            position = conn.execute("SELECT position FROM cameras WHERE id = %s", (loose,)).fetchone()["position"]
            if position["x"] != 0.5:
                break
            page.wait_for_timeout(100)
    assert abs(position["x"] - 0.8) < 0.02 and abs(position["y"] - 0.7) < 0.02
    # turn it to look east (drag its handle) and widen its view
    page.click(marker(loose))
    page.wait_for_selector(f"#camera-panel[data-camera='{loose}']")
    here = centre(page, marker(loose))
    drag(page, centre(page, ".dir-handle"), (here[0] + 80, here[1]))
    wait_until(page, "document.getElementById('cam-direction') && document.getElementById('cam-direction')"
                     ".textContent.startsWith('9')")
    page.locator("#cam-fov").fill("90")
    page.locator("#cam-fov").dispatch_event("change")
    with connect(console.db_url) as conn:
        for _ in range(50):
            position = conn.execute("SELECT position FROM cameras WHERE id = %s", (loose,)).fetchone()["position"]
            if position.get("fov") == 90:
                break
            page.wait_for_timeout(100)
    assert position["fov"] == 90 and 80 <= position["direction"] <= 100
    shoot(page, "map-plan-placed")
    placed_at = centre(page, marker(loose))
    page.reload()
    page.wait_for_selector(marker(loose))
    wait_until(page, "document.querySelector('img.site-plan-image').complete")
    again = centre(page, marker(loose))
    assert abs(again[0] - placed_at[0]) < 4 and abs(again[1] - placed_at[1]) < 4
    assert page.locator(f"{marker(loose)} path.fov").count() == 1
    assert page.locator(f"#map-unplaced #place-{loose}").count() == 0
    assert english_left(page.inner_text("body")) == []
    assert page.problems == []
    page.context.close()


def test_a_camera_blinks_when_an_alarm_of_it_is_raised(console: ConsoleSite) -> None:
    city = console.city
    camera = city.street_cameras[0]
    with connect(console.db_url) as conn:
        conn.execute("UPDATE alarms SET status = 'resolved' WHERE camera_id = %s", (camera,))
    page = console.open("operator", f"map?mode=plan&site={city.street}", ready=marker(camera))
    assert "alarm-blink" not in page.get_attribute(marker(camera), "class")
    assert "alarm-blink" in page.get_attribute(marker(city.street_cameras[1]), "class")  # its offline alarm
    with connect(console.db_url) as conn:
        conn.execute("INSERT INTO events (id, time, site_id, camera_id, type, severity) VALUES"
                     " (%s, now(), %s, %s, 'intrusion', 'high')", (uuid.uuid4(), city.street, camera))
    page.wait_for_selector(f"{marker(camera)}.alarm-blink", timeout=3000)
    ring = f"{marker(camera)} .alarm-ring"
    animation = page.evaluate(f"getComputedStyle(document.querySelector(\"{ring}\")).animationName")
    assert animation == "alarm-blink"
    shoot(page, "map-alarm-blinks")
    assert english_left(page.inner_text("body")) == []
    assert page.problems == []
    page.context.close()


def test_the_city_map_draws_our_own_tiles_and_a_camera_opens_its_picture_and_alarms(console: ConsoleSite,
                                                                                   tile_server: str) -> None:
    city = console.city
    camera = city.street_cameras[0]
    with connect(console.db_url) as conn:
        conn.execute("UPDATE sites SET latitude = %s, longitude = %s WHERE id = %s", (*CENTER, city.street))
        conn.execute("UPDATE cameras SET latitude = %s, longitude = %s WHERE id = %s",
                     (CENTER[0] - 2.0, CENTER[1] + 3.0, camera))
    page = console.open("operator", "map?mode=city", ready=".leaflet-tile-loaded")
    wait_until(page, "document.querySelectorAll('.leaflet-tile-loaded').length >= 4")
    tiles = page.eval_on_selector_all(".leaflet-tile-loaded", "els => els.map((e) => e.src)")
    assert tiles and all(src.startswith(f"{tile_server}/4/") for src in tiles)
    # the sites are drawn once the cameras are read, which may come after the tiles (a fresh clone under load did)
    page.wait_for_selector(".site-marker")
    assert "Nút giao Lê Lợi" in page.inner_text("#map")  # the site by its latitude and longitude
    assert "Bản đồ nội bộ IOC" in page.inner_text(".leaflet-control-attribution")
    page.click(marker(camera))
    page.wait_for_selector(f"#camera-panel[data-camera='{camera}'] .camera-view")
    page.wait_for_selector("#camera-alarms li[data-alarm]")
    assert page.locator("#camera-panel .camera-view img").count() == 1
    shoot(page, "map-city")
    assert english_left(page.inner_text("body")) == []
    assert page.problems == []
    page.context.close()
