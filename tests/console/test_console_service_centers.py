"""The service-center pages in a real browser: the public hall screen on a 1920x1080 TV with the key an admin gave
it (and refused without one, or with a key rotated away since), an officer's month with the absence and its
picture, the province overview sorted and totalled, and a ticket log uploaded with a bad row named by its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.browser import WALL_SCREEN, ConsoleSite, shoot, watch

LOG = ("Số vé,Dịch vụ,Quầy,Ngày,Giờ lấy số,Giờ gọi,Giờ kết thúc\n"
       "C001,Tư pháp - Hộ tịch,1,01/12/2026,07:35,07:41,07:52\n"
       "C002,Tư pháp - Hộ tịch,1,01/12/2026,bảy giờ,07:52,08:05\n"
       "C003,Đất đai,2,01/12/2026,07:40,07:58,08:10\n")


def new_hall_address(console: ConsoleSite) -> str:
    """What an admin does on the centers page: a new display key, the screen's address shown once."""
    page = console.open("admin", f"centers?site={console.city.center}", ready=".counter-card")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#hall-key")
    page.wait_for_selector("#hall-url")
    address = page.input_value("#hall-url")
    shoot(page, "centers-hall-key")
    assert page.problems == []
    page.context.close()
    assert address.startswith(f"{console.base_url}/hall/{console.city.center}#key=vgh_")
    return address


def tv(console: ConsoleSite, address: str, state: str) -> Any:
    """A page on a signed-out 1920x1080 TV, once the screen is in ``state``."""
    context = console.browser.new_context(viewport=WALL_SCREEN, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = watch(context.new_page())
    page.goto(address)
    page.wait_for_selector(f"body[data-state={state}]", timeout=15_000)
    return page


def test_the_hall_screen_shows_with_its_key_and_refuses_without_it(console: ConsoleSite) -> None:
    address = new_hall_address(console)
    page = tv(console, address, "live")
    page.wait_for_selector(".hall-counter[data-counter='3']")
    shoot(page, "hall-screen-1920")
    assert page.viewport_size == WALL_SCREEN
    text = page.inner_text("body")
    assert "Trung tâm Hành chính công Quận 1" in text and "Quầy 1" in text and "Tư pháp - Hộ tịch" in text
    for officer in ("Nguyễn Thị Lan", "Trần Văn Bình", "Lê Thu Hà"):
        assert officer not in text  # no personal data on the public screen
    assert page.locator("img").count() == 0
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.hall-counter .number')).fontSize)")
    assert font >= 40, "large type, read from across the hall"
    assert page.problems == []
    page.context.close()
    # Without the key: refused, and nothing of the center shown.
    bare = tv(console, address.split("#")[0], "refused")
    assert "chưa được cấp mã" in bare.inner_text("#hall-refused")
    assert bare.locator(".hall-counter").count() == 0
    bare.context.close()
    # The key is rotated: the old address is refused at its next look.
    newer = new_hall_address(console)
    stale = tv(console, address, "refused")
    assert "đã được đổi" in stale.inner_text("#hall-refused")
    shoot(stale, "hall-screen-refused")
    assert [p for p in stale.problems if "401" not in p] == []
    stale.context.close()
    fresh = tv(console, newer, "live")
    fresh.context.close()


def test_an_officers_month_lists_the_absence_with_its_picture(console: ConsoleSite) -> None:
    officer = console.city.officers["Trần Văn Bình"]
    month = console.city.yesterday[:7]
    page = console.open("manager", f"officers/{officer}?month={month}", ready="#officer-totals")
    absences = page.locator("#officer-absences li")
    assert absences.count() >= 1, "counter 2's absence of yesterday is the officer's"
    assert page.locator("#officer-absences img").count() >= 1
    assert "Trần Văn Bình" in page.inner_text("h1")
    shoot(page, "officer-month")
    assert page.problems == []
    page.context.close()
    # The center's page: the officers, today's assignments, the roster.
    page = console.open("manager", f"officers?site={console.city.center}", ready="#officer-table tbody tr")
    assert page.locator("#roster-table tbody tr").count() == 3
    assert page.locator("#assignment-table tbody tr").count() == 3
    assert "Lịch trực tuần" in page.inner_text("#assignment-table")
    page.context.close()


def test_the_province_overview_sorts_and_totals_its_centers(console: ConsoleSite) -> None:
    month = console.city.yesterday[:7]
    page = console.open("manager", f"province?province={console.city.province}&month={month}",
                        ready="#province-table tbody tr")
    rows = page.locator("#province-table tbody tr")
    assert rows.count() == 2
    page.click("#province-table th[data-sort='name']")
    names = page.locator("#province-table tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.casefold, reverse=True) or names == sorted(names, key=str.casefold)
    assert "Toàn tỉnh" in page.inner_text("#province-total")
    page.wait_for_selector("#province-trend")
    shoot(page, "province-overview")
    with page.expect_download() as download:
        page.click("#province-xlsx")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    assert page.problems == []
    page.context.close()


def test_a_ticket_log_with_a_bad_row_is_previewed_then_imported(console: ConsoleSite, tmp_path: Path) -> None:
    log = tmp_path / "nhat-ky.csv"
    log.write_text(LOG, encoding="utf-8")
    page = console.open("manager", f"tickets?site={console.city.center}", ready="#mapping-form")
    page.set_input_files("#ticket-file", str(log))
    page.click("#ticket-preview")
    page.wait_for_selector("#import-errors li[data-line='3']")
    assert "Dòng 3" in page.inner_text("#import-errors") and "bảy giờ" in page.inner_text("#import-errors")
    assert "Chưa ghi gì" in page.inner_text("#import-summary")
    page.click("#ticket-import")
    page.wait_for_selector("#import-summary:has-text('Đã nhập 2 số')")
    shoot(page, "tickets-import")
    assert page.problems == []
    page.context.close()
