"""Provinces: the level above the service centers since the two-level reform of 1 July 2025 (a province runs
one provincial center and one per commune). A province is within a user's scope when one of its sites is: a
commune manager sees its own province listed, with only its own center in it."""

from __future__ import annotations

from typing import Any

import psycopg

from store.errors import NotFound
from store.registry import SITE_COLUMNS
from store.registry_rows import Row, Scope

PROVINCE_COLUMNS = "id, code, name, created_at, updated_at"
_VISIBLE = ("(%(scope)s::bigint[] IS NULL OR EXISTS (SELECT 1 FROM sites s WHERE s.province_id = provinces.id"
            " AND s.id = ANY(%(scope)s::bigint[])))")


def _scope(scope: Scope) -> list[int] | None:
    return None if scope is None else sorted(scope)


def list_provinces(conn: psycopg.Connection, scope: Scope) -> list[Row]:
    """The provinces with a site within the scope (every one for None), by name, with how many centers each has
    within the scope."""
    return conn.execute(
        f"SELECT {PROVINCE_COLUMNS}, (SELECT count(*) FROM sites s WHERE s.province_id = provinces.id"
        " AND s.kind = 'service_center' AND (%(scope)s::bigint[] IS NULL OR s.id = ANY(%(scope)s::bigint[])))"
        f" AS centers FROM provinces WHERE {_VISIBLE} ORDER BY name", {"scope": _scope(scope)}).fetchall()


def find_province(conn: psycopg.Connection, province_id: int, scope: Scope = None) -> Row | None:
    return conn.execute(f"SELECT {PROVINCE_COLUMNS} FROM provinces WHERE id = %(id)s::bigint AND {_VISIBLE}",
                        {"id": province_id, "scope": _scope(scope)}).fetchone()


def get_province(conn: psycopg.Connection, province_id: int, scope: Scope = None) -> Row:
    found = find_province(conn, province_id, scope)
    if found is None:
        raise NotFound("province")
    return found


def province_by_code(conn: psycopg.Connection, code: str) -> Row | None:
    return conn.execute(f"SELECT {PROVINCE_COLUMNS} FROM provinces WHERE code = %s", (code,)).fetchone()


def insert_province(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    return conn.execute(f"INSERT INTO provinces (code, name) VALUES (%(code)s, %(name)s) RETURNING {PROVINCE_COLUMNS}",
                        fields).fetchone()


def update_province(conn: psycopg.Connection, province_id: int, fields: dict[str, Any]) -> Row:
    if set(fields) - {"name"}:
        raise ValueError(f"not a column one may write: {sorted(set(fields) - {'name'})}")
    found = conn.execute(f"UPDATE provinces SET name = coalesce(%(name)s, name), updated_at = now()"
                         f" WHERE id = %(id)s::bigint RETURNING {PROVINCE_COLUMNS}",
                         {"name": fields.get("name"), "id": province_id}).fetchone()
    if found is None:
        raise NotFound("province")
    return found


def delete_province(conn: psycopg.Connection, province_id: int) -> None:
    """Delete a province without sites (the database refuses one that still has sites: check first)."""
    if conn.execute("DELETE FROM provinces WHERE id = %s::bigint", (province_id,)).rowcount == 0:
        raise NotFound("province")


def province_has_sites(conn: psycopg.Connection, province_id: int) -> bool:
    return conn.execute("SELECT 1 FROM sites WHERE province_id = %s::bigint LIMIT 1",
                        (province_id,)).fetchone() is not None


def province_centers(conn: psycopg.Connection, province_id: int, scope: Scope) -> list[Row]:
    """The service centers of a province within the scope: the provincial center first, then by name."""
    return conn.execute(
        f"SELECT {SITE_COLUMNS} FROM sites WHERE province_id = %(id)s::bigint AND kind = 'service_center'"
        " AND (%(scope)s::bigint[] IS NULL OR id = ANY(%(scope)s::bigint[]))"
        " ORDER BY level = 'province' DESC, name", {"id": province_id, "scope": _scope(scope)}).fetchall()


def set_site_province(conn: psycopg.Connection, site_id: int, province_id: int | None) -> None:
    """Put a site in a province (None: in none); for the CLI and the demo (the API goes through its changes)."""
    conn.execute("UPDATE sites SET province_id = %s::bigint, updated_at = now() WHERE id = %s::bigint",
                 (province_id, site_id))
