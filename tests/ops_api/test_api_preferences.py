"""Operators assign alarms to colleagues of their sites; anyone keeps their console language."""

from tests.support.api import ApiHarness, seed_sites


def test_assignees_are_operators_and_admins_sharing_the_callers_sites(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    me = api.user("operator", [site_a], name="op-a")
    colleague = api.user("operator", [site_a, site_b], name="op-ab")
    api.user("operator", [site_b], name="op-b")  # another site: not offered
    api.user("manager", [site_a], name="mgr-a")  # managers read events, they do not handle them
    admin = api.user("admin", name="boss")
    response = api.client.get("/api/events/assignees", headers=me.headers)
    assert response.status_code == 200
    names = {row["username"] for row in response.json()}
    assert names == {me.username, colleague.username, admin.username}
    event = seeded.events[0]
    assigned = api.client.post(f"/api/events/{event}/assign", headers=me.headers,
                               json={"assignee_id": colleague.id})
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == colleague.id


def test_a_user_saves_their_own_language_and_it_is_audited(api: ApiHarness) -> None:
    manager = api.user("manager", name="mgr")
    changed = api.client.patch("/api/auth/me", headers=manager.headers, json={"language": "en"})
    assert changed.status_code == 200 and changed.json()["language"] == "en"
    assert api.client.get("/api/auth/me", headers=manager.headers).json()["language"] == "en"
    row = api.conn.execute("SELECT action, after FROM audit_log WHERE user_id = %s ORDER BY id DESC LIMIT 1",
                           (manager.id,)).fetchone()
    assert row["action"] == "user.preferences" and row["after"] == {"language": "en"}
    refused = api.client.patch("/api/auth/me", headers=manager.headers, json={"language": "fr"})
    assert refused.status_code == 422 and "language" in refused.text
    role_change = api.client.patch("/api/auth/me", headers=manager.headers, json={"role": "admin"})
    assert role_change.status_code == 422  # only preferences: no way to raise one's own role
