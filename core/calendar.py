"""A site's working-hours calendar: weekly sessions, holidays and extra working days.

The ``sites.working_hours`` jsonb column holds its dict form::

    {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": [["07:30", "11:30"]]},
     "holidays": ["2026-09-02"],
     "extra_days": {"2026-04-25": [["07:30", "11:30"]]},
     "timezone": "Asia/Ho_Chi_Minh"}

Rules: a holiday is closed all day; an extra day uses its own sessions (it wins over a holiday and over
the weekly sessions); otherwise the weekday's sessions apply and a weekday not listed is closed. An empty
mapping (no ``weekly`` key at all) means *always open*: a street camera has no working hours.
Session times are local ``HH:MM`` (``24:00`` may end a day); sessions of one day must not overlap.

``WorkingCalendar.from_dict(data, field="working_hours")`` validates and raises ``CalendarError`` whose
message names the field: ``working_hours.weekly.mon[1]: end 11:00 is before start 13:30``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$")
# An IANA zone name: Area/Location (Asia/Ho_Chi_Minh, America/Argentina/Salta, Etc/GMT-7), or UTC. Other files
# of the zone directory load in Python but PostgreSQL does not know them (localtime, posixrules, Factory,
# posix/..., right/...): a site with one breaks every query in its local time.
_ZONE_NAME = re.compile(r"^(UTC|[A-Z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+)$")

Session = tuple[int, int]  # minutes since local midnight: start, end (end <= 1440)


class CalendarError(ValueError):
    """A working-hours calendar that cannot be used; the message names the field at fault."""


def check_timezone(name: Any) -> str:
    """``name`` when it is an IANA time zone (Area/Location, or UTC) this machine knows; else CalendarError
    saying so (without a field: the caller names it)."""
    text = str(name)
    if isinstance(name, str) and _ZONE_NAME.match(text):
        try:
            ZoneInfo(text)
            return text
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise CalendarError(f"unknown time zone {text[:64]!r} (an IANA name such as Asia/Ho_Chi_Minh, or UTC)")


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours of a site. Build it with ``from_dict``; ``to_dict`` gives the stored form back."""

    weekly: Mapping[str, tuple[Session, ...]] | None = None  # None: always open
    holidays: frozenset[date] = frozenset()
    extra_days: Mapping[date, tuple[Session, ...]] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def always_open(cls, timezone: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
        return cls(weekly=None, timezone=timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, field: str = "working_hours",
                  default_timezone: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
        """Validate the stored/YAML form; raise CalendarError naming ``field.key[index]`` at fault."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise CalendarError(f"{field}: must be a mapping with weekly, holidays, extra_days, timezone")
        unknown = sorted(set(data) - {"weekly", "holidays", "extra_days", "timezone"})
        if unknown:
            raise CalendarError(f"{field}.{unknown[0]}: unknown key (weekly, holidays, extra_days, timezone)")
        try:
            timezone = check_timezone(default_timezone if data.get("timezone") is None else data["timezone"])
        except CalendarError as exc:
            raise CalendarError(f"{field}.timezone: {exc}") from None
        weekly = None
        if "weekly" in data and data["weekly"] is not None:
            raw_weekly = data["weekly"]
            if not isinstance(raw_weekly, Mapping):
                raise CalendarError(f"{field}.weekly: must map weekdays (mon..sun) to lists of sessions")
            weekly = {}
            for day, sessions in raw_weekly.items():
                key = str(day).strip().lower()[:3]
                if key not in WEEKDAYS:
                    raise CalendarError(f"{field}.weekly.{day}: unknown weekday (one of {', '.join(WEEKDAYS)})")
                weekly[key] = _parse_sessions(sessions, f"{field}.weekly.{day}")
        holidays = frozenset(_parse_date(d, f"{field}.holidays[{i}]")
                             for i, d in enumerate(_as_list(data.get("holidays"), f"{field}.holidays")))
        raw_extra = data.get("extra_days") or {}
        if not isinstance(raw_extra, Mapping):
            raise CalendarError(f"{field}.extra_days: must map dates (YYYY-MM-DD) to lists of sessions")
        extra = {_parse_date(d, f"{field}.extra_days.{d}"): _parse_sessions(s, f"{field}.extra_days.{d}")
                 for d, s in raw_extra.items()}
        return cls(weekly=weekly, holidays=holidays, extra_days=extra, timezone=timezone)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-safe); ``from_dict(to_dict())`` gives an equal calendar."""
        out: dict[str, Any] = {"timezone": self.timezone}
        if self.weekly is not None:
            out["weekly"] = {d: [_fmt_session(s) for s in self.weekly[d]] for d in WEEKDAYS if d in self.weekly}
        if self.holidays:
            out["holidays"] = [d.isoformat() for d in sorted(self.holidays)]
        if self.extra_days:
            out["extra_days"] = {d.isoformat(): [_fmt_session(s) for s in self.extra_days[d]]
                                 for d in sorted(self.extra_days)}
        return out

    # -- questions -----------------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_always_open(self) -> bool:
        return self.weekly is None and not self.holidays and not self.extra_days

    def sessions_on(self, day: date) -> tuple[Session, ...]:
        """The day's sessions in minutes since local midnight (empty: closed all day)."""
        if day in self.extra_days:
            return self.extra_days[day]
        if day in self.holidays:
            return ()
        if self.weekly is None:
            return ((0, 24 * 60),)
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as aware datetimes in the calendar's time zone, in order."""
        tz = self.tz
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        return [(_at(midnight, start), _at(midnight, end)) for start, end in self.sessions_on(day)]

    def is_open(self, moment: datetime) -> bool:
        """Whether the site is open at ``moment`` (naive datetimes are taken as the calendar's local time)."""
        local = moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(start <= minute < end for start, end in self.sessions_on(local.date()))

    def open_intervals_between(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Open intervals clipped to [start, end) (both aware), across as many days as needed."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("open_intervals_between needs aware datetimes")
        out: list[tuple[datetime, datetime]] = []
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        while day <= last:
            for a, b in self.open_intervals(day):
                lo, hi = max(a, start), min(b, end)
                if lo < hi:
                    out.append((lo, hi))
            day += timedelta(days=1)
        return out

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """How many seconds of [start, end) fall in working hours."""
        return sum((b - a).total_seconds() for a, b in self.open_intervals_between(start, end))


def _at(midnight: datetime, minutes: int) -> datetime:
    # Wall-clock arithmetic in the zone, so a DST day still gives local 07:30.
    naive = midnight.replace(tzinfo=None) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=midnight.tzinfo)


def _as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise CalendarError(f"{where}: must be a list")
    return list(value)


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_time(value: Any, where: str) -> int:
    match = _HHMM.match(str(value).strip())
    if not match:
        raise CalendarError(f"{where}: {value!r} is not a time (HH:MM)")
    hours, minutes = int(match["h"]), int(match["m"])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise CalendarError(f"{where}: {value!r} is not a time of day (00:00..24:00)")
    return hours * 60 + minutes


def _parse_sessions(value: Any, where: str) -> tuple[Session, ...]:
    sessions: list[Session] = []
    for i, item in enumerate(_as_list(value, where)):
        label = f"{where}[{i}]"
        if isinstance(item, str) and "-" in item:  # "07:30-11:30" is accepted too
            item = item.split("-", 1)
        if isinstance(item, str | bytes) or not isinstance(item, Iterable) or len(list(item)) != 2:
            raise CalendarError(f"{label}: a session is a pair [start, end] such as [\"07:30\", \"11:30\"]")
        raw_start, raw_end = list(item)
        start, end = _parse_time(raw_start, label), _parse_time(raw_end, label)
        if end <= start:
            raise CalendarError(f"{label}: end {_fmt(end)} is before start {_fmt(start)}"
                                if end < start else f"{label}: session is empty ({_fmt(start)}-{_fmt(end)})")
        if sessions and start < sessions[-1][1]:
            raise CalendarError(f"{label}: starts at {_fmt(start)}, before the previous session ends "
                                f"({_fmt(sessions[-1][1])}); list sessions in order without overlap")
        sessions.append((start, end))
    return tuple(sessions)


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fmt_session(session: Session) -> list[str]:
    return [_fmt(session[0]), _fmt(session[1])]
