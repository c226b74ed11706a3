"""Texts that come in through the API hold no control characters. An escape sequence in a camera's name is a
trap for whoever reads the logs in a terminal, a NUL cannot be stored at all, and a line break inside a name
breaks every list and export it appears in. The request is refused with a 422 that names the field and the
position, nothing is stored, and notes keep their line breaks."""

from __future__ import annotations

import typing
from typing import Any, Literal

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from ops_api.routers import ROUTERS
from ops_api.schemas import PlainText
from tests.support.api import ApiHarness, insert_event, seed_sites


def _models(annotation: Any, found: set[type[BaseModel]]) -> None:
    if typing.get_origin(annotation) is Literal:
        return
    for arg in typing.get_args(annotation):
        _models(arg, found)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in found:
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, found)


def _holds_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) is Literal:
        return False
    return any(_holds_text(arg) for arg in typing.get_args(annotation)
               if not (isinstance(arg, type) and issubclass(arg, BaseModel)))


def test_every_body_the_api_accepts_checks_its_texts() -> None:
    bodies: set[type[BaseModel]] = set()
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for param in route.dependant.body_params:
                    _models(param.field_info.annotation, bodies)
    with_text = {m for m in bodies if any(_holds_text(f.annotation) for f in m.model_fields.values())}
    assert len(with_text) >= 30, sorted(m.__name__ for m in with_text)  # the walk found the API's bodies
    unchecked = sorted(f"{m.__module__}.{m.__name__}" for m in with_text if not issubclass(m, PlainText))
    assert not unchecked, f"request bodies that take text without refusing control characters: {unchecked}"


@pytest.fixture(scope="module")
def seeded(module_api: ApiHarness) -> Any:
    return seed_sites(module_api.conn, 1)


def _refused(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    return problem


def test_a_name_with_an_escape_sequence_or_a_line_break_is_refused_and_nothing_is_stored(
        module_api: ApiHarness, seeded: Any) -> None:
    admin = module_api.user("admin")
    client = module_api.client
    sites_before = client.get("/api/sites", headers=admin.headers).json()

    escape = client.post("/api/sites", headers=admin.headers,
                         json={"code": "q3-hcc", "name": "Quận 3\x1b[2J\x1b[31m"})
    assert _refused(escape) == {"field": "body.name", "code": "control_character", "params": {"position": 7},
                                "message": "must not contain a control character (position 7)"}
    broken = client.patch(f"/api/cameras/{seeded.cameras[0]}", headers=admin.headers,
                          json={"name": "Sảnh chính\nquầy 1"})
    assert _refused(broken)["field"] == "body.name" and _refused(broken)["code"] == "not_one_line"
    nul = client.post("/api/officers", headers=admin.headers,
                      json={"site_id": seeded.sites[0], "staff_code": "CB01", "full_name": "Trần\x00 Bình"})
    assert _refused(nul) == {"field": "body.full_name", "code": "control_character", "params": {"position": 5},
                             "message": "must not contain a control character (position 5)"}
    in_a_list = client.post("/api/outbound", headers=admin.headers, json={
        "kind": "webhook", "name": "IOC", "url": "https://ioc.example.vn/hook", "event_types": ["intrusion\x07"]})
    assert _refused(in_a_list)["field"] == "body.event_types"

    assert client.get("/api/sites", headers=admin.headers).json() == sites_before
    camera = client.get(f"/api/cameras/{seeded.cameras[0]}", headers=admin.headers).json()
    assert "\n" not in camera["name"]


def test_a_note_keeps_its_line_breaks_but_not_a_control_character(module_api: ApiHarness, seeded: Any) -> None:
    admin = module_api.user("admin")
    event_id = insert_event(module_api.conn, seeded.sites[0], seeded.cameras[0])
    base = f"/api/events/{event_id}/notes"
    kept = module_api.client.post(base, headers=admin.headers,
                                  json={"text": "Đã gọi đội trật tự.\nChờ phản hồi:\t5 phút"})
    assert kept.status_code in (200, 201), kept.text
    refused = module_api.client.post(base, headers=admin.headers, json={"text": "Đã gọi\x1b]8;;http://x\x07"})
    assert _refused(refused)["field"] == "body.text"
    notes = module_api.client.get(f"/api/events/{event_id}", headers=admin.headers).json()["notes"]
    assert [n["text"] for n in notes if n["text"]] == ["Đã gọi đội trật tự.\nChờ phản hồi:\t5 phút"]


def test_a_password_is_taken_as_typed(module_api: ApiHarness) -> None:
    # Passwords are hashed, never shown: a tab in one is the user's choice, not a broken name.
    admin = module_api.user("admin")
    created = module_api.client.post("/api/users", headers=admin.headers, json={
        "username": "thu.le", "password": "gió\tmùa đông bắc 2026", "role": "operator"})
    assert created.status_code == 201, created.text
    signed_in = module_api.client.post("/api/auth/login", json={"username": "thu.le",
                                                                "password": "gió\tmùa đông bắc 2026"})
    assert signed_in.status_code == 200, signed_in.text
