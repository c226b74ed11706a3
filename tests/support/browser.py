"""Real-browser fixtures for the console: the API served by uvicorn on a loopback port over a seeded database,
and Debian's Chromium driven by Playwright (one browser per test module).

``console`` gives a ``ConsoleSite``: ``open(role, path, lang=..., viewport=...)`` signs a user of that role in
(through the API, the cookie lands in a fresh browser context) and opens ``/console/<path>``; every page it
opens records console errors and uncaught exceptions in ``page.problems``. ``shoot(page, name)`` saves a
screenshot under tests/artifacts/console/.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ops_api.app import create_app
from ops_api.security import hash_password
from store.db import connect
from tests.support.api import PASSWORD, make_settings
from tests.support.console_seed import SeededCity, seed_city
from tests.support.net import free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
LAPTOP = {"width": 1366, "height": 768}
WALL_SCREEN = {"width": 1920, "height": 1080}
ROLES = ("operator", "manager", "engineer", "admin")
DISPLAY_NAMES = {"operator": "Phạm Minh Trực", "manager": "Võ Thị Quản", "engineer": "Đỗ Văn Kỹ",
                 "admin": "Hoàng Quản Trị"}


@dataclass
class ConsoleSite:
    base_url: str
    db_url: str
    data_dir: Path
    city: SeededCity
    browser: Any
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    _cookies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def user(self, role: str) -> dict[str, Any]:
        return self.users[role]

    def add_user(self, key: str, role: str, display_name: str, **columns: Any) -> dict[str, Any]:
        """Another console user (``key`` names it for ``open``), e.g. the next shift's operator."""
        name = f"{key}.{uuid.uuid4().hex[:4]}"
        with connect(self.db_url) as conn:
            row = conn.execute("INSERT INTO users (username, display_name, password_hash, role, language)"
                               " SELECT %s, %s, password_hash, %s, 'vi' FROM users WHERE id = %s RETURNING id",
                               (name, display_name, role, self.users["operator"]["id"])).fetchone()
            for column, value in columns.items():  # e.g. supervisor=True
                conn.execute(f"UPDATE users SET {column} = %s WHERE id = %s", (value, row["id"]))
        self.users[key] = {"id": row["id"], "username": name, "role": role}
        return self.users[key]

    def context(self, lang: str = "vi", viewport: dict[str, int] | None = None, signed_in_as: str | None = None) -> Any:
        """A fresh browser context (its own cookies and storage), optionally signed in, in ``lang``."""
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport or LAPTOP, locale="vi-VN",
                                           timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
        context.add_init_script(f"localStorage.setItem('vigil.lang', '{lang}')")
        if signed_in_as:
            context.add_cookies(self.session_cookies(signed_in_as))
        return context

    def session_cookies(self, role: str) -> list[dict[str, Any]]:
        """The session cookie of the role's user, signed in once per module (argon2 is slow by design)."""
        if role not in self._cookies:
            context = self.browser.new_context(base_url=self.base_url)
            response = context.request.post("/api/auth/login", data={"username": self.users[role]["username"],
                                                                      "password": PASSWORD})
            assert response.ok, response.text()
            self._cookies[role] = context.cookies()
            context.close()
        return self._cookies[role]

    def open(self, role: str | None, path: str = "", lang: str = "vi", viewport: dict[str, int] | None = None,
             ready: str | None = None) -> Any:
        """A page of a new context signed in as ``role`` at /console/<path>, after ``ready`` is visible."""
        page = watch(self.context(lang, viewport, role).new_page())
        page.goto(f"/console/{path}")
        page.wait_for_selector(ready or "#top:not([hidden]), form.signin", timeout=10_000)
        return page


def watch(page: Any) -> Any:
    """Record console errors and uncaught exceptions in ``page.problems``."""
    page.problems = []
    page.on("console", lambda msg: page.problems.append(f"console: {msg.text} @ {msg.location}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.problems.append(f"exception: {exc}"))
    return page


def wait_until(page: Any, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a JavaScript expression until it is truthy. Not ``page.wait_for_function``: its polling builds
    a function from the string, which the console's Content-Security-Policy (no 'unsafe-eval') forbids."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_s} s: {expression}")


def shoot(page: Any, name: str) -> Path:
    """Save a screenshot of the whole page as tests/artifacts/console/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def _add_users(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    password_hash = hash_password(PASSWORD)
    users = {}
    for role in ROLES:
        name = f"{role}.{uuid.uuid4().hex[:4]}"
        row = conn.execute("INSERT INTO users (username, display_name, password_hash, role, language) VALUES"
                           " (%s, %s, %s, %s, 'vi') RETURNING id", (name, DISPLAY_NAMES[role], password_hash, role)
                           ).fetchone()
        users[role] = {"id": row["id"], "username": name, "role": role}
    return users


class _Server:
    """The API app under uvicorn in a thread of the test process (the browser needs a real socket)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        from ops_api.server import ApiServerConfig

        self.port = free_port()
        self.server = uvicorn.Server(ApiServerConfig(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="on", timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, name="console-uvicorn", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        wait_for_port(self.port)
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/setup.sh installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def serve_console(db_url: str, chromium: Any, data_dir: Path, sections: dict[str, Any] | None = None,
                  prepare: Any = None) -> Iterator[ConsoleSite]:
    """The console over a seeded city with a user per role; ``sections`` sets settings sections (``{"map": {...}}``),
    ``prepare(app)`` may add to the app before it serves."""
    from console import vendor_missing

    if vendor_missing():
        pytest.fail(f"console vendor files missing ({', '.join(vendor_missing())}): run scripts/setup.sh")
    with connect(db_url) as conn:
        city = seed_city(conn, data_dir)
        users = _add_users(conn)
    settings = make_settings(data_dir, sections=sections, login_max_failures=50)
    app = create_app(settings, db_url)
    if prepare is not None:
        prepare(app)
    with _Server(app) as base_url:
        yield ConsoleSite(base_url, db_url, data_dir, city, chromium, users)


@pytest.fixture(scope="module")
def console(module_db_url: str, chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    """The console over a seeded city, served on a loopback port, with a user per role."""
    with serve_console(module_db_url, chromium, tmp_path_factory.mktemp("console-data")) as site:
        yield site
