"""The audit log: one row per change a person makes, with who, when, and the before/after state."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_api.roles import Principal

SECRET_KEYS = frozenset({"password", "password_hash", "password_enc", "secret", "token", "token_hash",
                         "key", "key_hash", "current_password", "new_password"})


def scrub(value: Any) -> Any:
    """A copy with secrets removed (camera and user passwords, tokens), JSON-safe."""
    if isinstance(value, dict):
        return {k: ("***" if k in SECRET_KEYS and v is not None else scrub(v)) for k, v in value.items()
                if not (k in SECRET_KEYS and v is None)}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return "***"
    return json.loads(json.dumps(value, default=str)) if not isinstance(value, str | int | float | bool) \
        and value is not None else value


def record(conn: psycopg.Connection, who: Principal | None, action: str, object_type: str | None = None,
           object_id: Any = None, before: Any = None, after: Any = None, remote_addr: str | None = None,
           username: str | None = None) -> None:
    """Write one audit row (in the caller's transaction, when it has one)."""
    conn.execute(
        "INSERT INTO audit_log (user_id, username, action, object_type, object_id, before, after, remote_addr)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (who.user_id if who else None, who.username if who else username, action, object_type,
         None if object_id is None else str(object_id),
         None if before is None else Jsonb(scrub(before)), None if after is None else Jsonb(scrub(after)),
         remote_addr),
    )
