"""The zone editor in a real browser: a polygon drawn with the mouse is saved and read back, points move
and are deleted, the API's geometry errors are shown next to the editor naming the zone; the onboarding
wizard registers a camera from its stream and saves the zones drawn on its snapshot."""

from __future__ import annotations

from store.db import connect
from tests.support.browser import ConsoleSite, shoot, wait_until
from tests.support.rtsp import RtspServer


def click_at(page, x: float, y: float, **options) -> None:
    """Click the editor canvas at normalized (x, y)."""
    box = page.locator("#zone-canvas").bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"], **options)


def zones_of(console: ConsoleSite, camera_id: int) -> dict[str, dict]:
    with connect(console.db_url) as conn:
        rows = conn.execute("SELECT name, kind, geometry, direction, thresholds FROM zones WHERE camera_id = %s",
                            (camera_id,))
        return {r["name"]: r for r in rows}


def test_a_drawn_polygon_is_saved_and_read_back(console: ConsoleSite) -> None:
    camera = console.city.street_cameras[1]
    page = console.open("engineer", f"cameras/{camera}/zones", ready="#zone-add")
    page.click("#zone-add")
    for x, y in [(0.2, 0.2), (0.6, 0.2), (0.6, 0.7), (0.2, 0.7), (0.4, 0.9)]:
        click_at(page, x, y)
    # the fifth point was a slip: right-click deletes it
    handle = page.locator("#zone-canvas circle.handle[data-point='4']")
    handle.click(button="right")
    page.click("#zone-finish")
    page.fill("#zone-name", "khu-vuc-cam")
    page.select_option("#zone-kind", "restricted")
    page.fill("#zone-thresholds", "loiter_s=20")
    shoot(page, "zone-editor-drawn")
    page.click("#zones-save")
    page.wait_for_selector("#zone-list li[data-zone='khu-vuc-cam']:not(:has-text('*'))")
    saved = zones_of(console, camera)["khu-vuc-cam"]
    assert saved["kind"] == "restricted" and saved["thresholds"] == {"loiter_s": 20}
    assert len(saved["geometry"]) == 4
    for (x, y), (ex, ey) in zip(saved["geometry"], [(0.2, 0.2), (0.6, 0.2), (0.6, 0.7), (0.2, 0.7)], strict=True):
        assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01

    page.reload()
    page.wait_for_selector("#zone-list li[data-zone='khu-vuc-cam']")
    assert page.locator("#zone-canvas polygon[data-zone='khu-vuc-cam']").count() == 1
    assert page.problems == []
    page.context.close()


def test_a_counting_line_gets_a_direction_and_can_be_flipped(console: ConsoleSite) -> None:
    camera = console.city.street_cameras[2]
    page = console.open("engineer", f"cameras/{camera}/zones", ready="#zone-add")
    page.click("#zone-add")
    page.select_option("#zone-kind", "line")
    click_at(page, 0.1, 0.5)
    click_at(page, 0.9, 0.5)
    page.fill("#zone-name", "vach-dem-moi")
    page.click("#zone-flip")
    page.click("#zones-save")
    page.wait_for_selector("#zone-list li[data-zone='vach-dem-moi']:not(:has-text('*'))")
    saved = zones_of(console, camera)["vach-dem-moi"]
    assert saved["kind"] == "line" and len(saved["geometry"]) == 2
    assert saved["direction"][1] < 0, "across the line, flipped from downwards to upwards"
    assert page.problems == []
    page.context.close()


def test_geometry_errors_from_the_api_are_shown_by_zone(console: ConsoleSite) -> None:
    camera = console.city.street_cameras[2]
    page = console.open("engineer", f"cameras/{camera}/zones", ready="#zone-add")
    page.click("#zone-add")
    for x, y in [(0.1, 0.1), (0.5, 0.5), (0.5, 0.1), (0.1, 0.5)]:  # a bow tie: edges cross
        click_at(page, x, y)
    page.click("#zone-finish")
    page.fill("#zone-name", "no-tie")
    page.click("#zones-save")
    error = page.locator("#zone-errors li[data-zone='no-tie']")
    error.wait_for()
    assert "no-tie" in error.inner_text()
    assert "Vùng tự cắt: có cạnh cắt qua cạnh khác" in error.inner_text(), "the API's reason, in Vietnamese"
    assert page.locator("#zone-canvas circle.handle.bad").count() == 1, "the point at fault is marked"
    shoot(page, "zone-editor-error")
    assert "no-tie" not in zones_of(console, camera)
    assert [p for p in page.problems if "422" not in p] == []
    page.context.close()


def test_the_wizard_registers_a_camera_with_a_zone(console: ConsoleSite, rtsp_server: RtspServer) -> None:
    page = console.open("engineer", "cameras/new", ready="#wizard-steps li")
    assert page.locator("#wiz-source option[value='file']").count() == 0, "video files are added on the server"
    page.select_option("#wiz-source", "rtsp")
    page.fill("#wiz-url", rtsp_server.url())
    page.click("#wizard-next")
    page.fill("#wiz-name", "Cổng trước")
    page.select_option("#wiz-site", str(console.city.center))
    page.click("#wizard-register")
    page.wait_for_selector("#zone-add")
    wait_until(page, "document.querySelector('.editor-stage img')?.naturalWidth > 0")
    page.click("#zone-add")
    page.select_option("#zone-kind", "crowd")
    for x, y in [(0.3, 0.3), (0.7, 0.3), (0.5, 0.8)]:
        click_at(page, x, y)
    page.click("#zone-finish")
    page.fill("#zone-name", "san-truoc")
    shoot(page, "wizard-zones")
    page.click("#wizard-finish")
    page.wait_for_selector("#health-table tr:has-text('Cổng trước')")
    with connect(console.db_url) as conn:
        camera = conn.execute("SELECT id, enabled, main_uri, source_kind FROM cameras WHERE name = 'Cổng trước'"
                              ).fetchone()
    assert camera["source_kind"] == "rtsp" and camera["main_uri"] == rtsp_server.url()
    assert zones_of(console, camera["id"])["san-truoc"]["kind"] == "crowd"
    assert page.problems == []
    page.context.close()
