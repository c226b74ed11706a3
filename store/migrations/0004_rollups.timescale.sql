-- Rollups as continuous aggregates (real-time: rows newer than the last refresh are aggregated on read).
-- Hourly rollups read the hypertables; daily ones are hierarchical, on top of the hourly ones, and
-- bucket by the local day in Asia/Ho_Chi_Minh, the product's default site time zone (queries for a site in
-- another zone aggregate the hourly rollup by that zone's days instead: store/queries/rollups.py).
-- The plain-PostgreSQL flavour builds relations with the same names and columns.

CREATE MATERIALIZED VIEW observation_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, camera_id, zone_id, metric,
       count(*) AS samples, sum(value) AS total, min(value) AS low, max(value) AS high
FROM observations
GROUP BY 1, 2, 3, 4
WITH NO DATA;

CREATE MATERIALIZED VIEW observation_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', bucket, 'Asia/Ho_Chi_Minh') AS day, camera_id, zone_id, metric,
       sum(samples)::bigint AS samples, sum(total) AS total, min(low) AS low, max(high) AS high
FROM observation_hourly
GROUP BY 1, 2, 3, 4
WITH NO DATA;

CREATE MATERIALIZED VIEW counter_session_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, counter_id,
       count(*) AS sessions,
       sum(extract(epoch FROM service_end - time))::double precision AS service_s_total,
       max(extract(epoch FROM service_end - time))::double precision AS service_s_max,
       count(queue_enter) AS waits,
       coalesce(sum(extract(epoch FROM time - queue_enter)), 0)::double precision AS wait_s_total,
       max(extract(epoch FROM time - queue_enter))::double precision AS wait_s_max
FROM counter_sessions
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW counter_session_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', bucket, 'Asia/Ho_Chi_Minh') AS day, counter_id,
       sum(sessions)::bigint AS sessions, sum(service_s_total) AS service_s_total,
       max(service_s_max) AS service_s_max, sum(waits)::bigint AS waits,
       sum(wait_s_total) AS wait_s_total, max(wait_s_max) AS wait_s_max
FROM counter_session_hourly
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW camera_health_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, camera_id,
       count(*) AS samples,
       sum(CASE WHEN state = 'online' THEN 1 ELSE 0 END)::bigint AS online_samples,
       sum(input_fps)::double precision AS input_fps_total,
       sum(analytics_fps)::double precision AS analytics_fps_total,
       max(lag_s)::double precision AS lag_s_max,
       max(reconnects) AS reconnects_max
FROM camera_health
GROUP BY 1, 2
WITH NO DATA;
