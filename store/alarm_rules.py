"""Alarm rules (which event types raise an alarm, at what priority, on what schedule; per site, camera or zone,
and the defaults of every site) and procedures (each type's checklist, per site or for every site), as managers
edit them within a site scope. The defaults (site NULL) are visible to everyone and changed by admins of every
site only; the store's trigger (migration 0050) is what reads them when an event arrives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from store.errors import NotFound
from store.queries._common import one, rows

RULE_COLUMNS = ("id, site_id, camera_id, zone_id, event_type, raises, priority, schedule, group_s, auto_close_s,"
                " created_at, updated_at")
RULE_FIELDS = ("site_id", "camera_id", "zone_id", "event_type", "raises", "priority", "schedule", "group_s",
               "auto_close_s")
PROCEDURE_COLUMNS = "id, site_id, event_type, steps, updated_at"
# Rows of every site (the defaults) are seen by everyone; a site's rows within the scope.
_VISIBLE = "(site_id IS NULL OR %(scope)s::bigint[] IS NULL OR site_id = ANY(%(scope)s::bigint[]))"


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (Jsonb(v) if k in ("schedule", "steps") and v is not None else v) for k, v in fields.items()}


# -- rules -------------------------------------------------------------------------------------------------
def list_rules(conn: psycopg.Connection, scope: Sequence[int] | None, site_id: int | None = None,
               event_type: str | None = None) -> list[dict[str, Any]]:
    """The rules within ``scope`` (and the defaults), those of ``site_id`` (and the defaults) when given; by
    type, then from the defaults to the most specific."""
    return rows(conn, f"SELECT {RULE_COLUMNS} FROM alarm_rules WHERE {_VISIBLE}"
                      " AND (%(site)s::bigint IS NULL OR site_id IS NULL OR site_id = %(site)s::bigint)"
                      " AND (%(type)s::text IS NULL OR event_type = %(type)s::text)"
                      " ORDER BY event_type, site_id NULLS FIRST, camera_id NULLS FIRST, zone_id NULLS FIRST, id",
                {"scope": list(scope) if scope is not None else None, "site": site_id, "type": event_type})


def get_rule(conn: psycopg.Connection, rule_id: int, scope: Sequence[int] | None) -> dict[str, Any]:
    found = one(conn, f"SELECT {RULE_COLUMNS} FROM alarm_rules WHERE id = %(id)s::bigint AND {_VISIBLE}",
                {"id": rule_id, "scope": list(scope) if scope is not None else None})
    if found is None:
        raise NotFound("alarm_rule")
    return found


def insert_rule(conn: psycopg.Connection, fields: dict[str, Any]) -> dict[str, Any]:
    values = _json({k: fields.get(k) for k in RULE_FIELDS if k in fields})
    return one(conn, f"INSERT INTO alarm_rules ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})"
                     f" RETURNING {RULE_COLUMNS}", list(values.values()))  # type: ignore[return-value]


def update_rule(conn: psycopg.Connection, rule_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    values = _json({k: v for k, v in fields.items() if k in RULE_FIELDS})
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    return one(conn, f"UPDATE alarm_rules SET {sets}, updated_at = now() WHERE id = %(id)s::bigint"
                     f" RETURNING {RULE_COLUMNS}", {**values, "id": rule_id})  # type: ignore[return-value]


def delete_rule(conn: psycopg.Connection, rule_id: int) -> None:
    conn.execute("DELETE FROM alarm_rules WHERE id = %s::bigint", (rule_id,))


def camera_site(conn: psycopg.Connection, camera_id: int) -> int | None:
    found = one(conn, "SELECT site_id FROM cameras WHERE id = %s::bigint", (camera_id,))
    return None if found is None else int(found["site_id"])


def zone_camera(conn: psycopg.Connection, zone_id: int) -> int | None:
    found = one(conn, "SELECT camera_id FROM zones WHERE id = %s::bigint", (zone_id,))
    return None if found is None else int(found["camera_id"])


def site_timezone(conn: psycopg.Connection, site_id: int) -> str | None:
    found = one(conn, "SELECT timezone FROM sites WHERE id = %s::bigint", (site_id,))
    return None if found is None else str(found["timezone"])


# -- procedures --------------------------------------------------------------------------------------------
def list_procedures(conn: psycopg.Connection, scope: Sequence[int] | None, site_id: int | None = None,
                    event_type: str | None = None) -> list[dict[str, Any]]:
    """The procedures within ``scope`` (and those of every site), by type, every site's first."""
    return rows(conn, f"SELECT {PROCEDURE_COLUMNS} FROM procedures WHERE {_VISIBLE}"
                      " AND (%(site)s::bigint IS NULL OR site_id IS NULL OR site_id = %(site)s::bigint)"
                      " AND (%(type)s::text IS NULL OR event_type = %(type)s::text)"
                      " ORDER BY event_type, site_id NULLS FIRST",
                {"scope": list(scope) if scope is not None else None, "site": site_id, "type": event_type})


def get_procedure(conn: psycopg.Connection, procedure_id: int, scope: Sequence[int] | None) -> dict[str, Any]:
    found = one(conn, f"SELECT {PROCEDURE_COLUMNS} FROM procedures WHERE id = %(id)s::bigint AND {_VISIBLE}",
                {"id": procedure_id, "scope": list(scope) if scope is not None else None})
    if found is None:
        raise NotFound("procedure")
    return found


def find_procedure(conn: psycopg.Connection, site_id: int | None, event_type: str) -> dict[str, Any] | None:
    """The procedure of exactly this site (None: every site) and type."""
    return one(conn, f"SELECT {PROCEDURE_COLUMNS} FROM procedures WHERE event_type = %s"
                     " AND site_id IS NOT DISTINCT FROM %s::bigint", (event_type, site_id))


def save_procedure(conn: psycopg.Connection, site_id: int | None, event_type: str,
                   steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Create or replace the checklist of this site (None: every site) and type; alarms raised from now on get
    it, open ones keep theirs."""
    existing = find_procedure(conn, site_id, event_type)
    if existing is None:
        return one(conn, f"INSERT INTO procedures (site_id, event_type, steps) VALUES (%s::bigint, %s, %s)"
                         f" RETURNING {PROCEDURE_COLUMNS}", (site_id, event_type, Jsonb(steps)))  # type: ignore
    return one(conn, f"UPDATE procedures SET steps = %s, updated_at = now() WHERE id = %s::bigint"
                     f" RETURNING {PROCEDURE_COLUMNS}", (Jsonb(steps), existing["id"]))  # type: ignore[return-value]


def delete_procedure(conn: psycopg.Connection, procedure_id: int) -> None:
    conn.execute("DELETE FROM procedures WHERE id = %s::bigint", (procedure_id,))
