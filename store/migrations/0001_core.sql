-- Core (relational) tables: sites, cameras, zones, counters, users, audit log, event notes.
-- Identifiers are bigint identities; each object also has a human key (site code, camera name in a site,
-- zone name on a camera, counter number in a site) that YAML import/export uses.

CREATE TABLE sites (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind          text NOT NULL CHECK (kind IN ('service_center', 'street', 'other')),
    level         text CHECK (level IN ('province', 'district', 'commune')),
    address       text,
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    timezone      text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    -- {"weekly": {"mon": [["07:30","11:30"],["13:30","17:00"]], ...}, "holidays": ["2026-09-02"],
    --  "extra_days": {"2026-04-25": [["07:30","11:30"]]}}; validated by vigil.calendar.WorkingCalendar
    working_hours jsonb NOT NULL DEFAULT '{}'::jsonb,
    capacity      integer CHECK (capacity > 0),  -- hall capacity for hall_overcrowded
    plan_image    text,                           -- uploaded site plan under the data folder
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cameras (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id        bigint NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    source_kind    text NOT NULL DEFAULT 'onvif' CHECK (source_kind IN ('onvif', 'rtsp', 'file')),
    onvif_host     text,
    onvif_port     integer CHECK (onvif_port BETWEEN 1 AND 65535),
    username       text,
    password_enc   bytea,   -- Fernet token; never returned by any API or export
    main_uri       text,    -- recording / preview stream (or the file path)
    sub_uri        text,    -- analytics stream; main_uri when empty
    snapshot_uri   text,
    analytics_fps  real CHECK (analytics_fps > 0 AND analytics_fps <= 60),
    enabled        boolean NOT NULL DEFAULT true,
    position       jsonb,   -- {"x":0..1,"y":0..1} on the site plan
    info           jsonb NOT NULL DEFAULT '{}'::jsonb,  -- probe results: model, firmware, profiles
    snapshot_path  text,
    state          text NOT NULL DEFAULT 'starting',
    state_since    timestamptz NOT NULL DEFAULT now(),
    lease_owner    text,
    lease_expires  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, name)
);
CREATE INDEX cameras_lease_idx ON cameras (lease_expires) WHERE enabled;

CREATE TABLE zones (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id   bigint NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('counter_staff', 'counter_customer', 'queue', 'restricted',
                                              'no_stopping', 'crowd', 'lane', 'line')),
    geometry    jsonb NOT NULL,  -- [[x, y], ...] normalized 0..1; a line has 2 points
    direction   jsonb,           -- [dx, dy] for lanes and lines
    classes     text[],          -- NULL: the rule's default classes
    thresholds  jsonb NOT NULL DEFAULT '{}'::jsonb,
    schedule    jsonb,           -- NULL: always; else same shape as working_hours
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (camera_id, name)
);

CREATE TABLE counters (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id           bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    number            integer NOT NULL CHECK (number > 0),
    department        text NOT NULL,
    officer           text,
    camera_id         bigint REFERENCES cameras (id) ON DELETE SET NULL,
    staff_zone_id     bigint REFERENCES zones (id) ON DELETE SET NULL,
    customer_zone_id  bigint REFERENCES zones (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, number)
);

CREATE TABLE users (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username              text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    display_name          text,
    password_hash         text NOT NULL,  -- argon2id
    role                  text NOT NULL CHECK (role IN ('operator', 'manager', 'engineer', 'admin')),
    site_ids              bigint[],       -- NULL: every site
    language              text NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    active                boolean NOT NULL DEFAULT true,
    must_change_password  boolean NOT NULL DEFAULT false,
    failed_logins         integer NOT NULL DEFAULT 0,
    locked_until          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time         timestamptz NOT NULL DEFAULT now(),
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    username     text,
    action       text NOT NULL,   -- e.g. event.acknowledge, camera.create, user.passwd
    object_type  text,
    object_id    text,
    before       jsonb,
    after        jsonb,
    remote_addr  text
);
CREATE INDEX audit_log_time_idx ON audit_log (time DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
