"""A camera's plan from the registry: the camera, its stream, zones and counters, its site's calendar."""

from __future__ import annotations

import psycopg

from cameras.crypto import SecretBox
from cameras.plan import CameraPlan, CounterPlan
from core.calendar import WorkingCalendar
from store import registry


def load_camera_plan(conn: psycopg.Connection, camera_id: int, box: SecretBox | None) -> CameraPlan:
    """Everything the vision worker needs to start one camera, read in one go.

    Raises ``registry.NotFound`` (no such camera), ``registry.RegistryError`` (no stream yet, or its password
    cannot be decrypted) or ``core.calendar.CalendarError`` (its site's working hours are invalid).
    """
    camera = registry.get_camera(conn, camera_id)
    site = registry.get_site(conn, camera.site_id)
    counters = tuple(CounterPlan(c.id, c.staff_zone_id, c.customer_zone_id)
                     for c in registry.counters_watched(conn, camera_id) if c.site_id == site.id and c.id is not None)
    return CameraPlan(
        camera_id=camera_id,
        zones=tuple(registry.list_zones(conn, camera_id)),
        counters=counters,
        calendar=WorkingCalendar.from_dict(site.working_hours or None, default_timezone=site.timezone),
        site_id=site.id,
        name=camera.name,
        source=registry.camera_source(conn, camera_id, box),
        capacity=site.capacity,
    )
