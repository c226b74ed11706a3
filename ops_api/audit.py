"""The audit log: one row per change a person makes, with who, when, the before/after state, and the sites
the change concerns (so a site-scoped admin reads only its own sites' rows; ``store.audit_log``)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from ops_api.roles import Principal
from store import audit_log

_DERIVED: Any = object()  # record(): find the sites from the object (the default)

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
           username: str | None = None, site_ids: list[int] | None = _DERIVED) -> None:
    """Write one audit row (in the caller's transaction, when it has one). Its sites are ``site_ids`` when
    given (None: every site), else those of the object (``store.audit_log.sites_of``)."""
    if site_ids is _DERIVED:
        site_ids = audit_log.sites_of(conn, object_type, object_id, (before, after))
    audit_log.insert(conn, user_id=who.user_id if who else None, username=who.username if who else username,
                     action=action, object_type=object_type, object_id=None if object_id is None else str(object_id),
                     before=None if before is None else scrub(before), after=None if after is None else scrub(after),
                     remote_addr=remote_addr, site_ids=site_ids)
