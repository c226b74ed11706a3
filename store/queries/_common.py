"""Helpers the query modules share: dict rows whatever the connection's row factory, local days.

Id parameters are cast to bigint in the SQL (psycopg sends small ints as int2): besides matching the
columns exactly, it avoids a TimescaleDB 2.23-dev bug where int8 = int2 on a compressed, non-segmentby
column matches no row.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from store.errors import StoreInputError


def rows(conn: psycopg.Connection, query: Any, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def one(conn: psycopg.Connection, query: Any, params: Any = None) -> dict[str, Any] | None:
    found = rows(conn, query, params)
    return found[0] if found else None


def zone(name: str, field: str = "tz") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreInputError(field, f"unknown time zone {name!r}") from None


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of ``day`` in ``tz``, as aware datetimes."""
    info = zone(tz)
    start = datetime.combine(day, time(0), info)
    end = datetime.combine(day + timedelta(days=1), time(0), info)
    return start, end


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise StoreInputError(field, "must carry a time zone (naive datetimes are ambiguous)")
    return value


def match_any(clauses: list[sql.Composable], params: dict[str, Any], filters: Any) -> None:
    """Add ``column = value`` (one value) or ``column = ANY(values)`` for each ``(name, column, values, cast)`` of
    ``filters`` whose values are not None. One value is plain equality, which lets the planner read an index
    that starts with the column in order."""
    for name, column, values, cast in filters:
        if values is None:
            continue
        values = [str(v) for v in values] if cast == "text" else list(values)  # str: enum members too
        if len(values) == 1:
            clauses.append(sql.SQL("{} = %({})s::{}").format(sql.Identifier(column), sql.SQL(name), sql.SQL(cast)))
            params[name] = values[0]
        else:
            clauses.append(sql.SQL("{} = ANY(%({})s::{}[])").format(sql.Identifier(column), sql.SQL(name),
                                                                   sql.SQL(cast)))
            params[name] = values
