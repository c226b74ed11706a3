"""A province's service centers side by side for a month: presence rate in working hours, citizens served, mean
and p90 wait, satisfaction rate, open alarms, and each day's trend.

Each center's figures are the sum of its counters' daily audits (``store.queries.audit``, the same walk over the
same samples, one query for the month), so the overview always agrees with the centers' own audit pages: minutes
and counts are added, means are weighted by what they average (waits by the citizens seen queueing, service by
sessions). A p90 cannot be added up: it is computed over the month's sessions themselves, per center and for the
province. Open alarms are the alarm center's alarms of the center not resolved now (a grouped flood counts once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from store.queries._common import local_day_bounds, rows
from store.queries.audit import CounterAudit, site_audits_of_days

_WAIT_P90 = """
SELECT x.site_id, percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM cs.time - cs.queue_enter)) AS p90
FROM unnest(%(sites)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS x(site_id, a, b)
JOIN counters k ON k.site_id = x.site_id
JOIN counter_sessions cs ON cs.counter_id = k.id AND cs.time >= x.a AND cs.time < x.b AND cs.queue_enter IS NOT NULL
GROUP BY GROUPING SETS ((x.site_id), ())
"""
_OPEN_ALARMS = ("SELECT site_id, count(*) AS n FROM alarms WHERE site_id = ANY(%s::bigint[]) AND status <> 'resolved'"
                " GROUP BY site_id")


@dataclass
class CenterFigures:
    """Summed daily audits of one center (or of the province: ``site_id`` None), for a month or one day."""

    site_id: int | None
    counters: int = 0
    minutes_open: float = 0.0
    minutes_staffed: float = 0.0
    minutes_unobserved: float = 0.0
    absences: int = 0
    sessions: int = 0
    service_total_s: float = 0.0
    waits: int = 0
    wait_total_s: float = 0.0
    wait_p90_s: float | None = None
    tickets_served: int | None = None
    ratings: int = 0
    rating_total: float = 0.0
    ratings_satisfied: int = 0
    open_alarms: int = 0
    days: list[CenterDay] = field(default_factory=list)

    def add(self, audit: CounterAudit) -> None:
        self.minutes_open += audit.minutes_open
        self.minutes_staffed += audit.minutes_staffed
        self.minutes_unobserved += audit.minutes_unobserved
        self.absences += len(audit.absences)
        self.sessions += audit.sessions
        self.service_total_s += (audit.service_mean_s or 0.0) * audit.sessions
        self.waits += audit.waits
        self.wait_total_s += (audit.wait_mean_s or 0.0) * audit.waits
        if audit.tickets_served is not None:
            self.tickets_served = (self.tickets_served or 0) + audit.tickets_served
        self.ratings += audit.ratings or 0
        self.rating_total += (audit.rating_mean or 0.0) * (audit.ratings or 0)
        self.ratings_satisfied += audit.ratings_satisfied or 0

    def merge(self, other: CenterFigures) -> None:
        """Add another center's sums (the province's row)."""
        for name in ("counters", "minutes_open", "minutes_staffed", "minutes_unobserved", "absences", "sessions",
                     "service_total_s", "waits", "wait_total_s", "ratings", "rating_total", "ratings_satisfied",
                     "open_alarms"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.tickets_served is not None:
            self.tickets_served = (self.tickets_served or 0) + other.tickets_served

    @property
    def presence_rate(self) -> float | None:
        """Staffed share of the observed working time (a camera that was down is not an absence)."""
        observed = self.minutes_open - self.minutes_unobserved
        return self.minutes_staffed / observed if observed > 0 else None

    @property
    def wait_mean_s(self) -> float | None:
        return self.wait_total_s / self.waits if self.waits else None

    @property
    def service_mean_s(self) -> float | None:
        return self.service_total_s / self.sessions if self.sessions else None

    @property
    def rating_mean(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.ratings_satisfied / self.ratings if self.ratings else None


@dataclass
class CenterDay:
    day: date
    figures: CenterFigures


@dataclass
class ProvinceMonth:
    centers: list[CenterFigures]
    total: CenterFigures


def center_month(conn: psycopg.Connection, site_id: int, days: Sequence[date]) -> CenterFigures:
    """One center's month: the sum of its counters' daily audits of ``days``, with each day's own sums."""
    audits = site_audits_of_days(conn, site_id, days)
    month = CenterFigures(site_id)
    for day in days:
        daily = CenterFigures(site_id)
        for audit in audits[day]:
            daily.add(audit)
            month.add(audit)
        month.days.append(CenterDay(day, daily))
    month.counters = max((len(found) for found in audits.values()), default=0)
    return month


def province_month(conn: psycopg.Connection, sites: Iterable[dict[str, Any]], days: Sequence[date]) -> ProvinceMonth:
    """Every given center's month (site rows with ``id`` and ``timezone``) and the province's sums."""
    sites = list(sites)
    centers = [center_month(conn, s["id"], days) for s in sites]
    total = CenterFigures(None)
    for center in centers:
        total.merge(center)
    if sites and days:
        bounds = [(local_day_bounds(days[0], s["timezone"])[0], local_day_bounds(days[-1], s["timezone"])[1])
                  for s in sites]
        by_site = {r["site_id"]: r["p90"] for r in rows(conn, _WAIT_P90, {
            "sites": [s["id"] for s in sites], "starts": [b[0] for b in bounds], "ends": [b[1] for b in bounds]})}
        alarms = {r["site_id"]: r["n"] for r in rows(conn, _OPEN_ALARMS, ([s["id"] for s in sites],))}
        for center in centers:
            center.wait_p90_s = _float(by_site.get(center.site_id))
            center.open_alarms = int(alarms.get(center.site_id, 0))
        total.wait_p90_s = _float(by_site.get(None))
        total.open_alarms = sum(c.open_alarms for c in centers)
    return ProvinceMonth(centers, total)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
