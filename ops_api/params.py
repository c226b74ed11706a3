"""Dates and times the API accepts, in queries and bodies: ``Day`` and ``Moment`` are ``date`` and ``datetime``
limited to the years 2000..2100, so a day such as 9999-12-31 is a 422 naming its parameter instead of an
overflow deep in a query (Python's dates end at year 9999, PostgreSQL's day arithmetic earlier).

``out_of_range`` is the last resort for an ``OverflowError`` the validation did not foresee: it answers 422
(the request carried a number or date too large to work with) and logs where, so the check can be added.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from ops_api.errors import ApiError, problem

log = logging.getLogger("vigil.api")

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
RANGE = {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}


def _out_of_range() -> PydanticCustomError:
    return PydanticCustomError("date_out_of_range", "must be a date from {min} to {max}", RANGE)


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _out_of_range()
    return value


def _moment(value: datetime) -> datetime:
    # The date as written (local to its offset): 2100-12-31T23:00-14:00 is in range and still far from overflow.
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise _out_of_range()
    return value


def _month(value: str) -> date:
    first = date(int(value[:4]), int(value[5:7]), 1)
    if not FIRST_DAY <= first <= LAST_DAY:
        raise _out_of_range()
    return first


Day = Annotated[date, AfterValidator(_day)]
Moment = Annotated[datetime, AfterValidator(_moment)]
# A month as YYYY-MM, read as its first day.
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"), AfterValidator(_month)]


async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """An OverflowError while serving a request: the input held a value too large to compute with."""
    log.warning("a value out of range reached %s %s unvalidated (request %s): %s", request.method,
                request.url.path, request.scope.get("vigil.request_id", "-"), exc, exc_info=exc)
    return JSONResponse({"detail": [problem("(request)", "a value in the request is out of range",
                                            "value_out_of_range")]}, status_code=422)


def list_window(tz: Any, since: datetime | None, until: datetime | None,
                types: list[str] | None) -> tuple[datetime | None, datetime | None]:
    """A list's ``since``/``until`` (a time without an offset is in ``tz``, the database's time zone, as
    PostgreSQL itself would read it) and its event type names checked: a 422 naming the parameter otherwise."""
    since, until = (t.replace(tzinfo=tz) if t and t.tzinfo is None else t for t in (since, until))
    if since and until and since >= until:
        raise ApiError(422, "query.until", "must be after since", code="until_not_after_since")
    for name in types or ():
        if not name or len(name) > 64:
            raise ApiError(422, "query.type", "must be an event type name (1-64 characters)", code="invalid_event_type",
                           params={"max_length": 64})
    return since, until
