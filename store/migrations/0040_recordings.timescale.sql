-- Recordings (issue 15): what each camera records, the index of the segments its recorder wrote, what holds
-- footage beyond its retention, and every export handed out. The segment files live in the recordings area
-- (core.media.recordings_dir); a row's path is relative to it. The index and the files agree: a recorder
-- inserts a row when its segment has closed; retention marks a row deleting, removes the file, then the row
-- (record/retention.py), and a start-up pass reconciles what a crash left between the two.

ALTER TABLE cameras ADD COLUMN record text NOT NULL DEFAULT 'continuous'
    CHECK (record IN ('off', 'continuous', 'events'));
ALTER TABLE cameras ADD COLUMN record_days integer CHECK (record_days BETWEEN 1 AND 3650);
ALTER TABLE cameras ADD COLUMN record_event_days integer CHECK (record_event_days BETWEEN 1 AND 3650);
ALTER TABLE sites ADD COLUMN record_days integer CHECK (record_days BETWEEN 1 AND 3650);
ALTER TABLE sites ADD COLUMN record_event_days integer CHECK (record_event_days BETWEEN 1 AND 3650);

CREATE TABLE recording_segments (
    camera_id   bigint NOT NULL,            -- no foreign key: footage outlives a removed camera until retention
    start_time  timestamptz NOT NULL,       -- wall clock of the segment's first frame (ffmpeg's program date time)
    end_time    timestamptz NOT NULL CHECK (end_time > start_time),
    path        text NOT NULL,              -- relative to the recordings area
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    codec       text,                       -- h264, hevc, ...
    width       integer,
    height      integer,
    node        text NOT NULL,              -- the worker that recorded it (its lease owner name)
    run_id      text NOT NULL,              -- one recorder process run; a new run is a discontinuity
    deleting    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (camera_id, start_time)
);
SELECT create_hypertable('recording_segments', by_range('start_time', INTERVAL '1 day'));

CREATE TABLE recording_holds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id   bigint NOT NULL,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz NOT NULL CHECK (end_time > start_time),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    case_ref    text CHECK (length(case_ref) <= 200),   -- an inspector's or complaint's reference
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz,
    released_by bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX recording_holds_camera ON recording_holds (camera_id, start_time) WHERE released_at IS NULL;

CREATE TABLE recording_exports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id    bigint NOT NULL,
    start_time   timestamptz NOT NULL,       -- the range asked for
    end_time     timestamptz NOT NULL,
    actual_start timestamptz NOT NULL,       -- what the file covers (whole segments: cut at key frames)
    actual_end   timestamptz NOT NULL,
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    username     text,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes        bigint NOT NULL,
    file_name    text NOT NULL,
    hold_id      bigint REFERENCES recording_holds (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recording_exports_sha256 ON recording_exports (sha256);
