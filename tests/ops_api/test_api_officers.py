"""Officers through the API, and the province scope: a commune manager sees its own center's officers and nothing
of another commune's; a province-wide manager sees every center of its province (one added later too) and nothing
of another province; officers are for managers and admins only; rosters are changed without rewriting the past;
a ticket system's log-in assigns the counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from ops_api.security import DEVICE_PREFIX, new_token, token_hash
from tests.support.api import ApiHarness, ApiUser, insert_event
from tests.support.centers import Center, add_officer, make_center, make_province

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Province:
    api: ApiHarness
    an_giang: int
    can_tho: int
    provincial: Center  # An Giang's provincial center
    long_xuyen: Center  # an An Giang commune
    chau_doc: Center  # another An Giang commune
    ninh_kieu: Center  # a Cần Thơ commune
    officers: dict[str, int]
    users: dict[str, ApiUser]


@pytest.fixture(scope="module")
def province(module_api: ApiHarness) -> Province:
    conn = module_api.conn
    an_giang, can_tho = make_province(conn, "an-giang", "Tỉnh An Giang"), make_province(conn, "can-tho", "TP Cần Thơ")
    provincial = make_center(conn, "ag-tinh", "Trung tâm PVHCC tỉnh An Giang", province_id=an_giang, level="province")
    long_xuyen = make_center(conn, "ag-long-xuyen", "Trung tâm phường Long Xuyên", province_id=an_giang)
    chau_doc = make_center(conn, "ag-chau-doc", "Trung tâm phường Châu Đốc", province_id=an_giang)
    ninh_kieu = make_center(conn, "ct-ninh-kieu", "Trung tâm phường Ninh Kiều", province_id=can_tho)
    officers = {"provincial": add_officer(conn, provincial.site_id, "Lê Văn Tỉnh", "AG-001"),
                "long_xuyen": add_officer(conn, long_xuyen.site_id, "Nguyễn Thị Xuyên", "LX-001"),
                "chau_doc": add_officer(conn, chau_doc.site_id, "Trần Văn Đốc", "CD-001"),
                "ninh_kieu": add_officer(conn, ninh_kieu.site_id, "Phạm Thị Kiều", "NK-001")}
    for center in (provincial, long_xuyen, chau_doc, ninh_kieu):
        insert_event(conn, center.site_id, center.camera_id, type="officer_absent", severity="medium",
                     counter_id=center.counters[0].id)
    users = {"an_giang": module_api.user("manager", province_ids=[an_giang]),
             "can_tho": module_api.user("manager", province_ids=[can_tho]),
             "long_xuyen": module_api.user("manager", site_ids=[long_xuyen.site_id]),
             "province_admin": module_api.user("admin", province_ids=[an_giang]),
             "site_admin": module_api.user("admin", site_ids=[long_xuyen.site_id]),
             "admin": module_api.user("admin"), "engineer": module_api.user("engineer"),
             "operator": module_api.user("operator")}
    return Province(module_api, an_giang, can_tho, provincial, long_xuyen, chau_doc, ninh_kieu, officers, users)


def get(p: Province, who: str, path: str, **params: object) -> httpx.Response:
    return p.api.client.get(path, params=params, headers=p.users[who].headers)


def names(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {o["full_name"] for o in response.json()}


def test_a_commune_manager_sees_its_own_officers_and_nothing_of_another_communes(province: Province) -> None:
    assert names(get(province, "long_xuyen", "/api/officers")) == {"Nguyễn Thị Xuyên"}
    chau_doc = province.officers["chau_doc"]
    assert get(province, "long_xuyen", f"/api/officers/{chau_doc}").status_code == 404
    assert get(province, "long_xuyen", f"/api/officers/{chau_doc}/report", month="2026-11").status_code == 404
    assert get(province, "long_xuyen", "/api/officers", site_id=province.chau_doc.site_id).status_code == 403
    assert get(province, "long_xuyen", f"/api/sites/{province.chau_doc.site_id}/roster").status_code == 404
    created = province.api.client.post("/api/officers", headers=province.users["long_xuyen"].headers, json={
        "site_id": province.chau_doc.site_id, "full_name": "Người lạ", "staff_code": "X-1"})
    assert created.status_code == 403
    # Its province is listed with its own center only; the overview holds nothing else.
    [listed] = get(province, "long_xuyen", "/api/provinces").json()
    assert (listed["id"], listed["centers"]) == (province.an_giang, 1)
    overview = get(province, "long_xuyen", f"/api/provinces/{province.an_giang}/overview", month="2026-11").json()
    assert [c["site_id"] for c in overview["centers"]] == [province.long_xuyen.site_id]


def test_a_province_manager_sees_every_center_of_its_province_and_nothing_of_another(province: Province) -> None:
    assert names(get(province, "an_giang", "/api/officers")) == {"Lê Văn Tỉnh", "Nguyễn Thị Xuyên", "Trần Văn Đốc"}
    assert get(province, "an_giang", f"/api/officers/{province.officers['ninh_kieu']}").status_code == 404
    sites = {s["id"] for s in get(province, "an_giang", "/api/sites").json()}
    assert sites == {province.provincial.site_id, province.long_xuyen.site_id, province.chau_doc.site_id}
    assert [p["id"] for p in get(province, "an_giang", "/api/provinces").json()] == [province.an_giang]
    assert get(province, "an_giang", f"/api/provinces/{province.can_tho}/overview", month="2026-11").status_code == 404
    overview = get(province, "an_giang", f"/api/provinces/{province.an_giang}/overview", month="2026-11").json()
    assert overview["centers"][0]["site_id"] == province.provincial.site_id  # the provincial center first
    assert {c["site_id"] for c in overview["centers"]} == sites
    events = get(province, "an_giang", "/api/events").json()["items"]
    assert events and {e["site_id"] for e in events} <= sites
    assert get(province, "an_giang", "/api/counters/live", site_id=province.ninh_kieu.site_id).status_code == 403
    # The other province's manager sees the mirror image.
    assert names(get(province, "can_tho", "/api/officers")) == {"Phạm Thị Kiều"}
    # A commune center added to An Giang later is in the province's scope at once.
    added = make_center(province.api.conn, "ag-tan-chau", "Trung tâm phường Tân Châu", province_id=province.an_giang)
    add_officer(province.api.conn, added.site_id, "Võ Văn Châu", "TC-001")
    assert "Võ Văn Châu" in names(get(province, "an_giang", "/api/officers"))
    assert "Võ Văn Châu" not in names(get(province, "can_tho", "/api/officers"))


def test_officers_are_for_managers_and_admins_only(province: Province) -> None:
    for role in ("engineer", "operator"):
        assert get(province, role, "/api/officers").status_code == 403
        assert get(province, role, f"/api/officers/{province.officers['long_xuyen']}/report",
                   month="2026-11").status_code == 403
    assert len(names(get(province, "admin", "/api/officers"))) >= 4


def test_province_scopes_are_given_only_from_within(province: Province) -> None:
    client = province.api.client
    body = {"password": "long-enough-pass", "role": "manager"}
    # A site-scoped admin cannot give a whole province (its future centers are not its own).
    refused = client.post("/api/users", headers=province.users["site_admin"].headers,
                          json={**body, "username": "mgr-ag-1", "province_ids": [province.an_giang]})
    assert refused.status_code == 403 and refused.json()["code"] == "province_outside_scope"
    # The province's own admin can; not another province.
    made = client.post("/api/users", headers=province.users["province_admin"].headers,
                       json={**body, "username": "mgr-ag-2", "province_ids": [province.an_giang]})
    assert made.status_code == 201, made.text
    assert (made.json()["province_ids"], made.json()["site_ids"]) == ([province.an_giang], [])
    other = client.post("/api/users", headers=province.users["province_admin"].headers,
                        json={**body, "username": "mgr-ct-1", "province_ids": [province.can_tho]})
    assert other.status_code == 403
    # It manages users of its province, not the global admin; a commune admin does not see a province user.
    listed = {u["username"] for u in client.get("/api/users", headers=province.users["province_admin"].headers).json()}
    assert "mgr-ag-2" in listed and province.users["admin"].username not in listed
    site_admin_sees = {u["username"] for u in client.get("/api/users",
                                                         headers=province.users["site_admin"].headers).json()}
    assert "mgr-ag-2" not in site_admin_sees
    # Only an admin of every site moves a site into a province.
    moved = client.patch(f"/api/sites/{province.long_xuyen.site_id}", headers=province.users["province_admin"].headers,
                         json={"province_id": province.can_tho})
    assert moved.status_code == 403 and moved.json()["code"] == "province_change_needs_every_site"
    assert client.patch(f"/api/sites/{province.long_xuyen.site_id}", headers=province.users["admin"].headers,
                        json={"level": "district"}).status_code == 422  # districts were abolished: read only


def today_in_hcm() -> date:
    return datetime.now(UTC).astimezone(HCM).date()


def test_rosters_change_without_rewriting_the_past(province: Province) -> None:
    client, headers = province.api.client, province.users["long_xuyen"].headers
    site, counter = province.long_xuyen.site_id, province.long_xuyen.counters[0].id
    officer = province.officers["long_xuyen"]
    colleague = client.post("/api/officers", headers=headers, json={"site_id": site, "full_name": "Đỗ Thị Hai",
                                                                    "staff_code": "LX-002"}).json()["id"]
    today = today_in_hcm()
    started = today - timedelta(days=10)
    entry = client.post(f"/api/sites/{site}/roster", headers=headers, json={
        "counter_id": counter, "officer_id": officer, "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "valid_from": started.isoformat()})
    assert entry.status_code == 201, entry.text
    clash = client.post(f"/api/sites/{site}/roster", headers=headers, json={
        "counter_id": counter, "officer_id": colleague, "weekdays": [1], "start": "13:30", "end": "17:00",
        "valid_from": today.isoformat()})
    assert clash.status_code == 409 and clash.json()["code"] == "roster_overlap"
    roster_id = entry.json()["id"]
    past = client.patch(f"/api/roster/{roster_id}", headers=headers,
                        json={"valid_until": (today - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json()["detail"][0]["code"] == "roster_end_in_past"
    assert client.delete(f"/api/roster/{roster_id}", headers=headers).status_code == 409
    # Reassigned from 10:00 today: the day splits at 10:00.
    split = client.post(f"/api/sites/{site}/roster-exceptions", headers=headers, json={
        "counter_id": counter, "officer_id": colleague, "day": today.isoformat(), "start": "10:00"})
    assert split.status_code == 201, split.text
    found = client.get(f"/api/sites/{site}/assignments", headers=headers).json()
    assert [(a["officer_id"], a["source"]) for a in found] == [(officer, "roster"), (colleague, "exception")]
    assert datetime.fromisoformat(found[1]["start"]).astimezone(HCM).strftime("%H:%M") == "10:00"
    assert client.get(f"/api/sites/{site}/assignments", headers=headers, params={
        "day": (today - timedelta(days=1)).isoformat()}).json()[0]["officer_id"] == officer
    audit = province.api.conn.execute("SELECT action, site_ids FROM audit_log WHERE action LIKE 'roster%%'"
                                      " ORDER BY id").fetchall()
    assert [a["action"] for a in audit] == ["roster.create", "roster_exception.create"]
    assert all(a["site_ids"] == [site] for a in audit)


def test_a_ticket_system_log_in_assigns_the_counter(province: Province) -> None:
    conn, site = province.api.conn, province.chau_doc.site_id
    key = new_token(DEVICE_PREFIX)
    conn.execute("INSERT INTO device_keys (device_id, kind, site_id, key_hash, prefix) VALUES ('qms-cd', "
                 "'ticket_machine', %s, %s, %s)", (site, token_hash(key), key[:10]))
    login = {"device_event_id": "login-1", "kind": "login", "counter_number": 1, "staff_code": "CD-001"}
    posted = province.api.client.post("/api/integrations/tickets", json=login, headers={"X-Device-Key": key})
    assert posted.status_code == 201, posted.text
    again = province.api.client.post("/api/integrations/tickets", json=login, headers={"X-Device-Key": key})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    unknown = province.api.client.post("/api/integrations/tickets", headers={"X-Device-Key": key}, json={
        **login, "device_event_id": "login-2", "staff_code": "NOBODY"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["code"] == "unknown_staff_code"
    found = get(province, "an_giang", f"/api/sites/{site}/assignments").json()
    assert [(a["officer_name"], a["source"]) for a in found] == [("Trần Văn Đốc", "checkin")]
    live = get(province, "an_giang", "/api/counters/live", site_id=site).json()
    assert (live[0]["officer"], live[0]["officer_id"]) == ("Trần Văn Đốc", province.officers["chau_doc"])
