"""Hourly and daily rollups per zone, camera and counter, read from the rollup relations (continuous
aggregates on TimescaleDB, watermarked tables + views on plain PostgreSQL: the same names and answers).

Daily rollups are stored by the local day in ``DAILY_TIMEZONE``; for a site in another zone the hourly
rollup is summed by that zone's days (exact for zones whose offset is a whole number of hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from store.errors import StoreInputError
from store.queries._common import aware, rows, zone

DAILY_TIMEZONE = "Asia/Ho_Chi_Minh"
Level = Literal["hour", "day"]


@dataclass(frozen=True)
class RollupRow:
    bucket: datetime  # start of the hour, or local midnight of the day
    camera_id: int
    zone_id: int | None  # None when grouped per camera
    metric: str
    samples: int
    total: float  # sum of the values (crossings for line_count:*, present samples for officer_present)
    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class _Source:
    """Where a level's buckets come from and how to name a bucket for a row alias."""

    observations: str
    sessions: str
    time_column: str
    regroup_tz: str | None = None  # sum hourly buckets into this zone's local days

    def bucket(self, alias: str) -> sql.Composable:
        column = sql.SQL(".").join([sql.Identifier(alias), sql.Identifier(self.time_column)])
        if self.regroup_tz is None:
            return column
        return sql.SQL("(date_trunc('day', {c} AT TIME ZONE {tz}) AT TIME ZONE {tz})").format(
            c=column, tz=sql.Literal(self.regroup_tz))


def _source(level: Level, tz: str) -> _Source:
    if level == "hour":
        return _Source("observation_hourly", "counter_session_hourly", "bucket")
    if level != "day":
        raise StoreInputError("level", "must be 'hour' or 'day'")
    zone(tz)
    if tz == DAILY_TIMEZONE:
        return _Source("observation_daily", "counter_session_daily", "day")
    return _Source("observation_hourly", "counter_session_hourly", "bucket", regroup_tz=tz)


def observation_rollup(conn: psycopg.Connection, level: Level, start: datetime, end: datetime, *,
                       per: Literal["zone", "camera"] = "zone", camera_ids: Sequence[int] | None = None,
                       zone_ids: Sequence[int] | None = None, metrics: Sequence[str] | None = None,
                       site_ids: Sequence[int] | None = None, tz: str = DAILY_TIMEZONE) -> list[RollupRow]:
    """Observation rollups in [start, end) per bucket, camera, zone (or camera only) and metric."""
    if per not in ("zone", "camera"):
        raise StoreInputError("per", "must be 'zone' or 'camera'")
    source = _source(level, tz)
    where = [sql.SQL("r.{t} >= %(start)s AND r.{t} < %(end)s").format(t=sql.Identifier(source.time_column))]
    params: dict[str, Any] = {"start": aware(start, "start"), "end": aware(end, "end")}
    for name, column, cast in (("camera_ids", "camera_id", "bigint[]"), ("zone_ids", "zone_id", "bigint[]"),
                               ("metrics", "metric", "text[]")):
        values = locals()[name]
        if values is not None:
            where.append(sql.SQL("{} = ANY(%({})s::{})").format(sql.Identifier(column), sql.SQL(name), sql.SQL(cast)))
            params[name] = list(values)
    if site_ids is not None:
        where.append(sql.SQL("camera_id IN (SELECT id FROM cameras WHERE site_id = ANY(%(site_ids)s::bigint[]))"))
        params["site_ids"] = list(site_ids)
    zone_column = sql.SQL("zone_id") if per == "zone" else sql.SQL("NULL::bigint")
    query = sql.SQL(
        "SELECT {bucket} AS bucket, camera_id, {zone} AS zone_id, metric, sum(samples)::bigint AS samples,"
        " sum(total) AS total, sum(total) / sum(samples) AS mean, min(low) AS low, max(high) AS high"
        " FROM {relation} r WHERE {where} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4"
    ).format(bucket=source.bucket("r"), zone=zone_column, relation=sql.Identifier(source.observations),
             where=sql.SQL(" AND ").join(where))
    return [RollupRow(**row) for row in rows(conn, query, params)]


@dataclass(frozen=True)
class CounterRollupRow:
    bucket: datetime
    counter_id: int
    presence_samples: int  # officer_present samples in the bucket
    present_share: float | None  # share of them with the officer present (0..1)
    # The queue the counter's camera sees (the rules write queue_length on each of its queue zones): the mean is
    # the sum of the zones' means, which is the mean of their sum since a camera samples its zones together.
    queue_mean: float | None
    # Each zone's highest length in the bucket, summed over the camera's zones: the longest queue when the camera
    # has one queue zone (or its zones peak at the same moment), otherwise an upper bound of it. The rollups keep
    # no per-moment sums; the daily audit's peak_queue and the timeline's highs are the exact longest queue.
    queue_max: float | None
    sessions: int  # citizens whose service started in the bucket
    service_mean_s: float | None
    waits: int  # sessions with a known queue time
    wait_mean_s: float | None
    wait_max_s: float | None


_COUNTER = """
WITH k AS (SELECT id, camera_id, staff_zone_id FROM counters WHERE id = ANY(%(ids)s::bigint[])),
presence AS (
    SELECT {obs_bucket} AS bucket, k.id AS counter_id, sum(o.samples)::bigint AS n,
           sum(o.total) / sum(o.samples) AS share
    FROM k JOIN {obs} o ON o.camera_id = k.camera_id AND o.zone_id = k.staff_zone_id AND o.metric = 'officer_present'
    WHERE o.{t} >= %(start)s AND o.{t} < %(end)s GROUP BY 1, 2),
queue AS (  -- the camera's zones: each zone's mean and high in the bucket, then summed (see CounterRollupRow)
    SELECT bucket, counter_id, sum(mean) AS mean, sum(high) AS high
    FROM (SELECT {obs_bucket} AS bucket, k.id AS counter_id, o.zone_id, sum(o.total) / sum(o.samples) AS mean,
                 max(o.high) AS high
          FROM k JOIN zones z ON z.camera_id = k.camera_id
          JOIN {obs} o ON o.camera_id = k.camera_id AND o.zone_id = z.id AND o.metric = 'queue_length'
          WHERE o.{t} >= %(start)s AND o.{t} < %(end)s GROUP BY 1, 2, 3) per_zone
    GROUP BY 1, 2),
served AS (
    SELECT {session_bucket} AS bucket, s.counter_id, sum(s.sessions)::bigint AS sessions,
           sum(s.service_s_total) / nullif(sum(s.sessions), 0) AS service_mean, sum(s.waits)::bigint AS waits,
           sum(s.wait_s_total) / nullif(sum(s.waits), 0) AS wait_mean, max(s.wait_s_max) AS wait_max
    FROM {sessions} s WHERE s.counter_id = ANY(%(ids)s::bigint[]) AND s.{t} >= %(start)s AND s.{t} < %(end)s
    GROUP BY 1, 2)
SELECT coalesce(p.bucket, q.bucket, v.bucket) AS bucket, coalesce(p.counter_id, q.counter_id, v.counter_id)
       AS counter_id, coalesce(p.n, 0) AS presence_samples, p.share AS present_share, q.mean AS queue_mean,
       q.high AS queue_max, coalesce(v.sessions, 0) AS sessions, v.service_mean AS service_mean_s,
       coalesce(v.waits, 0) AS waits, v.wait_mean AS wait_mean_s, v.wait_max AS wait_max_s
FROM presence p
FULL JOIN queue q ON q.bucket = p.bucket AND q.counter_id = p.counter_id
FULL JOIN served v ON v.bucket = coalesce(p.bucket, q.bucket) AND v.counter_id = coalesce(p.counter_id, q.counter_id)
ORDER BY 1, 2
"""


def counter_rollup(conn: psycopg.Connection, counter_ids: Sequence[int], level: Level, start: datetime,
                   end: datetime, tz: str = DAILY_TIMEZONE) -> list[CounterRollupRow]:
    """Per counter and hour/day: officer presence share, the queue its camera sees (its queue zones summed),
    citizens served, service and wait."""
    source = _source(level, tz)
    query = sql.SQL(_COUNTER).format(obs_bucket=source.bucket("o"), session_bucket=source.bucket("s"),
                                     obs=sql.Identifier(source.observations),
                                     sessions=sql.Identifier(source.sessions), t=sql.Identifier(source.time_column))
    params = {"ids": list(counter_ids), "start": aware(start, "start"), "end": aware(end, "end")}
    return [CounterRollupRow(**row) for row in rows(conn, query, params)]


@dataclass(frozen=True)
class CameraUptimeRow:
    bucket: datetime
    camera_id: int
    samples: int  # health samples in the bucket
    online_share: float  # of them, the share with the camera online (0..1)
    input_fps_mean: float | None
    analytics_fps_mean: float | None
    lag_s_max: float | None
    reconnects_max: int | None  # the reader's reconnect counter, highest seen


def camera_uptime(conn: psycopg.Connection, level: Level, start: datetime, end: datetime, *,
                  camera_ids: Sequence[int] | None = None, site_ids: Sequence[int] | None = None,
                  tz: str = DAILY_TIMEZONE) -> list[CameraUptimeRow]:
    """Camera health per hour or local day in [start, end): online share, frame rates, lag, reconnects."""
    if level not in ("hour", "day"):
        raise StoreInputError("level", "must be 'hour' or 'day'")
    bucket: sql.Composable = sql.SQL("h.bucket")
    if level == "day":
        zone(tz)
        bucket = sql.SQL("(date_trunc('day', h.bucket AT TIME ZONE {tz}) AT TIME ZONE {tz})").format(
            tz=sql.Literal(tz))
    where = [sql.SQL("h.bucket >= %(start)s AND h.bucket < %(end)s")]
    params: dict[str, Any] = {"start": aware(start, "start"), "end": aware(end, "end")}
    if camera_ids is not None:
        where.append(sql.SQL("h.camera_id = ANY(%(camera_ids)s::bigint[])"))
        params["camera_ids"] = list(camera_ids)
    if site_ids is not None:
        where.append(sql.SQL("h.camera_id IN (SELECT id FROM cameras WHERE site_id = ANY(%(site_ids)s::bigint[]))"))
        params["site_ids"] = list(site_ids)
    query = sql.SQL(
        "SELECT {bucket} AS bucket, h.camera_id, sum(h.samples)::bigint AS samples,"
        " sum(h.online_samples)::float8 / sum(h.samples) AS online_share,"
        " sum(h.input_fps_total) / sum(h.samples) AS input_fps_mean,"
        " sum(h.analytics_fps_total) / sum(h.samples) AS analytics_fps_mean,"
        " max(h.lag_s_max) AS lag_s_max, max(h.reconnects_max) AS reconnects_max"
        " FROM camera_health_hourly h WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(bucket=bucket, where=sql.SQL(" AND ").join(where))
    return [CameraUptimeRow(**row) for row in rows(conn, query, params)]
