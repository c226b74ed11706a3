"""Officers and who works which counter when: the weekly roster, a day's exceptions, and the log-ins a ticket
system reports (``officer_checkins``, written through ``store.integrations.record_once``).

Officers are read within a site scope like the registry (``NotFound`` outside it). Roster entries are never
edited, only ended (``valid_until``) or, before they start, deleted: the attribution of days gone by never
changes when the roster does. Local times travel as minutes since midnight (``24:00`` is 1440, which Python's
``time`` cannot hold) and are written as ``HH:MM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from store.errors import NotFound
from store.registry_rows import Row, Scope

OFFICER_COLUMNS = "id, site_id, full_name, staff_code, department, active, created_at, updated_at"
OFFICER_FIELDS = frozenset({"site_id", "full_name", "staff_code", "department", "active"})
_MINUTES = "(extract(epoch FROM {c}) / 60)::int"
ROSTER_COLUMNS = (f"r.id, r.counter_id, k.number AS counter_number, k.site_id, r.officer_id,"
                  f" o.full_name AS officer_name, r.weekdays, {_MINUTES.format(c='r.start_time')} AS start_minute,"
                  f" {_MINUTES.format(c='r.end_time')} AS end_minute, r.valid_from, r.valid_until, r.created_at")
EXCEPTION_COLUMNS = (f"x.id, x.counter_id, k.number AS counter_number, k.site_id, x.officer_id,"
                     f" o.full_name AS officer_name, x.day, {_MINUTES.format(c='x.start_time')} AS start_minute,"
                     f" {_MINUTES.format(c='x.end_time')} AS end_minute, x.note, x.created_at")
_ROSTER_FROM = ("officer_rosters r JOIN counters k ON k.id = r.counter_id JOIN officers o ON o.id = r.officer_id")
_EXCEPTION_FROM = ("officer_roster_exceptions x JOIN counters k ON k.id = x.counter_id"
                   " LEFT JOIN officers o ON o.id = x.officer_id")


def _scope(scope: Scope) -> list[int] | None:
    return None if scope is None else sorted(scope)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- officers -----------------------------------------------------------------------------------------------
def list_officers(conn: psycopg.Connection, scope: Scope, site_id: int | None = None) -> list[Row]:
    """The officers within the scope (of one site when given), by site and name."""
    return conn.execute(
        f"SELECT {OFFICER_COLUMNS} FROM officers WHERE (%(scope)s::bigint[] IS NULL OR site_id = ANY(%(scope)s))"
        " AND (%(site)s::bigint IS NULL OR site_id = %(site)s::bigint) ORDER BY site_id, full_name",
        {"scope": _scope(scope), "site": site_id}).fetchall()


def find_officer(conn: psycopg.Connection, officer_id: int, scope: Scope = None) -> Row | None:
    return conn.execute(f"SELECT {OFFICER_COLUMNS} FROM officers WHERE id = %(id)s::bigint"
                        " AND (%(scope)s::bigint[] IS NULL OR site_id = ANY(%(scope)s::bigint[]))",
                        {"id": officer_id, "scope": _scope(scope)}).fetchone()


def get_officer(conn: psycopg.Connection, officer_id: int, scope: Scope = None) -> Row:
    found = find_officer(conn, officer_id, scope)
    if found is None:
        raise NotFound("officer")
    return found


def officer_by_staff_code(conn: psycopg.Connection, site_id: int, staff_code: str) -> Row | None:
    """The active officer of a site with this staff code (a ticket system's log-in names officers so)."""
    return conn.execute(f"SELECT {OFFICER_COLUMNS} FROM officers WHERE site_id = %s::bigint AND staff_code = %s"
                        " AND active", (site_id, staff_code)).fetchone()


def insert_officer(conn: psycopg.Connection, fields: dict[str, Any]) -> Row:
    values = {k: v for k, v in fields.items() if k in OFFICER_FIELDS}
    return conn.execute(f"INSERT INTO officers ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})"
                        f" RETURNING {OFFICER_COLUMNS}", list(values.values())).fetchone()


def update_officer(conn: psycopg.Connection, officer_id: int, fields: dict[str, Any]) -> Row:
    unknown = set(fields) - (OFFICER_FIELDS - {"site_id"})
    if unknown:
        raise ValueError(f"not a column one may write: {sorted(unknown)}")
    if not fields:
        return get_officer(conn, officer_id)
    sets = "".join(f"{k} = %s, " for k in fields)
    found = conn.execute(f"UPDATE officers SET {sets}updated_at = now() WHERE id = %s RETURNING {OFFICER_COLUMNS}",
                         [*fields.values(), officer_id]).fetchone()
    if found is None:
        raise NotFound("officer")
    return found


# -- the weekly roster ---------------------------------------------------------------------------------------
def list_rosters(conn: psycopg.Connection, site_id: int, first_day: date | None = None,
                 last_day: date | None = None) -> list[Row]:
    """A site's roster entries in force some day of [first_day, last_day] (all when not given), by counter."""
    return conn.execute(
        f"SELECT {ROSTER_COLUMNS} FROM {_ROSTER_FROM} WHERE k.site_id = %(site)s::bigint"
        " AND (%(last)s::date IS NULL OR r.valid_from <= %(last)s::date)"
        " AND (%(first)s::date IS NULL OR r.valid_until IS NULL OR r.valid_until >= %(first)s::date)"
        " ORDER BY k.number, r.valid_from, r.id", {"site": site_id, "first": first_day, "last": last_day}).fetchall()


def find_roster(conn: psycopg.Connection, roster_id: int, scope: Scope) -> Row | None:
    return conn.execute(f"SELECT {ROSTER_COLUMNS} FROM {_ROSTER_FROM} WHERE r.id = %(id)s::bigint"
                        " AND (%(scope)s::bigint[] IS NULL OR k.site_id = ANY(%(scope)s::bigint[]))",
                        {"id": roster_id, "scope": _scope(scope)}).fetchone()


def roster_overlap(conn: psycopg.Connection, counter_id: int, weekdays: list[int], start: str, end: str,
                   valid_from: date, valid_until: date | None) -> Row | None:
    """An entry of the counter that would staff it at the same time (a weekday, hours and days in common)."""
    return conn.execute(
        f"SELECT {ROSTER_COLUMNS} FROM {_ROSTER_FROM} WHERE r.counter_id = %(counter)s::bigint"
        " AND r.weekdays && %(days)s::smallint[] AND r.start_time < %(end)s::time AND r.end_time > %(start)s::time"
        " AND (r.valid_until IS NULL OR r.valid_until >= %(from)s::date)"
        " AND (%(until)s::date IS NULL OR r.valid_from <= %(until)s::date) LIMIT 1",
        {"counter": counter_id, "days": weekdays, "start": start, "end": end, "from": valid_from,
         "until": valid_until}).fetchone()


def insert_roster(conn: psycopg.Connection, counter_id: int, officer_id: int, weekdays: list[int], start: str,
                  end: str, valid_from: date, valid_until: date | None) -> Row:
    created = conn.execute(
        "INSERT INTO officer_rosters (counter_id, officer_id, weekdays, start_time, end_time, valid_from,"
        " valid_until) VALUES (%s::bigint, %s::bigint, %s::smallint[], %s::time, %s::time, %s, %s) RETURNING id",
        (counter_id, officer_id, sorted(set(weekdays)), start, end, valid_from, valid_until)).fetchone()
    return conn.execute(f"SELECT {ROSTER_COLUMNS} FROM {_ROSTER_FROM} WHERE r.id = %s", (created["id"],)).fetchone()


def end_roster(conn: psycopg.Connection, roster_id: int, valid_until: date) -> Row:
    """The entry's last day (it never staffs the counter after it)."""
    conn.execute("UPDATE officer_rosters SET valid_until = %s WHERE id = %s::bigint", (valid_until, roster_id))
    return conn.execute(f"SELECT {ROSTER_COLUMNS} FROM {_ROSTER_FROM} WHERE r.id = %s", (roster_id,)).fetchone()


def delete_roster(conn: psycopg.Connection, roster_id: int) -> None:
    conn.execute("DELETE FROM officer_rosters WHERE id = %s::bigint", (roster_id,))


# -- a day's exceptions -------------------------------------------------------------------------------------
def list_exceptions(conn: psycopg.Connection, site_id: int, first_day: date, last_day: date) -> list[Row]:
    return conn.execute(
        f"SELECT {EXCEPTION_COLUMNS} FROM {_EXCEPTION_FROM} WHERE k.site_id = %s::bigint AND x.day BETWEEN %s AND %s"
        " ORDER BY x.day, k.number, x.start_time, x.id", (site_id, first_day, last_day)).fetchall()


def find_exception(conn: psycopg.Connection, exception_id: int, scope: Scope) -> Row | None:
    return conn.execute(f"SELECT {EXCEPTION_COLUMNS} FROM {_EXCEPTION_FROM} WHERE x.id = %(id)s::bigint"
                        " AND (%(scope)s::bigint[] IS NULL OR k.site_id = ANY(%(scope)s::bigint[]))",
                        {"id": exception_id, "scope": _scope(scope)}).fetchone()


def insert_exception(conn: psycopg.Connection, counter_id: int, officer_id: int | None, day: date, start: str,
                     end: str, note: str | None) -> Row:
    created = conn.execute(
        "INSERT INTO officer_roster_exceptions (counter_id, officer_id, day, start_time, end_time, note)"
        " VALUES (%s::bigint, %s::bigint, %s, %s::time, %s::time, %s) RETURNING id",
        (counter_id, officer_id, day, start, end, note)).fetchone()
    return conn.execute(f"SELECT {EXCEPTION_COLUMNS} FROM {_EXCEPTION_FROM} WHERE x.id = %s",
                        (created["id"],)).fetchone()


def delete_exception(conn: psycopg.Connection, exception_id: int) -> None:
    conn.execute("DELETE FROM officer_roster_exceptions WHERE id = %s::bigint", (exception_id,))


# -- what the ticket systems said ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkin:
    time: datetime
    counter_id: int
    officer_id: int
    kind: str  # login | logout


def list_checkins(conn: psycopg.Connection, site_id: int, start: datetime, end: datetime) -> list[Checkin]:
    """A site's log-ins and log-outs in [start, end), in time order."""
    found = conn.execute("SELECT time, counter_id, officer_id, kind FROM officer_checkins WHERE site_id = %s::bigint"
                         " AND time >= %s AND time < %s ORDER BY time, kind DESC", (site_id, start, end)).fetchall()
    return [Checkin(r["time"], r["counter_id"], r["officer_id"], r["kind"]) for r in found]
