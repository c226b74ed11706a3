-- TimescaleDB: the time-series tables become hypertables (chunks by time) and the bulky ones are set up
-- for native compression. Compression, retention and rollup-refresh policies are added from the settings
-- by store/policies.py (they depend on store.retention_days etc., which a migration cannot know).

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('observations', by_range('time', INTERVAL '1 day'));
SELECT create_hypertable('camera_health', by_range('time', INTERVAL '1 day'));
SELECT create_hypertable('events', by_range('time', INTERVAL '7 days'));
SELECT create_hypertable('counter_sessions', by_range('time', INTERVAL '7 days'));
SELECT create_hypertable('ticket_events', by_range('time', INTERVAL '7 days'));
SELECT create_hypertable('ratings', by_range('time', INTERVAL '30 days'));

-- Segment by the series the console reads one at a time; newest first inside a segment.
ALTER TABLE observations SET (timescaledb.compress, timescaledb.compress_segmentby = 'camera_id, metric',
                              timescaledb.compress_orderby = 'time DESC');
ALTER TABLE camera_health SET (timescaledb.compress, timescaledb.compress_segmentby = 'camera_id',
                               timescaledb.compress_orderby = 'time DESC');

CREATE INDEX events_counter_idx ON events (counter_id, time DESC) WHERE counter_id IS NOT NULL;
