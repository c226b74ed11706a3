"""Dates and times the API accepts, in queries and bodies: ``Day`` and ``Moment`` are ``date`` and ``datetime``
limited to the years 2000..2100, so a day such as 9999-12-31 is a 422 naming its parameter instead of an
overflow deep in a query (Python's dates end at year 9999, PostgreSQL's day arithmetic earlier).

``out_of_range`` is the last resort for an ``OverflowError`` the validation did not foresee: it answers 422
(the request carried a number or date too large to work with) and logs where, so the check can be added.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from ops_api.errors import problem

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
