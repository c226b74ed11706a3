"""Every API error carries a stable code and its params beside the English field and message, so the console
can say it in Vietnamese; every code the server can send has a Vietnamese and an English text."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ops_api.error_codes import CODES, VALIDATION_CODES
from ops_api.roles import NOT_FOUND
from ops_api.routers.onboarding import ONVIF_CODES
from ops_api.security import MIN_PASSWORD_LENGTH
from tests.support.api import ApiHarness, seed_sites

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "console" / "static" / "i18n"
VI = json.loads((I18N / "vi.json").read_text(encoding="utf-8"))
EN = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
ALL_CODES = {**VALIDATION_CODES, **CODES}


@pytest.fixture(scope="module")
def seeded(module_api: ApiHarness) -> Any:
    return seed_sites(module_api.conn, 1)


def only_error(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    return detail[0]


# --- the shape of the answers --------------------------------------------------------------------------------


def test_a_pydantic_error_keeps_its_message_and_adds_its_type_and_limits(module_api: ApiHarness) -> None:
    admin = module_api.user("admin")
    response = module_api.client.post("/api/auth/tokens", json={"name": "x" * 101}, headers=admin.headers)
    assert only_error(response) == {"field": "body.name", "message": "String should have at most 100 characters",
                                    "code": "string_too_long", "params": {"max_length": 100}}
    broken = module_api.client.post("/api/sites", content=b"{not json",
                                    headers={**admin.headers, "content-type": "application/json"})
    error = only_error(broken)
    assert error["code"] == "json_invalid" and error["message"].startswith("body is not valid JSON")
    assert all(isinstance(v, str | int | float | bool) for v in error["params"].values()), error["params"]


def test_an_api_error_names_the_field_and_gives_a_code(module_api: ApiHarness) -> None:
    admin = module_api.user("admin")
    demote = module_api.client.patch(f"/api/users/{admin.id}", json={"role": "operator"}, headers=admin.headers)
    assert only_error(demote) == {"field": "body.role", "message": "you cannot demote or disable yourself",
                                  "code": "cannot_demote_self", "params": {}}
    other = module_api.user("operator")
    unknown = module_api.client.patch(f"/api/users/{other.id}", json={"site_ids": [987654]}, headers=admin.headers)
    assert only_error(unknown) == {"field": "body.site_ids", "message": "no site with id 987654",
                                   "code": "unknown_site", "params": {"site_id": 987654}}


def test_a_refused_password_says_why_with_the_minimum_length(module_api: ApiHarness) -> None:
    admin = module_api.user("admin")
    response = module_api.client.post("/api/users", headers=admin.headers, json={
        "username": "ngan.tran", "password": "short", "role": "operator"})
    assert only_error(response) == {"field": "body.password",
                                    "message": f"must be at least {MIN_PASSWORD_LENGTH} characters",
                                    "code": "password_too_short", "params": {"min_length": MIN_PASSWORD_LENGTH}}
    same = module_api.client.post("/api/users", headers=admin.headers, json={
        "username": "ngan.tran.2026", "password": "NGAN.TRAN.2026", "role": "operator"})
    assert only_error(same)["code"] == "password_same_as_username"


def test_a_geometry_error_names_the_zone_point_and_coordinates(module_api: ApiHarness, seeded: Any) -> None:
    admin = module_api.user("admin")
    outside = module_api.client.post(f"/api/cameras/{seeded.cameras[0]}/zones", headers=admin.headers, json={
        "name": "q", "kind": "queue", "points": [[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]})
    assert only_error(outside) == {"field": "body.points.1",
                                   "message": "zone 'q', point 2: (1.5, 0.1) is outside the image (0..1)",
                                   "code": "zone_point_outside",
                                   "params": {"zone": "q", "point": 2, "x": 1.5, "y": 0.1}}
    lane = module_api.client.post(f"/api/cameras/{seeded.cameras[0]}/zones", headers=admin.headers, json={
        "name": "làn-xe", "kind": "lane", "points": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]})
    error = only_error(lane)
    assert (error["field"], error["code"], error["params"]) == ("body.direction", "zone_needs_direction",
                                                                {"zone": "làn-xe", "kind": "lane"})


def test_errors_without_a_field_keep_their_text_and_add_a_code(module_api: ApiHarness) -> None:
    engineer = module_api.user("engineer")
    missing = module_api.client.get("/api/cameras/987654", headers=engineer.headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "camera not found", "code": "camera_not_found", "params": {}}
    forbidden = module_api.client.get("/api/users", headers=engineer.headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "role_not_permitted"
    assert forbidden.json()["params"] == {"role": "engineer", "permission": "users.admin"}
    anonymous = module_api.client.get("/api/sites")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_signed_in"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def test_a_body_too_large_says_the_limit(module_api: ApiHarness) -> None:
    admin = module_api.user("admin")
    huge = module_api.client.post("/api/sites", content=b"x" * 3_000_000, headers=admin.headers)
    limit = module_api.settings.api.max_body_bytes
    assert only_error(huge, 413) == {"field": "body", "message": f"request body is larger than {limit} bytes",
                                     "code": "body_too_large", "params": {"max_bytes": limit}}


# --- every code is known and translated ----------------------------------------------------------------------

# Where each raising call takes its code when it is passed by position.
CODE_POSITION = {"ApiError": 3, "ApiProblem": 2, "problem": 2, "unauthorized": 1, "AccountError": 2,
                 "PasswordProblem": 1, "GeometryError": None}
SOURCES = [*sorted((ROOT / "ops_api").rglob("*.py")), ROOT / "cameras" / "geometry.py"]


def raising_calls() -> list[tuple[str, str, ast.expr | None]]:
    """(where, callee, code argument or None) for every call that builds an API error in the server's code."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in CODE_POSITION and name != "HTTPException":
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            position = CODE_POSITION.get(name)
            if code is None and position is not None and len(node.args) > position:
                code = node.args[position]
            found.append((f"{path.relative_to(ROOT)}:{node.lineno}", name, code))
    return found


def test_every_error_the_server_raises_has_a_registered_code() -> None:
    calls = raising_calls()
    assert len(calls) > 80, "the scan finds the API's errors"
    bare = [where for where, name, _ in calls if name == "HTTPException" and not where.startswith("ops_api/errors.py")]
    assert bare == [], "raise ApiError or ApiProblem (with a code), not a bare HTTPException"
    without = [f"{where} {name}" for where, name, code in calls if code is None and name in ("ApiError", "ApiProblem")]
    assert without == [], "every ApiError and ApiProblem names its code"
    literal = {code.value for _, _, code in calls if isinstance(code, ast.Constant)}
    assert sorted(literal - set(CODES)) == []
    looked_up = set(NOT_FOUND.values()) | set(ONVIF_CODES.values()) | {"object_not_found", "camera_onvif_failed"}
    assert sorted(looked_up - set(CODES)) == []


def test_every_code_has_a_vietnamese_and_an_english_text_using_only_its_params() -> None:
    for code, params in ALL_CODES.items():
        key = f"errors.{code}"
        assert key in VI and key in EN, f"{key} is not translated"
        for text in (VI[key], EN[key]):
            assert set(re.findall(r"\{(\w+)\}", text)) <= set(params), f"{key} uses a param the API does not send"
    stale = sorted(k for k in VI if k.startswith("errors.") and k.removeprefix("errors.") not in ALL_CODES)
    assert stale == [], "translations of codes the API no longer sends"


# JSON Schema keywords of the request models -> the pydantic error types they can produce.
KEYWORD_TYPES = {"minLength": {"string_too_short"}, "maxLength": {"string_too_long"},
                 "pattern": {"string_pattern_mismatch"}, "minimum": {"greater_than_equal"},
                 "exclusiveMinimum": {"greater_than"}, "maximum": {"less_than_equal"},
                 "exclusiveMaximum": {"less_than"}, "minItems": {"too_short"}, "maxItems": {"too_long"},
                 "enum": {"literal_error", "enum"}, "const": {"literal_error"}, "required": {"missing"}}
TYPE_TYPES = {"string": {"string_type"}, "integer": {"int_type", "int_parsing", "int_from_float"},
              "number": {"float_type", "float_parsing"}, "boolean": {"bool_type", "bool_parsing"},
              "array": {"list_type"}, "object": {"dict_type", "model_attributes_type"}}
FORMAT_TYPES = {"uuid": {"uuid_type", "uuid_parsing"},
                "date-time": {"datetime_type", "datetime_parsing", "datetime_from_date_parsing"},
                "date": {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}}


def test_every_validation_error_the_request_models_can_produce_is_registered(tmp_path: Path) -> None:
    from core.settings import Settings
    from ops_api.app import create_app

    app = create_app(Settings(data_dir=tmp_path), "postgresql://nobody@127.0.0.1:1/none", live=False, outbound=False)
    produced = {"json_invalid"}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        if not isinstance(node, dict):
            return
        for keyword, types in KEYWORD_TYPES.items():
            if keyword in node and not (keyword == "required" and isinstance(node[keyword], bool)):
                produced.update(types)
        produced.update(TYPE_TYPES.get(node.get("type"), set()) if isinstance(node.get("type"), str) else set())
        if "format" in node:
            assert node["format"] in FORMAT_TYPES, f"map the format {node['format']!r} to its pydantic errors"
            produced.update(FORMAT_TYPES[node["format"]])
        if node.get("additionalProperties") is False:
            produced.add("extra_forbidden")
        for value in node.values():
            walk(value)

    walk(app.openapi())
    assert sorted(produced - set(VALIDATION_CODES)) == []
