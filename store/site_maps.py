"""Maps: each site's uploaded plan (its file, size in pixels), cameras' places on it (position: x, y in 0..1,
direction and field of view in degrees) and on the city map (latitude, longitude), the cameras configured as
neighbours, and what the map shows of each camera (state, open alarms). Within a site scope (None: every site)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from store.errors import NotFound
from store.queries._common import one, rows

_SCOPE = "(%(scope)s::bigint[] IS NULL OR {col} = ANY(%(scope)s::bigint[]))"
PLACEMENT_FIELDS = ("position", "latitude", "longitude")


def _scope(scope: Sequence[int] | None) -> list[int] | None:
    return list(scope) if scope is not None else None


def map_sites(conn: psycopg.Connection, scope: Sequence[int] | None) -> list[dict[str, Any]]:
    """The sites in scope with their place on the city map and their plan's size (none: no plan)."""
    return rows(conn, "SELECT id, code, name, kind, latitude, longitude, timezone, plan_image IS NOT NULL AS has_plan,"
                      " plan_width, plan_height, plan_updated_at FROM sites"
                      f" WHERE {_SCOPE.format(col='id')} ORDER BY name", {"scope": _scope(scope)})


def map_cameras(conn: psycopg.Connection, scope: Sequence[int] | None, site_id: int | None = None
                ) -> list[dict[str, Any]]:
    """Cameras in scope (of one site when given) with their places, state, neighbours and open alarms (how many,
    the most urgent priority, whether one is escalated and unacknowledged)."""
    return rows(conn, "SELECT c.id, c.site_id, c.name, c.state, c.state_since, c.enabled, c.position, c.latitude,"
                      " c.longitude, coalesce((SELECT array_agg(n.neighbour_id ORDER BY n.neighbour_id)"
                      "   FROM camera_neighbours n WHERE n.camera_id = c.id), '{}') AS neighbours,"
                      " coalesce(a.open, 0) AS open_alarms, a.priority AS alarm_priority,"
                      " coalesce(a.urgent, false) AS alarm_urgent"
                      " FROM cameras c LEFT JOIN LATERAL (SELECT count(*) AS open, min(priority) AS priority,"
                      "   bool_or(urgent) AS urgent FROM alarms WHERE camera_id = c.id AND status <> 'resolved') a"
                      f"   ON true WHERE {_SCOPE.format(col='c.site_id')}"
                      " AND (%(site)s::bigint IS NULL OR c.site_id = %(site)s::bigint) ORDER BY c.site_id, c.name",
                {"scope": _scope(scope), "site": site_id})


def site_plan(conn: psycopg.Connection, site_id: int, scope: Sequence[int] | None) -> dict[str, Any]:
    """The site's plan file (as stored) and size; NotFound for a site outside the scope."""
    found = one(conn, f"SELECT id, plan_image, plan_width, plan_height, plan_updated_at FROM sites"
                      f" WHERE id = %(id)s::bigint AND {_SCOPE.format(col='id')}",
                {"id": site_id, "scope": _scope(scope)})
    if found is None:
        raise NotFound("site")
    return found


def set_plan(conn: psycopg.Connection, site_id: int, path: str | None, width: int | None,
             height: int | None) -> dict[str, Any]:
    """Record the site's plan file and its size (None: no plan); the plan as it is now."""
    return one(conn, "UPDATE sites SET plan_image = %s, plan_width = %s, plan_height = %s, plan_updated_at = now(),"
                     " updated_at = now() WHERE id = %s::bigint"
                     " RETURNING id, plan_image, plan_width, plan_height, plan_updated_at",
               (path, width, height, site_id))  # type: ignore[return-value]


def placement(conn: psycopg.Connection, camera_id: int, scope: Sequence[int] | None) -> dict[str, Any]:
    """A camera's places (and site, name); NotFound outside the scope."""
    found = one(conn, f"SELECT id, site_id, name, position, latitude, longitude FROM cameras"
                      f" WHERE id = %(id)s::bigint AND {_SCOPE.format(col='site_id')}",
                {"id": camera_id, "scope": _scope(scope)})
    if found is None:
        raise NotFound("camera")
    return found


def set_placement(conn: psycopg.Connection, camera_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Set the given places (``PLACEMENT_FIELDS``) of a camera; its places as they are now."""
    values = {k: (Jsonb(v) if k == "position" and v is not None else v) for k, v in fields.items()
              if k in PLACEMENT_FIELDS}
    if values:
        sets = ", ".join(f"{k} = %({k})s" for k in values)
        conn.execute(f"UPDATE cameras SET {sets}, updated_at = now() WHERE id = %(id)s::bigint",
                     {**values, "id": camera_id})
    return placement(conn, camera_id, None)


def neighbours(conn: psycopg.Connection, camera_id: int) -> list[int]:
    return [int(r["neighbour_id"]) for r in rows(conn, "SELECT neighbour_id FROM camera_neighbours"
                                                       " WHERE camera_id = %s::bigint ORDER BY neighbour_id",
                                                 (camera_id,))]


def set_neighbours(conn: psycopg.Connection, camera_id: int, neighbour_ids: Sequence[int]) -> list[int]:
    """Make these (and only these) the camera's neighbours, both ways; the neighbours as they are now."""
    conn.execute("DELETE FROM camera_neighbours WHERE camera_id = %(c)s::bigint OR neighbour_id = %(c)s::bigint",
                 {"c": camera_id})
    for other in sorted(set(neighbour_ids) - {camera_id}):
        conn.execute("INSERT INTO camera_neighbours (camera_id, neighbour_id) VALUES (%(a)s::bigint, %(b)s::bigint),"
                     " (%(b)s::bigint, %(a)s::bigint) ON CONFLICT DO NOTHING", {"a": camera_id, "b": other})
    return neighbours(conn, camera_id)


def cameras_in_scope(conn: psycopg.Connection, camera_ids: Sequence[int], scope: Sequence[int] | None) -> set[int]:
    """Which of these cameras exist within the scope."""
    found = rows(conn, f"SELECT id FROM cameras WHERE id = ANY(%(ids)s::bigint[]) AND {_SCOPE.format(col='site_id')}",
                 {"ids": list(camera_ids), "scope": _scope(scope)})
    return {int(r["id"]) for r in found}


def related_cameras(conn: psycopg.Connection, camera_id: int, scope: Sequence[int] | None, at: datetime,
                    window_s: float) -> list[dict[str, Any]]:
    """The camera's neighbours in scope, each with the event picture of that camera taken nearest to ``at``
    within ``window_s`` either side (evidence_event_id, evidence_time; None when it has none)."""
    return rows(conn, "SELECT c.id, c.site_id, c.name, c.state, c.enabled, c.snapshot_path,"
                      " e.id AS evidence_event_id, e.time AS evidence_time"
                      " FROM camera_neighbours n JOIN cameras c ON c.id = n.neighbour_id"
                      " LEFT JOIN LATERAL (SELECT id, time FROM events WHERE camera_id = c.id"
                      "   AND evidence_path IS NOT NULL AND time BETWEEN %(at)s - make_interval(secs => %(w)s)"
                      "   AND %(at)s + make_interval(secs => %(w)s)"
                      "   ORDER BY abs(extract(epoch FROM time - %(at)s)) LIMIT 1) e ON true"
                      f" WHERE n.camera_id = %(camera)s::bigint AND {_SCOPE.format(col='c.site_id')}"
                      " ORDER BY c.name", {"camera": camera_id, "scope": _scope(scope), "at": at, "w": float(window_s)})
