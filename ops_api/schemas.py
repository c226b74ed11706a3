"""Request and response models shared by several routers (rows are never returned as they are stored)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ops_api.roles import Role

Username = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$", examples=["lan.nguyen"])


# Characters nobody types into a form: C0 and C1 controls (NUL, escape sequences, bell) and DEL. A name holding
# one is a paste gone wrong or an attack on whoever reads it later (a terminal, a log, a spreadsheet).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LAYOUT = re.compile(r"[\t\n\r\u2028\u2029]")  # fine in a note, not in a name shown on one line
MULTILINE_FIELDS = frozenset({"note", "reason", "remarks", "comment", "text", "address"})
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "secret", "token"})  # never shown


def control_position(text: str) -> int | None:
    """The 1-based position of the first control character in ``text`` (``_CONTROL``), or None."""
    found = _CONTROL.search(text)
    return found.start() + 1 if found else None


class PlainText(BaseModel):
    """A request body whose texts hold no control characters: a 422 naming the field (code ``control_character``
    or ``not_one_line``, with the 1-based ``position``) instead of a stored name that breaks a log line, a
    terminal or an export. Notes keep their tabs and line breaks; names, codes and the rest are one line.
    Passwords and secrets are taken as typed (they are only hashed or encrypted, never shown).
    ``tests/ops_api/test_api_plain_text.py`` holds every body the API accepts to this."""

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if name in SECRET_FIELDS:
            return value
        texts = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else ()
        for text in texts:
            if not isinstance(text, str):
                continue
            if found := _CONTROL.search(text):
                raise PydanticCustomError("control_character", "must not contain a control character (position "
                                          "{position})", {"position": found.start() + 1})
            if name not in MULTILINE_FIELDS and (found := _LAYOUT.search(text)):
                raise PydanticCustomError("not_one_line", "must be one line, without tabs or line breaks "
                                          "(position {position})", {"position": found.start() + 1})
        return value


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrictIn(StrictModel, PlainText):
    """A request body: unknown keys refused, texts plain."""


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None = None
    role: Role
    site_ids: list[int] | None = Field(None, description="Sites the user is limited to; null: every site.")
    province_ids: list[int] | None = Field(None, description="Whole provinces the user also sees (all their "
                                                             "centers, new ones included).")
    language: Literal["vi", "en"] = "vi"
    active: bool = True
    must_change_password: bool = False
    supervisor: bool = Field(False, description="Told (banner and sound) when an alarm of its sites is escalated.")
    locked_until: datetime | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> UserOut:
        return cls.model_validate({k: row.get(k) for k in cls.model_fields})


class TokenOut(StrictModel):
    """An API token as its owner and admins see it (never the secret)."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used: datetime | None = None
    revoked_at: datetime | None = None


class Page(BaseModel):
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null at the end.")


class EventOut(BaseModel):
    id: UUID
    seq: int
    time: datetime
    end_time: datetime | None = None
    site_id: int | None = None
    camera_id: int | None = None
    zone_id: int | None = None
    counter_id: int | None = None
    type: str
    severity: str
    status: str
    assignee_id: int | None = None
    track_id: int | None = None
    attributes: dict[str, Any] = {}
    evidence_url: str | None = None
    updated_at: datetime | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "0b6f3f7e-5b7c-4f0e-9a57-3f1f2c1d8e11", "seq": 1042, "time": "2026-11-20T02:15:00Z",
        "end_time": None, "site_id": 1, "camera_id": 3, "zone_id": 7, "counter_id": 2,
        "type": "officer_absent", "severity": "medium", "status": "new", "assignee_id": None,
        "track_id": None, "attributes": {"absent_s": 420}, "evidence_url": "/api/events/0b6f.../evidence",
        "updated_at": "2026-11-20T02:15:00Z"}]})

    @classmethod
    def of(cls, row: dict[str, Any]) -> EventOut:
        data = {k: row.get(k) for k in cls.model_fields if k != "evidence_url"}
        if row.get("evidence_path"):
            data["evidence_url"] = f"/api/events/{row['id']}/evidence"
        attributes = data.get("attributes")
        if isinstance(attributes, dict) and isinstance(attributes.get("evidence"), dict):
            # The rule stored file paths on the server; a client gets the address of each picture instead.
            data["attributes"] = {**attributes, "evidence": evidence_urls(row["id"], attributes["evidence"])}
        return cls.model_validate(data)


def evidence_urls(event_id: Any, evidence: dict[str, Any]) -> dict[str, str]:
    """An event's pictures as API addresses (label -> URL), never the server's file paths."""
    return {str(label): f"/api/events/{event_id}/evidence?label={quote(str(label), safe='')}"
            for label in evidence if label != "path"}


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON form of an event row, as the REST API, live stream, webhooks and MQTT send it."""
    return EventOut.of(row).model_dump(mode="json")


class AlarmOut(BaseModel):
    """An alarm: one incident (or a flood of one type on one camera, ``event_count`` events) to act on."""

    id: int
    site_id: int | None = None
    camera_id: int | None = None
    zone_id: int | None = None
    counter_id: int | None = None
    type: str
    severity: str
    priority: int = Field(description="1 (most urgent) .. 5")
    rule_id: int | None = Field(None, description="The alarm rule that raised it; null: the event's severity did.")
    status: str
    assignee_id: int | None = None
    event_count: int
    first_event_id: UUID
    first_time: datetime
    last_event_id: UUID
    last_time: datetime
    raised_at: datetime
    ack_due: datetime = Field(description="When it is escalated unless acknowledged (its priority's time).")
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    auto_closed: bool = False
    urgent: bool = Field(False, description="Escalated and still not acknowledged: first in the list.")
    updated_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any], ack_s: tuple[float, ...]) -> AlarmOut:
        data = {k: row.get(k) for k in cls.model_fields if k != "ack_due"}
        data["ack_due"] = row["raised_at"] + timedelta(seconds=ack_s[int(row["priority"]) - 1])
        return cls.model_validate(data)


def alarm_json(row: dict[str, Any], ack_s: tuple[float, ...]) -> dict[str, Any]:
    """The JSON form of an alarm row, as the REST API, live stream, webhooks and MQTT send it."""
    return AlarmOut.of(row, ack_s).model_dump(mode="json")
