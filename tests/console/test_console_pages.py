"""The console in a real browser: sign-in, every page of every role renders without console errors and
without English left on the Vietnamese pages, role-aware menus, the server's 403 shown as "not allowed",
the language switch, and the counter-audit export."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from store.db import connect
from tests.support.api import PASSWORD
from tests.support.browser import WALL_SCREEN, ConsoleSite, shoot, wait_until

I18N = Path(__file__).resolve().parents[2] / "console" / "static" / "i18n"
VI = json.loads((I18N / "vi.json").read_text(encoding="utf-8"))
EN = json.loads((I18N / "en.json").read_text(encoding="utf-8"))

# (role, path, a selector that is there once the page has its data)
PAGES = [
    ("operator", "wall", ".tile .camera-view:not(.loading):not(.missing)"),
    ("operator", "alarms", "#alarm-rows tr[data-alarm]"),
    ("operator", "events", "#event-rows tr[data-event]"),
    ("operator", "map", "#map-empty"),
    ("operator", "handover", "#handover-new .handover-counts"),
    ("manager", "alarm-rules", "#rules-table tbody tr"),
    ("manager", "centers", ".counter-card"),
    ("manager", "counter-audit?mode=day", "svg.timeline"),
    ("manager", "counter-audit?mode=month", "#month-table tbody tr"),
    ("manager", "province", "#province-table tbody tr"),
    ("manager", "officers", "#officer-table tbody tr"),
    ("manager", "tickets", "#mapping-form"),
    ("operator", "streets", "#streets-map"),
    ("engineer", "cameras", "#health-table tbody tr"),
    ("engineer", "cameras/new", "#wizard-steps li"),
    ("engineer", "cameras/{hall}/zones", "#zone-list li"),
    ("admin", "users", "#user-table tbody tr"),
    ("admin", "audit-log", "#audit-table"),
    ("manager", "playback", "svg.recording-timeline"),
]


def english_left(text: str) -> list[str]:
    """English strings of the en file (those that differ from their Vietnamese) found in a page's text."""
    found = []
    for key, english in EN.items():
        words = re.sub(r"\{\w+\}", " ", english).strip(" .…:")
        if english == VI[key] or len(words) < 4 or not re.search(r"[A-Za-z]{3}", words):
            continue
        if re.search(rf"(?<![\w-]){re.escape(words)}(?![\w-])", text):
            found.append(f"{key}: {words!r}")
    return found


def test_translation_files_have_the_same_keys_and_placeholders() -> None:
    assert list(VI) == list(EN), "vi.json and en.json must list the same keys in the same order"
    for key in VI:
        assert VI[key].strip() and EN[key].strip(), f"{key} is empty"
        assert sorted(re.findall(r"\{\w+\}", VI[key])) == sorted(re.findall(r"\{\w+\}", EN[key])), key


def test_every_key_the_pages_ask_for_is_translated() -> None:
    scripts = (I18N.parent / "js").rglob("*.js")
    asked = {m for path in scripts for m in re.findall(r"\bt\('([a-z_]+\.[a-z_.]+)'", path.read_text(encoding="utf-8"))}
    assert len(asked) > 150
    assert sorted(asked - set(VI)) == []


def test_sign_in_through_the_form_shows_the_user_role_and_menu(console: ConsoleSite) -> None:
    page = console.open(None, "")
    page.fill("input[name=username]", console.user("operator")["username"])
    page.fill("input[name=password]", "wrong-password")
    page.click("#signin-submit")
    page.wait_for_selector("#signin-error:has-text('Sai tên đăng nhập')")
    shoot(page, "sign-in")
    page.fill("input[name=password]", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#top:not([hidden])")
    assert page.text_content("#user-name") == "Phạm Minh Trực"
    assert page.text_content("#user-role") == "Trực vận hành"
    menu = page.locator("#top nav a").all_text_contents()
    assert menu == ["Màn hình giám sát", "Cảnh báo", "Sự kiện", "Bản đồ", "Giao ca", "Đường phố", "Xem lại"]
    page.click("#sign-out")
    page.wait_for_selector("form.signin")
    assert not [p for p in page.problems if "401" not in p]


@pytest.mark.parametrize(("role", "path", "ready"), PAGES, ids=[p[1].split("?")[0] + (p[1][-6:] if "?" in p[1] else "")
                                                                 for p in PAGES])
def test_each_page_renders_in_vietnamese_without_errors(console: ConsoleSite, role: str, path: str,
                                                        ready: str) -> None:
    path = path.format(hall=console.city.hall_camera)
    page = console.open(role, path, ready=ready)
    name = re.sub(r"[^a-z0-9]+", "-", path).strip("-")
    shoot(page, f"{name}-1366")
    assert page.evaluate("document.documentElement.lang") == "vi"
    text = page.inner_text("body")
    assert english_left(text) == [], f"English left on the Vietnamese {path} page"
    assert page.problems == []
    page.context.close()


@pytest.mark.parametrize(("role", "path", "ready"), [("operator", "wall", ".tile .camera-view:not(.loading)"),
                                                     ("operator", "alarms", "#alarm-rows tr[data-alarm]"),
                                                     ("manager", "centers", ".counter-card")])
def test_wall_screen_size(console: ConsoleSite, role: str, path: str, ready: str) -> None:
    page = console.open(role, path, viewport=WALL_SCREEN, ready=ready)
    shoot(page, f"{path}-1920")
    assert page.problems == []
    page.context.close()


def test_a_manager_cannot_open_the_cameras_page(console: ConsoleSite) -> None:
    page = console.open("manager", "alarms", ready="#alarm-rows tr")
    assert page.locator("#top nav a[data-page=cameras]").count() == 0
    assert page.locator("#top nav a[data-page=wall]").count() == 0
    page.goto("/console/cameras")
    page.wait_for_selector("#not-allowed")
    assert "Không được phép" in page.inner_text("#not-allowed")
    shoot(page, "cameras-as-manager")
    # The browser reports the API's 403 as a failed resource; nothing else may go wrong.
    assert [p for p in page.problems if "403" not in p] == []
    page.context.close()


def test_the_language_switch_changes_the_page(console: ConsoleSite) -> None:
    page = console.open("manager", "centers", ready=".counter-card")
    assert page.text_content("#top nav a[data-page=centers]") == "Trung tâm phục vụ"
    page.click("#lang-switch")
    page.wait_for_selector("#top nav a[data-page=centers]:has-text('Service centers')")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.wait_for_selector(".counter-card")
    assert "Counter 1" in page.inner_text("#floor-strip")
    # The choice is the user's, not only this browser's: the server keeps it for the next sign-in.
    saved = ""
    for _ in range(20):  # the PATCH is sent as the page switches; give it up to 2 s
        saved = page.evaluate("fetch('/api/auth/me').then(r => r.json()).then(u => u.language)")
        if saved == "en":
            break
        page.wait_for_timeout(100)
    assert saved == "en"
    shoot(page, "centers-english")
    page.click("#lang-switch")
    page.wait_for_selector("#top nav a[data-page=centers]:has-text('Trung tâm phục vụ')")
    page.wait_for_selector("#floor-strip .counter-card:has-text('Quầy 1')")
    assert page.problems == []
    page.context.close()


def test_the_counter_audit_export_downloads(console: ConsoleSite) -> None:
    day = console.city.yesterday
    page = console.open("manager", f"counter-audit?mode=day&day={day}", ready="svg.timeline")
    absences = page.locator("article[data-counter] ul.absences li")
    assert absences.count() >= 1, "counter 2's absence of yesterday is listed"
    with page.expect_download() as download:
        page.click("#export-csv")
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 3, "a header and one row per counter"
    assert any("Quầy" in cell or "quầy" in cell for cell in rows[0]), rows[0]
    assert download.value.suggested_filename.endswith(f"{day}-{day}.csv")
    with page.expect_download() as xlsx:
        page.click("#export-xlsx")
    assert Path(xlsx.value.path()).read_bytes()[:2] == b"PK"
    assert page.problems == []
    page.context.close()


def test_a_wall_tile_enlarges_on_click(console: ConsoleSite) -> None:
    page = console.open("operator", "wall", ready=".tile")
    page.click(f".tile[data-camera='{console.city.hall_camera}']")
    page.wait_for_selector("#tile-modal .camera-view:not(.loading):not(.missing)", timeout=10_000)
    size = page.evaluate("[...document.querySelectorAll('#tile-modal img')].map(i => i.naturalWidth)")
    assert size == [768], "the hall camera's live picture (vtest, 768 wide) with the zones the server drew"
    shoot(page, "wall-enlarged")
    assert "Trực tuyến" in page.inner_text("#tile-modal")
    page.keyboard.press("Escape")
    page.wait_for_selector("#tile-modal", state="detached")
    assert page.problems == []
    page.context.close()


def test_a_full_wall_leaves_the_console_free_to_ask_for_anything_else(console: ConsoleSite) -> None:
    """Chromium opens six connections to a server, and an MJPEG stream holds one for its life. With one stream per
    tile, the seeded wall's four pictured tiles, its live event stream and an enlarged tile took all six, and every
    other request of the console waited minutes (the enlarged tile never learnt it could play recorded video).
    The grid's pictures share one connection."""
    page = console.open("operator", "wall", ready=".tile .camera-view:not(.loading):not(.missing)")
    tiles = page.locator(".tile .camera-view:not(.missing)").count()
    assert tiles >= 4, f"the seeded wall shows {tiles} pictured cameras: too few to fill the browser's connections"
    wait_until(page, f"document.querySelectorAll('.tile .camera-view:not(.loading):not(.missing)').length === {tiles}",
               timeout_s=20)
    page.click(f".tile[data-camera='{console.city.hall_camera}']")
    page.wait_for_selector("#tile-modal .camera-view:not(.loading):not(.missing)", timeout=10_000)
    took = page.evaluate("""async () => {
        const started = performance.now();
        const reads = [1, 2, 3, 4, 5, 6].map(() => fetch('/api/cameras', { cache: 'no-store' }).then((r) => r.ok));
        const late = new Promise((resolve) => setTimeout(() => resolve('late'), 10000));
        const answers = await Promise.race([Promise.all(reads), late]);
        return { ms: performance.now() - started, answers };
    }""")
    assert took["answers"] == [True] * 6 and took["ms"] < 5000, f"six API reads beside the wall: {took}"
    previews = page.evaluate("performance.getEntriesByType('resource').filter((e) => e.name.includes('/preview'))"
                             ".map((e) => e.name)")
    assert len(previews) == 1 and f"/api/cameras/{console.city.hall_camera}/preview" in previews[0], previews
    page.keyboard.press("Escape")
    assert page.problems == []
    page.context.close()


def test_an_admin_adds_a_user_who_appears_in_the_list(console: ConsoleSite) -> None:
    page = console.open("admin", "users", ready="#user-table tbody tr")
    page.click("#add-user")
    page.fill("#new-username", "thu.nguyen")
    page.fill("#new-display-name", "Nguyễn Thị Thu")
    page.select_option("#new-role", "manager")
    page.select_option("#new-sites", [str(console.city.center)])
    page.fill("#new-password", "mot-mat-khau-dai-du")
    page.click("#user-form button[type=submit]")
    row = page.locator("#user-table tr[data-user='thu.nguyen']")
    row.wait_for()
    assert "Quản lý" in row.inner_text() and "Trung tâm Hành chính công Quận 1" in row.inner_text()
    page.goto("/console/audit-log")
    page.wait_for_selector("#audit-rows tr[data-action='user.create']")
    assert "Thêm người dùng" in page.inner_text("#audit-rows")
    assert page.problems == []
    page.context.close()


def test_a_refused_form_says_why_in_the_users_language(console: ConsoleSite) -> None:
    page = console.open("admin", "users", ready="#user-table tbody tr")
    error = page.locator("#user-form .form-error")

    def add_user(display_name: str, password: str) -> None:
        page.click("#add-user")
        page.fill("#new-username", "ngan.tran")
        page.fill("#new-display-name", display_name)
        page.fill("#new-password", password)
        page.click("#user-form button[type=submit]")

    add_user("Trần Thị Ngân", "ngan")  # the API's password policy refuses it
    page.wait_for_selector("#user-form .form-error:not(:empty)")
    assert error.inner_text() == "Mật khẩu ban đầu: phải có ít nhất 10 ký tự."
    shoot(page, "users-password-refused")
    add_user("N" * 201, "mot-mat-khau-dai-du")  # pydantic's own limit on the name
    page.wait_for_selector("#user-form .form-error:has-text('Họ và tên')")
    assert error.inner_text() == "Họ và tên: tối đa 200 ký tự."

    page.click("#lang-switch")
    page.wait_for_selector("#top nav a[data-page=users]:has-text('Users')")
    add_user("Tran Thi Ngan", "ngan")
    page.wait_for_selector("#user-form .form-error:not(:empty)")
    assert error.inner_text() == "First password: must have at least 10 characters."
    assert page.locator("#user-table tr[data-user='ngan.tran']").count() == 0
    assert [p for p in page.problems if "422" not in p] == []
    page.context.close()


def test_a_new_user_changes_the_first_password_before_anything_else(console: ConsoleSite) -> None:
    from ops_api.security import hash_password

    with connect(console.db_url) as conn:
        conn.execute("INSERT INTO users (username, password_hash, role, must_change_password) VALUES"
                     " ('moi.vao', %s, 'operator', true)", (hash_password(PASSWORD),))
    page = console.open(None, "")
    page.fill("input[name=username]", "moi.vao")
    page.fill("input[name=password]", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("form.signin:has-text('Đổi mật khẩu')")
    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", "mat-khau-moi-rat-dai-2026")
    page.click("form.signin button[type=submit]")
    page.wait_for_selector("#top nav a[data-page=wall]")
    # not signed in yet (401 from /api/auth/me), then refused until the password is changed (403)
    assert [p for p in page.problems if "401" not in p and "403" not in p] == []
    page.context.close()


def test_an_operator_deactivated_while_watching_the_events_is_sent_to_sign_in(console: ConsoleSite) -> None:
    # The events page asks nothing more once it shows its list: only the live feed can notice. The server ends
    # the feed within api.stream_recheck_s (10 s) with `session_expired`, and the page goes to sign-in.
    leaving = console.add_user("leaving", "operator", "Lê Văn Nghỉ")
    page = console.open("leaving", "events", ready="#event-rows tr[data-event]")
    page.wait_for_selector("#live-state[data-state=live]", timeout=10_000)
    admin = console.context(signed_in_as="admin")
    off = admin.request.patch(f"/api/users/{leaving['id']}", data={"active": False},
                              headers={"X-Requested-With": "test"})
    assert off.ok, off.text()
    admin.close()
    page.wait_for_selector("form.signin", timeout=20_000)
