"""A site-scoped admin stays inside its sites: it manages only users of its own sites, gives only its own
sites, cannot touch a global admin, create sites, nor read other sites' (or global) audit rows. Global admins
keep seeing everything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.support.api import PASSWORD, ApiHarness, ApiUser, Seeded, seed_sites


@dataclass(frozen=True)
class Scene:
    api: ApiHarness
    seeded: Seeded
    site_a: int
    site_b: int
    admin: ApiUser  # every site
    local_admin: ApiUser  # site A only


@pytest.fixture(scope="module")
def scene(module_api: ApiHarness) -> Scene:
    seeded = seed_sites(module_api.conn)
    site_a, site_b = seeded.sites
    return Scene(module_api, seeded, site_a, site_b, module_api.user("admin"),
                 module_api.user("admin", site_ids=[site_a]))


def name() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def site_ids_of(scene: Scene, user_id: int) -> list[int] | None:
    return scene.api.conn.execute("SELECT site_ids FROM users WHERE id = %s", (user_id,)).fetchone()["site_ids"]


def test_scoped_admin_cannot_give_a_user_every_site_or_another_site(scene: Scene) -> None:
    client, headers = scene.api.client, scene.local_admin.headers
    operator = scene.api.user("operator", site_ids=[scene.site_a])
    for body in ({"all_sites": True}, {"site_ids": None}, {"site_ids": []}, {"site_ids": [scene.site_a, scene.site_b]}):
        refused = client.patch(f"/api/users/{operator.id}", json=body, headers=headers)
        assert refused.status_code == 403, (body, refused.text)
        assert site_ids_of(scene, operator.id) == [scene.site_a]
    assert client.patch(f"/api/users/{operator.id}", json={"all_sites": True}, headers=scene.admin.headers).json()[
        "site_ids"] is None  # a global admin may


def test_scoped_admin_cannot_create_an_unscoped_or_foreign_admin(scene: Scene) -> None:
    client, headers = scene.api.client, scene.local_admin.headers
    body = {"password": "long-enough-pass", "role": "admin"}
    unscoped = client.post("/api/users", json={**body, "username": name()}, headers=headers)
    assert unscoped.status_code == 403 and unscoped.json()["code"] == "every_site_outside_scope"
    foreign = client.post("/api/users", json={**body, "username": name(), "site_ids": [scene.site_b]}, headers=headers)
    assert foreign.status_code == 403 and foreign.json()["code"] == "site_outside_scope"
    assert scene.api.conn.execute("SELECT count(*) AS n FROM users WHERE site_ids IS DISTINCT FROM %s::bigint[]"
                                  " AND username LIKE 'u-%%'", ([scene.site_a],)).fetchone()["n"] == 0
    own = client.post("/api/users", json={**body, "username": name(), "site_ids": [scene.site_a]}, headers=headers)
    assert own.status_code == 201 and own.json()["site_ids"] == [scene.site_a]


def test_scoped_admin_cannot_reset_the_global_admins_password_nor_see_it(scene: Scene) -> None:
    client, headers = scene.api.client, scene.local_admin.headers
    target = scene.admin.id
    reset = client.post(f"/api/users/{target}/password", json={"password": "i-own-you-now-1"}, headers=headers)
    assert reset.status_code == 404 and reset.json()["code"] == "user_not_found"
    assert client.get(f"/api/users/{target}", headers=headers).status_code == 404
    assert client.patch(f"/api/users/{target}", json={"active": False}, headers=headers).status_code == 404
    assert client.get(f"/api/users/{target}/tokens", headers=headers).status_code == 404
    listed = {u["id"] for u in client.get("/api/users", headers=headers).json()}
    assert target not in listed and scene.local_admin.id in listed
    other_site = scene.api.user("operator", site_ids=[scene.site_b])
    assert client.get(f"/api/users/{other_site.id}", headers=headers).status_code == 404
    # the global admin still signs in with its own password, and its token still works
    assert client.get("/api/auth/me", headers=scene.admin.headers).status_code == 200
    signed_in = client.post("/api/auth/login", json={"username": scene.admin.username, "password": PASSWORD})
    assert signed_in.status_code == 200
    client.cookies.clear()
    assert {u["id"] for u in client.get("/api/users", headers=scene.admin.headers).json()} >= {target, other_site.id}


def test_scoped_admin_cannot_create_sites_nor_change_other_sites(scene: Scene) -> None:
    client, headers = scene.api.client, scene.local_admin.headers
    created = client.post("/api/sites", json={"code": name(), "name": "Phường Bến Thành"}, headers=headers)
    assert created.status_code == 403 and created.json()["code"] == "site_create_needs_every_site"
    assert client.patch(f"/api/sites/{scene.site_b}", json={"capacity": 9}, headers=headers).status_code == 404
    assert client.patch(f"/api/sites/{scene.site_a}", json={"capacity": 90}, headers=headers).status_code == 200


def test_scoped_admin_reads_only_the_audit_rows_of_its_own_sites(scene: Scene) -> None:
    client = scene.api.client
    root = scene.api.user("admin")
    admin = root.headers
    assert client.patch(f"/api/sites/{scene.site_a}", json={"address": "A street"}, headers=admin).status_code == 200
    assert client.patch(f"/api/sites/{scene.site_b}", json={"address": "B street"}, headers=admin).status_code == 200
    assert client.patch(f"/api/users/{root.id}", json={"display_name": "Root"}, headers=admin).status_code == 200
    everything = client.get("/api/audit?limit=1000", headers=admin).json()["items"]
    assert {(r["object_type"], r["object_id"]) for r in everything} >= {
        ("site", str(scene.site_a)), ("site", str(scene.site_b)), ("user", str(root.id))}

    seen = client.get("/api/audit?limit=1000", headers=scene.local_admin.headers).json()["items"]
    objects = {(r["object_type"], r["object_id"]) for r in seen}
    assert ("site", str(scene.site_a)) in objects
    assert ("site", str(scene.site_b)) not in objects and ("user", str(root.id)) not in objects
    assert all(r["site_ids"] and set(r["site_ids"]) <= {scene.site_a} for r in seen), seen
    asked = client.get(f"/api/audit?object_type=site&object_id={scene.site_b}", headers=scene.local_admin.headers)
    assert asked.status_code == 200 and asked.json()["items"] == []


def test_audit_rows_carry_the_sites_of_what_they_changed(scene: Scene) -> None:
    client, root, seeded = scene.api.client, scene.api.user("admin").headers, scene.seeded
    a_user, b_user = scene.api.user("operator", site_ids=[scene.site_a]), scene.api.user("operator", [scene.site_b])
    for i, who in enumerate((a_user, b_user)):  # the same changes in each site, by a global admin
        assert client.patch(f"/api/cameras/{seeded.cameras[i]}", json={"analytics_fps": 3.0},
                            headers=root).status_code == 200
        assert client.post(f"/api/cameras/{seeded.cameras[i]}/zones", headers=root, json={
            "name": name(), "kind": "crowd", "points": [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]}).status_code == 201
        assert client.patch(f"/api/counters/{seeded.counters[i]}", json={"officer": "Lê Văn C"},
                            headers=root).status_code == 200
        assert client.post(f"/api/events/{seeded.events[3 * i]}/acknowledge", headers=root).status_code == 200
        assert client.post(f"/api/users/{who.id}/password", json={"password": "a-reset-password"},
                           headers=root).status_code == 204
    rows = scene.api.conn.execute("SELECT action, object_id, site_ids FROM audit_log WHERE action IN"
                                  " ('camera.update', 'zone.create', 'counter.update', 'event.acknowledge',"
                                  " 'user.passwd', 'token.revoke')").fetchall()
    by_site = {tuple(r["site_ids"] or ()) for r in rows}
    assert by_site == {(scene.site_a,), (scene.site_b,)}, rows
    seen = client.get("/api/audit?limit=1000", headers=scene.local_admin.headers).json()["items"]
    actions = {r["action"] for r in seen if r["site_ids"] == [scene.site_a]}
    assert actions >= {"camera.update", "zone.create", "counter.update", "event.acknowledge", "user.passwd",
                       "token.revoke"}
    assert not [r for r in seen if r["site_ids"] != [scene.site_a]]
