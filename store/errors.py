"""Errors the store raises for bad input, so callers can tell a person which field is wrong."""

from __future__ import annotations


class StoreInputError(ValueError):
    """A value the store refuses; ``field`` names it (``event.site_id``, ``sites.working_hours.weekly.mon``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(ValueError):
    """No such object, or none within the caller's site scope (to a scoped user, another site's object does not
    exist); ``what`` names its kind: site, camera, zone, counter..."""

    def __init__(self, what: str, message: str | None = None) -> None:
        super().__init__(message or f"{what} not found")
        self.what = what
