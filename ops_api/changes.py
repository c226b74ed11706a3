"""Changes people make to the registry (sites, cameras, zones, counters): each within the user's sites and in one
transaction with its audit row (who, when, before and after), so that a router reads: validate -> call these ->
the store's ``NotFound`` is a 404 (``ops_api.errors``) -> the audit row is written here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import Request

from ops_api import audit
from ops_api.deps import client_addr
from ops_api.errors import ApiError
from ops_api.roles import Principal
from store import registry_rows as rows
from store.registry_rows import Row, Scope

Fields = dict[str, Any]
Check = Callable[[Row], None]  # raises an ApiError/ApiProblem to refuse a change, given the object as it is


@dataclass(frozen=True)
class Kind:
    """One kind of registry object: its name (audit actions ``<name>.create`` ...) and its store functions."""

    name: str
    get: Callable[[psycopg.Connection, int, Scope], Row]
    insert: Callable[[psycopg.Connection, Fields], Row]
    update: Callable[[psycopg.Connection, int, Fields], Row]
    delete: Callable[[psycopg.Connection, int], None]


SITE = Kind("site", rows.get_site, rows.insert_site, rows.update_site, rows.delete_site)
CAMERA = Kind("camera", rows.get_camera, rows.insert_camera, rows.update_camera, rows.delete_camera)
ZONE = Kind("zone", rows.get_zone, rows.insert_zone, rows.update_zone, rows.delete_zone)
COUNTER = Kind("counter", rows.get_counter, rows.insert_counter, rows.update_counter, rows.delete_counter)


def known_site(conn: psycopg.Connection, site_id: int, field: str = "body.site_id") -> None:
    """422 naming ``field`` when no site has this id."""
    if rows.find_site(conn, site_id) is None:
        raise ApiError(422, field, f"no site with id {site_id}", code="unknown_site", params={"site_id": site_id})


def create(conn: psycopg.Connection, request: Request, user: Principal, kind: Kind, fields: Fields, *,
           action: str = "create", insert: Callable[[psycopg.Connection, Fields], Row] | None = None) -> Row:
    """Insert the object (with ``insert`` instead of the kind's own, when given) and audit
    ``<kind>.<action>`` with the row stored."""
    with conn.transaction():
        row = (insert or kind.insert)(conn, fields)
        audit.record(conn, user, f"{kind.name}.{action}", kind.name, row["id"], after=row,
                     remote_addr=client_addr(request))
    return row


def update(conn: psycopg.Connection, request: Request, user: Principal, kind: Kind, object_id: int, fields: Fields,
           check: Check | None = None) -> Row:
    """Load the object within the user's sites (else ``NotFound``), let ``check`` refuse the change, save
    ``fields`` (none: nothing is written) and audit ``<kind>.update`` with before and after."""
    with conn.transaction():
        before = kind.get(conn, object_id, user.scope)
        if check is not None:
            check(before)
        after = kind.update(conn, object_id, fields) if fields else before
        audit.record(conn, user, f"{kind.name}.update", kind.name, object_id, before=before, after=after,
                     remote_addr=client_addr(request))
    return after


def delete(conn: psycopg.Connection, request: Request, user: Principal, kind: Kind, object_id: int,
           check: Check | None = None) -> None:
    """Load the object within the user's sites (else ``NotFound``), let ``check`` refuse, delete it and audit
    ``<kind>.delete`` with what it was."""
    with conn.transaction():
        before = kind.get(conn, object_id, user.scope)
        if check is not None:
            check(before)
        kind.delete(conn, object_id)
        audit.record(conn, user, f"{kind.name}.delete", kind.name, object_id, before=before,
                     remote_addr=client_addr(request))
