"""``vigil users`` and ``vigil serve`` against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from store.db import connect
from tests.support.api import seed_sites, serve_in_process
from tests.support.net import free_port, wait_for_port
from vigil.cli import app


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_users_add_list_passwd_and_tokens(cli: CliRunner, db_url: str) -> None:
    with connect(db_url) as conn:
        seed_sites(conn, 2)
    added = cli.invoke(app, ["users", "add", "lan", "--role", "operator", "--password-stdin"],
                       input="a-long-password\n")
    assert added.exit_code == 0, added.output
    generated = cli.invoke(app, ["users", "add", "binh", "--role", "manager", "--generate", "--sites", "1,2"])
    assert "one-time password:" in generated.output
    unknown = cli.invoke(app, ["users", "add", "dung", "--role", "manager", "--generate", "--sites", "9"])
    assert unknown.exit_code == 6 and "no site with id 9" in unknown.output
    weak = cli.invoke(app, ["users", "add", "chi", "--role", "admin", "--password-stdin"], input="short\n")
    assert weak.exit_code == 6 and "password" in weak.output
    taken = cli.invoke(app, ["users", "add", "lan", "--role", "operator", "--password-stdin"], input="x" * 12 + "\n")
    assert taken.exit_code == 6 and "already exists" in taken.output
    listing = cli.invoke(app, ["users", "list"]).output
    assert "lan" in listing and "binh" in listing and "1,2" in listing and "must change password" in listing
    changed = cli.invoke(app, ["users", "passwd", "lan", "--password-stdin"], input="another-long-one\n")
    assert changed.exit_code == 0
    assert cli.invoke(app, ["users", "passwd", "nobody", "--generate"]).exit_code == 5
    token = cli.invoke(app, ["users", "token", "lan", "--name", "export"]).output.strip()
    assert token.startswith("vgt_")
    with connect(db_url) as conn:
        actions = [r["action"] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
        hashes = [r["password_hash"] for r in conn.execute("SELECT password_hash FROM users")]
    assert actions == ["user.create", "user.create", "user.passwd", "token.create"]
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_users_passwd_lifts_a_lock_out_and_revokes_the_users_tokens(cli: CliRunner, db_url: str,
                                                                    tmp_path: Path) -> None:
    assert cli.invoke(app, ["users", "add", "lan", "--role", "operator", "--password-stdin"],
                      input="a-long-password\n").exit_code == 0
    token = cli.invoke(app, ["users", "token", "lan"]).output.strip()
    with serve_in_process(db_url, tmp_path / "api") as api:  # login_max_failures is 3 there
        me = {"Authorization": f"Bearer {token}"}
        assert api.client.get("/api/auth/me", headers=me).status_code == 200
        for _ in range(3):
            api.client.post("/api/auth/login", json={"username": "lan", "password": "a-wrong-password"})
        locked = api.client.post("/api/auth/login", json={"username": "lan", "password": "a-long-password"})
        assert locked.status_code == 429
        changed = cli.invoke(app, ["users", "passwd", "lan", "--password-stdin"], input="another-long-one\n")
        assert changed.exit_code == 0, changed.output
        assert api.client.get("/api/auth/me", headers=me).status_code == 401
        again = api.client.post("/api/auth/login", json={"username": "lan", "password": "another-long-one"})
        assert again.status_code == 200


def test_first_admin_prints_its_one_time_password_once(cli: CliRunner) -> None:
    first = cli.invoke(app, ["users", "first-admin"])
    assert "Sign in as 'admin' with the one-time password:" in first.output
    assert "already exists" in cli.invoke(app, ["users", "first-admin"]).output


def test_vigil_serve_answers_and_signs_in(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "VIGIL_DATA_DIR": str(tmp_path), "VIGIL_API__PORT": str(port)}
    process = subprocess.Popen([str(Path(sys.executable).parent / "vigil"), "serve"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout_s=30)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        refused = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"username": "x", "password": "y"})
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_users_add_gives_a_whole_province(cli: CliRunner, db_url: str) -> None:
    with connect(db_url) as conn:
        province = conn.execute("INSERT INTO provinces (code, name) VALUES ('an-giang', 'Tỉnh An Giang')"
                                " RETURNING id").fetchone()["id"]
    added = cli.invoke(app, ["users", "add", "tinh", "--role", "manager", "--generate", "--provinces", str(province)])
    assert added.exit_code == 0, added.output
    unknown = cli.invoke(app, ["users", "add", "khac", "--role", "manager", "--generate", "--provinces", "99"])
    assert unknown.exit_code == 6 and "no province with id 99" in unknown.output
    with connect(db_url) as conn:
        row = conn.execute("SELECT site_ids, province_ids FROM users WHERE username = 'tinh'").fetchone()
    assert (row["site_ids"], row["province_ids"]) == ([], [province])  # limited to the province, not every site
