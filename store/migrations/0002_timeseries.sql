-- Time-series tables. Same columns on plain PostgreSQL and TimescaleDB; the flavour-specific part
-- (hypertables or BRIN indexes, rollups, policies) lives in the next migrations.
-- Idempotency: each table has a unique key the writer uses with ON CONFLICT, so a batch that is
-- written twice (spool replay after an outage) lands once.

CREATE TABLE observations (
    time       timestamptz NOT NULL,
    camera_id  bigint NOT NULL,
    zone_id    bigint,
    metric     text NOT NULL,
    value      double precision NOT NULL
);
CREATE UNIQUE INDEX observations_key ON observations (camera_id, metric, zone_id, time) NULLS NOT DISTINCT;

CREATE TABLE events (
    id             uuid NOT NULL,
    time           timestamptz NOT NULL,  -- start
    end_time       timestamptz,           -- NULL while the rule holds it open
    site_id        bigint,
    camera_id      bigint,
    zone_id        bigint,
    counter_id     bigint,
    type           text NOT NULL,
    severity       text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    status         text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'assigned', 'resolved')),
    assignee_id    bigint,
    track_id       bigint,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    evidence_path  text,
    seq            bigint GENERATED ALWAYS AS IDENTITY,  -- monotonic: cursors and live-stream resume
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, time)
);
CREATE INDEX events_type_idx ON events (type, time DESC);
CREATE INDEX events_camera_idx ON events (camera_id, time DESC);
CREATE INDEX events_site_idx ON events (site_id, time DESC);
CREATE INDEX events_open_idx ON events (status, time DESC) WHERE status <> 'resolved';

CREATE TABLE event_notes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id  uuid NOT NULL,
    time      timestamptz NOT NULL DEFAULT now(),
    user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    action    text NOT NULL,  -- acknowledge, assign, note, resolve, reopen
    text      text
);
CREATE INDEX event_notes_event_idx ON event_notes (event_id, time);

CREATE TABLE counter_sessions (
    id           uuid NOT NULL,
    time         timestamptz NOT NULL,  -- service start
    service_end  timestamptz NOT NULL,
    counter_id   bigint NOT NULL,
    camera_id    bigint,
    track_id     bigint,
    queue_enter  timestamptz,           -- NULL when the citizen was not seen queueing
    PRIMARY KEY (id, time),
    CHECK (service_end >= time)
);
CREATE INDEX counter_sessions_counter_idx ON counter_sessions (counter_id, time DESC);

CREATE TABLE camera_health (
    time              timestamptz NOT NULL,
    camera_id         bigint NOT NULL,
    state             text NOT NULL,
    input_fps         real NOT NULL DEFAULT 0,
    analytics_fps     real NOT NULL DEFAULT 0,
    decode_errors     bigint NOT NULL DEFAULT 0,
    reconnects        bigint NOT NULL DEFAULT 0,
    last_frame_age_s  real,
    width             integer,
    height            integer,
    lag_s             real
);
CREATE UNIQUE INDEX camera_health_key ON camera_health (camera_id, time);

CREATE TABLE ticket_events (
    time             timestamptz NOT NULL,
    site_id          bigint NOT NULL,
    counter_id       bigint,
    device_id        text NOT NULL,
    device_event_id  text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('issued', 'called', 'served', 'skipped')),
    ticket_number    text NOT NULL,
    service          text
);
CREATE UNIQUE INDEX ticket_events_key ON ticket_events (device_id, device_event_id, time);
CREATE INDEX ticket_events_counter_idx ON ticket_events (counter_id, time DESC);

CREATE TABLE ratings (
    time             timestamptz NOT NULL,
    site_id          bigint NOT NULL,
    counter_id       bigint,
    device_id        text NOT NULL,
    device_event_id  text NOT NULL,
    score            smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment          text
);
CREATE UNIQUE INDEX ratings_key ON ratings (device_id, device_event_id, time);
CREATE INDEX ratings_counter_idx ON ratings (counter_id, time DESC);
