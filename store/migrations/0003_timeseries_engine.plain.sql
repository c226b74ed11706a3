-- Plain PostgreSQL: the same tables stay ordinary tables. Rows arrive roughly in time order, so a BRIN
-- index on time is tiny and prunes range scans and the retention delete on the two bulky tables; the
-- per-series B-tree unique keys from 0002 serve the console's per-camera reads.

CREATE INDEX observations_time_brin ON observations USING brin (time) WITH (pages_per_range = 32);
CREATE INDEX camera_health_time_brin ON camera_health USING brin (time) WITH (pages_per_range = 32);
CREATE INDEX counter_sessions_time_brin ON counter_sessions USING brin (time);

CREATE INDEX events_counter_idx ON events (counter_id, time DESC) WHERE counter_id IS NOT NULL;

-- Retention by a scheduled delete (the writer's maintenance calls it; TimescaleDB drops chunks instead).
CREATE FUNCTION vigil_apply_retention(raw_keep interval, events_keep interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    removed bigint := 0;
    n bigint;
BEGIN
    DELETE FROM observations WHERE time < now() - raw_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    DELETE FROM camera_health WHERE time < now() - raw_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    DELETE FROM events WHERE time < now() - events_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    DELETE FROM counter_sessions WHERE time < now() - events_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    DELETE FROM ticket_events WHERE time < now() - events_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    DELETE FROM ratings WHERE time < now() - events_keep;
    GET DIAGNOSTICS n = ROW_COUNT; removed := removed + n;
    RETURN removed;
END $$;
