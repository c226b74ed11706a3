"""Signing in and out, lock-out, password change, API tokens, the first admin."""

from __future__ import annotations

from ops_api.accounts import ensure_first_admin
from tests.support.api import PASSWORD, ApiHarness

JSON = {"X-Requested-With": "test"}


def login(api: ApiHarness, username: str, password: str = PASSWORD):
    return api.client.post("/api/auth/login", json={"username": username, "password": password})


def test_sign_in_sets_an_http_only_same_site_cookie_that_signs_out_for_real(api: ApiHarness) -> None:
    user = api.user("operator")
    response = login(api, user.username)
    assert response.status_code == 200
    assert response.json()["role"] == "operator"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert api.client.get("/api/auth/me").json()["username"] == user.username
    stolen = api.client.cookies.get("vigil_session")
    assert api.client.post("/api/auth/logout", headers=JSON).status_code == 204
    api.client.cookies.set("vigil_session", stolen)  # the old cookie no longer opens anything
    assert api.client.get("/api/auth/me").status_code == 401


def test_wrong_password_locks_the_account_after_repeated_failures(api: ApiHarness) -> None:
    user = api.user("manager")
    for _ in range(3):  # login_max_failures is 3 in tests
        assert login(api, user.username, "wrong-password-1").status_code == 401
    locked = login(api, user.username)  # even the right password waits out the lock
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    failures = api.conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.login_failed'").fetchone()
    assert failures["n"] == 3


def test_unknown_user_and_wrong_password_answer_the_same(api: ApiHarness) -> None:
    user = api.user("operator")
    a = login(api, "nobody-here", "whatever-password")
    b = login(api, user.username, "whatever-password")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_cookie_post_without_json_or_header_is_refused_as_cross_site(api: ApiHarness) -> None:
    user = api.user("operator")
    login(api, user.username)
    response = api.client.post("/api/auth/logout", data={"x": "1"})
    assert response.status_code == 403


def test_password_change_checks_the_old_one_and_ends_other_sessions(api: ApiHarness) -> None:
    user = api.user("engineer")
    login(api, user.username)
    bad = api.client.post("/api/auth/password", json={"current_password": "nope", "new_password": "a-new-long-one"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.current_password"
    short = api.client.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "body.new_password"
    ok = api.client.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-long-one"})
    assert ok.status_code == 204
    assert api.client.get("/api/auth/me").status_code == 200  # this session stays
    assert login(api, user.username).status_code == 401
    assert login(api, user.username, "a-new-long-one").status_code == 200
    row = api.conn.execute("SELECT before, after FROM audit_log WHERE action = 'user.passwd'").fetchone()
    assert "a-new-long-one" not in str(row)


def test_api_tokens_act_as_the_user_until_revoked(api: ApiHarness) -> None:
    user = api.user("operator")
    created = api.client.post("/api/auth/tokens", json={"name": "script"}, headers=user.headers)
    assert created.status_code == 201
    token = created.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/auth/me", headers=headers).json()["username"] == user.username
    assert api.client.delete(f"/api/auth/tokens/{created.json()['id']}", headers=user.headers).status_code == 204
    assert api.client.get("/api/auth/me", headers=headers).status_code == 401
    assert api.client.get("/api/auth/me", headers={"Authorization": "Bearer vgt_forged"}).status_code == 401
    assert api.client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_first_admin_gets_a_one_time_password_and_must_change_it(api: ApiHarness, capsys) -> None:
    first = ensure_first_admin(api.conn)
    assert first.password and first.password in capsys.readouterr().out
    assert ensure_first_admin(api.conn).password is None  # idempotent
    assert login(api, "admin", first.password).json()["must_change_password"] is True
    assert api.client.get("/api/users").status_code == 403  # nothing but the password change until then
    changed = api.client.post("/api/auth/password",
                              json={"current_password": first.password, "new_password": "admin-chosen-pass"})
    assert changed.status_code == 204
    assert api.client.get("/api/users").status_code == 200


def works(api: ApiHarness, headers: dict[str, str]) -> bool:
    return api.client.get("/api/auth/me", headers=headers).status_code == 200


def test_own_password_change_revokes_api_tokens_and_ends_the_other_sessions(api: ApiHarness) -> None:
    user = api.user("operator")  # comes with an API token
    login(api, user.username)
    other_session = api.client.cookies.get("vigil_session")
    api.client.cookies.clear()
    login(api, user.username)
    changed = api.client.post("/api/auth/password", json={"current_password": PASSWORD,
                                                          "new_password": "a-new-long-one"})
    assert changed.status_code == 204
    assert api.client.get("/api/auth/me").status_code == 200  # the session that changed it stays
    assert not works(api, user.headers)
    assert not works(api, {"Cookie": f"vigil_session={other_session}"})
    revoked = api.conn.execute("SELECT after FROM audit_log WHERE action = 'token.revoke'").fetchall()
    assert [r["after"] for r in revoked] == [{"reason": "password_change"}]


def test_an_admin_reset_revokes_the_users_api_tokens(api: ApiHarness) -> None:
    admin, user = api.user("admin"), api.user("manager")
    reset = api.client.post(f"/api/users/{user.id}/password", json={"password": "reset-by-admin-1"},
                            headers=admin.headers)
    assert reset.status_code == 204
    assert not works(api, user.headers)
    assert works(api, admin.headers)


def test_deactivation_revokes_api_tokens_for_good(api: ApiHarness) -> None:
    admin, user = api.user("admin"), api.user("engineer")
    login(api, user.username)
    session = api.client.cookies.get("vigil_session")
    api.client.cookies.clear()
    assert api.client.patch(f"/api/users/{user.id}", json={"active": False}, headers=admin.headers).status_code == 200
    assert api.client.patch(f"/api/users/{user.id}", json={"active": True}, headers=admin.headers).status_code == 200
    assert not works(api, user.headers)  # re-enabling the user revives neither its token nor its session
    assert not works(api, {"Cookie": f"vigil_session={session}"})


def test_an_admin_lists_and_revokes_another_users_tokens(api: ApiHarness) -> None:
    admin, user = api.user("admin"), api.user("operator")
    listed = api.client.get(f"/api/users/{user.id}/tokens", headers=admin.headers)
    assert listed.status_code == 200
    [token] = listed.json()
    assert token["user_id"] == user.id and token["revoked_at"] is None and "token" not in token
    assert user.token not in listed.text
    revoked = api.client.delete(f"/api/users/{user.id}/tokens/{token['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    assert not works(api, user.headers)
    again = api.client.delete(f"/api/users/{user.id}/tokens/{token['id']}", headers=admin.headers)
    assert again.status_code == 404 and again.json()["code"] == "token_not_found"
    assert api.client.get(f"/api/users/{user.id}/tokens", headers=admin.headers).json()[0]["revoked_at"]
    row = api.conn.execute("SELECT user_id, object_id FROM audit_log WHERE action = 'token.revoke'").fetchone()
    assert row == {"user_id": admin.id, "object_id": str(token["id"])}
