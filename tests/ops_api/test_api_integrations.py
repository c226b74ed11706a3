"""Integrations: ticket machines and satisfaction terminals post with device keys (idempotent by their
event id); events go out to a webhook receiver and to a real MQTT broker (Debian's mosquitto)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.support.api import ApiHarness, insert_event, seed_sites
from tests.support.net import free_port, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def until_event(received: queue.Queue, event_id: int, timeout: float = 10.0) -> list[tuple[object, bytes]]:
    """Messages received until the one carrying this event (included). The sites the tests seed hold events
    of their own, committed before the target was made: the hub may still be handing them out when it is."""
    messages = []
    while True:
        head, body = received.get(timeout=timeout)
        messages.append((head, body))
        if json.loads(body)["event"]["id"] == str(event_id):
            return messages


def register_device(api: ApiHarness, kind: str, site_id: int, counter_id: int | None = None) -> str:
    admin = api.user("admin")
    created = api.client.post("/api/devices", headers=admin.headers, json={
        "device_id": f"{kind}-{site_id}", "kind": kind, "site_id": site_id, "counter_id": counter_id})
    assert created.status_code == 201, created.text
    return created.json()["key"]


def test_ticket_machine_reports_are_recorded_once_however_often_they_are_sent(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    key = register_device(api, "ticket_machine", seeded.sites[0])
    body = {"device_event_id": "evt-1", "kind": "served", "ticket_number": "A015", "counter_number": 1}
    first = api.client.post("/api/integrations/tickets", json=body, headers={"X-Device-Key": key})
    again = api.client.post("/api/integrations/tickets", json=body, headers={"X-Device-Key": key})
    assert first.status_code == 201 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert first.json()["counter_id"] == seeded.counters[0]
    rows = api.conn.execute("SELECT count(*) AS n FROM ticket_events WHERE device_event_id = 'evt-1'").fetchone()
    assert rows["n"] == 1


def test_concurrent_retries_of_one_rating_land_once(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    key = register_device(api, "terminal", seeded.sites[0], seeded.counters[0])
    body = {"device_event_id": "r-9", "score": 4, "comment": "Nhanh chóng"}
    codes: list[int] = []

    def send() -> None:
        codes.append(api.client.post("/api/integrations/ratings", json=body, headers={"X-Device-Key": key}).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 5 + [201]
    assert api.conn.execute("SELECT count(*) AS n FROM ratings").fetchone()["n"] == 1


def test_devices_need_their_own_valid_key_and_kind(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    terminal_key = register_device(api, "terminal", seeded.sites[0])
    body = {"device_event_id": "x", "kind": "issued", "ticket_number": "B1"}
    assert api.client.post("/api/integrations/tickets", json=body).status_code == 422  # header missing, named
    assert api.client.post("/api/integrations/tickets", json=body,
                           headers={"X-Device-Key": "vgd_forged"}).status_code == 401
    assert api.client.post("/api/integrations/tickets", json=body,
                           headers={"X-Device-Key": terminal_key}).status_code == 403
    bad = api.client.post("/api/integrations/ratings", json={"device_event_id": "y", "score": 9},
                          headers={"X-Device-Key": terminal_key})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.score"


class _Receiver(BaseHTTPRequestHandler):
    received: queue.Queue

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, queue.Queue]]:
    received: queue.Queue = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_events_are_posted_to_webhooks_signed_and_filtered(api: ApiHarness, webhook_receiver) -> None:
    url, received = webhook_receiver
    seeded = seed_sites(api.conn, 1)
    admin = api.user("admin")
    created = api.client.post("/api/outbound", headers=admin.headers, json={
        "kind": "webhook", "name": "ioc", "url": url, "secret": "k3y", "event_types": ["wrong_way"]})
    assert created.status_code == 201 and created.json()["has_secret"] and "secret" not in created.json()
    insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="crowd")  # filtered out
    wanted = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="wrong_way")
    headers, body = received.get(timeout=10)
    message = json.loads(body)
    assert message["op"] == "insert" and message["event"]["id"] == str(wanted)
    expected = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert headers["x-vigil-signature"] == expected
    assert received.empty()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_events_are_published_to_a_real_mqtt_broker(mosquitto: int, api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 1)
    got: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
    client.on_message = lambda c, u, msg: got.put((msg.topic, msg.payload))
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", mosquitto)
    client.subscribe("city/events/#", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        admin = api.user("admin")
        created = api.client.post("/api/outbound", headers=admin.headers, json={
            "kind": "mqtt", "name": "broker", "url": f"mqtt://127.0.0.1:{mosquitto}/city"})
        assert created.status_code == 201
        event = insert_event(api.conn, seeded.sites[0], seeded.cameras[0], type="stopped_vehicle")
        topic, _ = until_event(got, event)[-1]
    finally:
        client.loop_stop()
        client.disconnect()
    assert topic == f"city/events/{seeded.sites[0]}/stopped_vehicle"


def test_a_site_scoped_admin_cannot_create_an_every_site_webhook_nor_receive_other_sites_events(
        api: ApiHarness, webhook_receiver) -> None:
    url, received = webhook_receiver
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    local_admin = api.user("admin", site_ids=[site_a])
    hook = {"kind": "webhook", "name": "district hook", "url": url}
    for site_ids in (None, [site_a, site_b], [site_b]):
        refused = api.client.post("/api/outbound", headers=local_admin.headers, json={**hook, "site_ids": site_ids})
        assert refused.status_code == 403, refused.text
    assert api.conn.execute("SELECT count(*) AS n FROM outbound_targets").fetchone()["n"] == 0
    own = api.client.post("/api/outbound", headers=local_admin.headers, json={**hook, "site_ids": [site_a]})
    assert own.status_code == 201
    insert_event(api.conn, site_b, seeded.cameras[1], type="intrusion")  # not its site: never sent to it
    wanted = insert_event(api.conn, site_a, seeded.cameras[0], type="intrusion")
    sent = [json.loads(body)["event"] for _, body in until_event(received, wanted)]
    assert {event["site_id"] for event in sent} == {site_a}
    assert received.empty()


def test_a_site_scoped_admin_sees_and_removes_only_its_own_sites_targets(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    admin, local_admin = api.user("admin"), api.user("admin", site_ids=[site_a])
    ids = {}
    for label, site_ids in (("every", None), ("b", [site_b]), ("a", [site_a])):
        created = api.client.post("/api/outbound", headers=admin.headers, json={
            "kind": "webhook", "name": label, "url": "http://127.0.0.1:9/hook", "site_ids": site_ids})
        ids[label] = created.json()["id"]
    assert [t["name"] for t in api.client.get("/api/outbound", headers=local_admin.headers).json()] == ["a"]
    for label in ("every", "b"):
        assert api.client.delete(f"/api/outbound/{ids[label]}", headers=local_admin.headers).status_code == 404
    assert api.client.delete(f"/api/outbound/{ids['a']}", headers=local_admin.headers).status_code == 204
    assert len(api.client.get("/api/outbound", headers=admin.headers).json()) == 2


def test_a_site_scoped_admin_cannot_create_a_device_for_another_site(api: ApiHarness) -> None:
    seeded = seed_sites(api.conn, 2)
    site_a, site_b = seeded.sites
    local_admin = api.user("admin", site_ids=[site_a])
    foreign = api.client.post("/api/devices", headers=local_admin.headers, json={
        "device_id": "kiosk-b", "kind": "ticket_machine", "site_id": site_b})
    assert foreign.status_code == 403 and foreign.json()["code"] == "site_outside_scope"
    assert api.conn.execute("SELECT count(*) AS n FROM device_keys").fetchone()["n"] == 0
    register_device(api, "terminal", site_b)  # by a global admin
    own = api.client.post("/api/devices", headers=local_admin.headers, json={
        "device_id": "kiosk-a", "kind": "ticket_machine", "site_id": site_a})
    assert own.status_code == 201
    listed = api.client.get("/api/devices", headers=local_admin.headers).json()
    assert [d["device_id"] for d in listed] == ["kiosk-a"]
    other = api.conn.execute("SELECT id FROM device_keys WHERE site_id = %s", (site_b,)).fetchone()["id"]
    assert api.client.delete(f"/api/devices/{other}", headers=local_admin.headers).status_code == 404
    assert api.conn.execute("SELECT active FROM device_keys WHERE id = %s", (other,)).fetchone()["active"]
