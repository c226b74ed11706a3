-- The plain rollup views of 0004 compared each row with vigil_watermark(), a function that is not inlined
-- and so ran its lookup once per row (seconds on a month of rollups). A scalar sub-select is evaluated
-- once per query (an InitPlan) and can bound an index scan. Same columns, same answers.
-- (TimescaleDB has no such views: this version exists only in the plain flavour.)

CREATE OR REPLACE VIEW observation_hourly AS
SELECT * FROM rollup_observation_hourly
WHERE bucket < (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
UNION ALL
SELECT date_trunc('hour', time), camera_id, zone_id, metric, count(*), sum(value), min(value), max(value)
FROM observations WHERE time >= (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE VIEW counter_session_hourly AS
SELECT * FROM rollup_counter_session_hourly
WHERE bucket < (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
UNION ALL
SELECT date_trunc('hour', time), counter_id, count(*),
       sum(extract(epoch FROM service_end - time))::double precision,
       max(extract(epoch FROM service_end - time))::double precision, count(queue_enter),
       coalesce(sum(extract(epoch FROM time - queue_enter)), 0)::double precision,
       max(extract(epoch FROM time - queue_enter))::double precision
FROM counter_sessions WHERE time >= (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
GROUP BY 1, 2;

CREATE OR REPLACE VIEW camera_health_hourly AS
SELECT * FROM rollup_camera_health_hourly
WHERE bucket < (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
UNION ALL
SELECT date_trunc('hour', time), camera_id, count(*),
       sum(CASE WHEN state = 'online' THEN 1 ELSE 0 END)::bigint, sum(input_fps)::double precision,
       sum(analytics_fps)::double precision, max(lag_s)::double precision, max(reconnects)
FROM camera_health WHERE time >= (SELECT watermark FROM rollup_watermarks WHERE name = 'hourly')
GROUP BY 1, 2;

CREATE OR REPLACE VIEW observation_daily AS
SELECT * FROM rollup_observation_daily
WHERE day < (SELECT watermark FROM rollup_watermarks WHERE name = 'daily')
UNION ALL
SELECT vigil_local_day(bucket), camera_id, zone_id, metric, sum(samples)::bigint, sum(total), min(low), max(high)
FROM observation_hourly WHERE bucket >= (SELECT watermark FROM rollup_watermarks WHERE name = 'daily')
GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE VIEW counter_session_daily AS
SELECT * FROM rollup_counter_session_daily
WHERE day < (SELECT watermark FROM rollup_watermarks WHERE name = 'daily')
UNION ALL
SELECT vigil_local_day(bucket), counter_id, sum(sessions)::bigint, sum(service_s_total), max(service_s_max),
       sum(waits)::bigint, sum(wait_s_total), max(wait_s_max)
FROM counter_session_hourly WHERE bucket >= (SELECT watermark FROM rollup_watermarks WHERE name = 'daily')
GROUP BY 1, 2;

-- BRIN only prunes page ranges that are summarized; rows appended after CREATE INDEX are not until a
-- vacuum. Ask autovacuum to summarize each range as it fills (the refresh also summarizes first).
ALTER INDEX observations_time_brin SET (autosummarize = on);
ALTER INDEX camera_health_time_brin SET (autosummarize = on);
ALTER INDEX counter_sessions_time_brin SET (autosummarize = on);

-- The live halves scan "time >= watermark", which the planner cannot estimate (a third of the table) and
-- so plans parallel workers whose start-up costs more than the few rows after the watermark. The store's
-- queries never scan long ranges of raw rows (rollups answer those), so raw tables are read serially.
ALTER TABLE observations SET (parallel_workers = 0);
ALTER TABLE camera_health SET (parallel_workers = 0);
ALTER TABLE counter_sessions SET (parallel_workers = 0);

-- A counter's day is ~4,000 samples scattered over as many heap pages (every camera writes at once).
-- Carrying the value in the series key lets those reads be index-only scans once autovacuum has marked
-- the pages all-visible (TimescaleDB gets the same locality from compression segmented by camera).
CREATE UNIQUE INDEX observations_key_covering ON observations (camera_id, metric, zone_id, time)
    INCLUDE (value) NULLS NOT DISTINCT;
DROP INDEX observations_key;
ALTER INDEX observations_key_covering RENAME TO observations_key;
