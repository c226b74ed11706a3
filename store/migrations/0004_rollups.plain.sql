-- Rollups on plain PostgreSQL, built to answer exactly like TimescaleDB's real-time continuous aggregates:
-- a materialized table holds the buckets before a watermark, and a view with the cagg's name adds the
-- buckets after it, aggregated on read. vigil_refresh_rollups() (called by the writer's maintenance)
-- recomputes the buckets written since the last refresh and moves the watermark.

CREATE TABLE rollup_watermarks (name text PRIMARY KEY, watermark timestamptz NOT NULL);
INSERT INTO rollup_watermarks VALUES ('hourly', '-infinity'), ('daily', '-infinity');

CREATE FUNCTION vigil_watermark(which text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$ SELECT watermark FROM rollup_watermarks WHERE name = which $$;

-- Local midnight in Asia/Ho_Chi_Minh, as time_bucket('1 day', ts, 'Asia/Ho_Chi_Minh') computes it.
CREATE FUNCTION vigil_local_day(ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc('day', ts AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh'
$$;

CREATE TABLE rollup_observation_hourly (
    bucket timestamptz NOT NULL, camera_id bigint NOT NULL, zone_id bigint, metric text NOT NULL,
    samples bigint NOT NULL, total double precision NOT NULL, low double precision, high double precision);
CREATE UNIQUE INDEX rollup_observation_hourly_key
    ON rollup_observation_hourly (camera_id, metric, zone_id, bucket) NULLS NOT DISTINCT;
CREATE INDEX rollup_observation_hourly_bucket ON rollup_observation_hourly (bucket);

CREATE TABLE rollup_observation_daily (LIKE rollup_observation_hourly);
ALTER TABLE rollup_observation_daily RENAME COLUMN bucket TO day;
CREATE UNIQUE INDEX rollup_observation_daily_key
    ON rollup_observation_daily (camera_id, metric, zone_id, day) NULLS NOT DISTINCT;

CREATE TABLE rollup_counter_session_hourly (
    bucket timestamptz NOT NULL, counter_id bigint NOT NULL, sessions bigint NOT NULL,
    service_s_total double precision, service_s_max double precision, waits bigint NOT NULL,
    wait_s_total double precision, wait_s_max double precision, PRIMARY KEY (counter_id, bucket));
CREATE TABLE rollup_counter_session_daily (LIKE rollup_counter_session_hourly);
ALTER TABLE rollup_counter_session_daily RENAME COLUMN bucket TO day;
ALTER TABLE rollup_counter_session_daily ADD PRIMARY KEY (counter_id, day);

CREATE TABLE rollup_camera_health_hourly (
    bucket timestamptz NOT NULL, camera_id bigint NOT NULL, samples bigint NOT NULL,
    online_samples bigint NOT NULL, input_fps_total double precision, analytics_fps_total double precision,
    lag_s_max double precision, reconnects_max bigint, PRIMARY KEY (camera_id, bucket));

-- The live halves, aggregated from the raw tables exactly as the continuous aggregates define them.
CREATE VIEW live_observation_hourly AS
SELECT date_trunc('hour', time) AS bucket, camera_id, zone_id, metric,
       count(*) AS samples, sum(value) AS total, min(value) AS low, max(value) AS high
FROM observations GROUP BY 1, 2, 3, 4;

CREATE VIEW live_counter_session_hourly AS
SELECT date_trunc('hour', time) AS bucket, counter_id, count(*) AS sessions,
       sum(extract(epoch FROM service_end - time))::double precision AS service_s_total,
       max(extract(epoch FROM service_end - time))::double precision AS service_s_max,
       count(queue_enter) AS waits,
       coalesce(sum(extract(epoch FROM time - queue_enter)), 0)::double precision AS wait_s_total,
       max(extract(epoch FROM time - queue_enter))::double precision AS wait_s_max
FROM counter_sessions GROUP BY 1, 2;

CREATE VIEW live_camera_health_hourly AS
SELECT date_trunc('hour', time) AS bucket, camera_id, count(*) AS samples,
       sum(CASE WHEN state = 'online' THEN 1 ELSE 0 END)::bigint AS online_samples,
       sum(input_fps)::double precision AS input_fps_total,
       sum(analytics_fps)::double precision AS analytics_fps_total,
       max(lag_s)::double precision AS lag_s_max, max(reconnects) AS reconnects_max
FROM camera_health GROUP BY 1, 2;

CREATE VIEW observation_hourly AS
SELECT * FROM rollup_observation_hourly WHERE bucket < vigil_watermark('hourly')
UNION ALL
SELECT date_trunc('hour', time), camera_id, zone_id, metric, count(*), sum(value), min(value), max(value)
FROM observations WHERE time >= vigil_watermark('hourly') GROUP BY 1, 2, 3, 4;

CREATE VIEW counter_session_hourly AS
SELECT * FROM rollup_counter_session_hourly WHERE bucket < vigil_watermark('hourly')
UNION ALL
SELECT date_trunc('hour', time), counter_id, count(*),
       sum(extract(epoch FROM service_end - time))::double precision,
       max(extract(epoch FROM service_end - time))::double precision, count(queue_enter),
       coalesce(sum(extract(epoch FROM time - queue_enter)), 0)::double precision,
       max(extract(epoch FROM time - queue_enter))::double precision
FROM counter_sessions WHERE time >= vigil_watermark('hourly') GROUP BY 1, 2;

CREATE VIEW camera_health_hourly AS
SELECT * FROM rollup_camera_health_hourly WHERE bucket < vigil_watermark('hourly')
UNION ALL
SELECT date_trunc('hour', time), camera_id, count(*),
       sum(CASE WHEN state = 'online' THEN 1 ELSE 0 END)::bigint, sum(input_fps)::double precision,
       sum(analytics_fps)::double precision, max(lag_s)::double precision, max(reconnects)
FROM camera_health WHERE time >= vigil_watermark('hourly') GROUP BY 1, 2;

CREATE VIEW observation_daily AS
SELECT * FROM rollup_observation_daily WHERE day < vigil_watermark('daily')
UNION ALL
SELECT vigil_local_day(bucket), camera_id, zone_id, metric, sum(samples)::bigint, sum(total), min(low), max(high)
FROM observation_hourly WHERE bucket >= vigil_watermark('daily') GROUP BY 1, 2, 3, 4;

CREATE VIEW counter_session_daily AS
SELECT * FROM rollup_counter_session_daily WHERE day < vigil_watermark('daily')
UNION ALL
SELECT vigil_local_day(bucket), counter_id, sum(sessions)::bigint, sum(service_s_total), max(service_s_max),
       sum(waits)::bigint, sum(wait_s_total), max(wait_s_max)
FROM counter_session_hourly WHERE bucket >= vigil_watermark('daily') GROUP BY 1, 2;

-- Recompute the hourly buckets from min(dirty_from, hourly watermark) to the hour of `upto`, then the
-- local days they touch; move both watermarks. Safe to call from several writers (advisory lock).
CREATE FUNCTION vigil_refresh_rollups(dirty_from timestamptz DEFAULT NULL, upto timestamptz DEFAULT now())
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    old_wm timestamptz := vigil_watermark('hourly');
    new_wm timestamptz := greatest(date_trunc('hour', upto), old_wm);
    start_at timestamptz := least(old_wm, coalesce(date_trunc('hour', dirty_from), old_wm));
    day_start timestamptz;
    day_end timestamptz := vigil_local_day(new_wm);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('vigil_refresh_rollups'));
    IF start_at >= new_wm THEN
        RETURN;
    END IF;
    DELETE FROM rollup_observation_hourly WHERE bucket >= start_at AND bucket < new_wm;
    INSERT INTO rollup_observation_hourly
    SELECT * FROM live_observation_hourly WHERE bucket >= start_at AND bucket < new_wm;
    DELETE FROM rollup_counter_session_hourly WHERE bucket >= start_at AND bucket < new_wm;
    INSERT INTO rollup_counter_session_hourly
    SELECT * FROM live_counter_session_hourly WHERE bucket >= start_at AND bucket < new_wm;
    DELETE FROM rollup_camera_health_hourly WHERE bucket >= start_at AND bucket < new_wm;
    INSERT INTO rollup_camera_health_hourly
    SELECT * FROM live_camera_health_hourly WHERE bucket >= start_at AND bucket < new_wm;
    UPDATE rollup_watermarks SET watermark = new_wm WHERE name = 'hourly';

    day_start := CASE WHEN start_at = '-infinity' THEN start_at ELSE vigil_local_day(start_at) END;
    IF day_start < day_end THEN
        DELETE FROM rollup_observation_daily WHERE day >= day_start AND day < day_end;
        INSERT INTO rollup_observation_daily
        SELECT vigil_local_day(bucket), camera_id, zone_id, metric, sum(samples), sum(total), min(low), max(high)
        FROM rollup_observation_hourly WHERE bucket >= day_start AND bucket < day_end GROUP BY 1, 2, 3, 4;
        DELETE FROM rollup_counter_session_daily WHERE day >= day_start AND day < day_end;
        INSERT INTO rollup_counter_session_daily
        SELECT vigil_local_day(bucket), counter_id, sum(sessions), sum(service_s_total), max(service_s_max),
               sum(waits), sum(wait_s_total), max(wait_s_max)
        FROM rollup_counter_session_hourly WHERE bucket >= day_start AND bucket < day_end GROUP BY 1, 2;
        UPDATE rollup_watermarks SET watermark = greatest(watermark, day_end) WHERE name = 'daily';
    END IF;
END $$;
