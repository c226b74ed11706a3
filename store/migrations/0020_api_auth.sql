-- Operations API: sign-in sessions, API tokens for scripts, keys of queue-ticket machines and
-- satisfaction terminals, outbound targets (webhooks, MQTT), and the indexes the event list and the
-- live stream's resume read by.
-- Secrets are stored only as SHA-256 hashes of 256-bit random tokens (no need for a slow hash:
-- they are not guessable like passwords).

CREATE TABLE api_sessions (
    token_hash   text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL DEFAULT now(),
    remote_addr  text,
    user_agent   text
);
CREATE INDEX api_sessions_user_idx ON api_sessions (user_id);

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   text NOT NULL UNIQUE,
    prefix       text NOT NULL,           -- first characters, shown in lists to tell tokens apart
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,             -- NULL: until revoked
    last_used    timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE device_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    text NOT NULL UNIQUE CHECK (device_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    kind         text NOT NULL CHECK (kind IN ('ticket_machine', 'terminal')),
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    counter_id   bigint REFERENCES counters (id) ON DELETE SET NULL,
    key_hash     text NOT NULL UNIQUE,
    prefix       text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz
);

CREATE TABLE outbound_targets (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('webhook', 'mqtt')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url          text NOT NULL,           -- https://... for webhooks; mqtt://host:port/topic-prefix for MQTT
    secret       text,                    -- webhook HMAC key / MQTT password; never returned by the API
    username     text,                    -- MQTT user name
    event_types  text[],                  -- NULL: every type
    site_ids     bigint[],                -- NULL: every site
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_ok      timestamptz,
    last_error   text
);

-- The live stream resumes by seq ("after the last event I saw").
CREATE INDEX IF NOT EXISTS events_seq_idx ON events (seq);
-- The event list pages newest first with a (time, seq) keyset cursor.
CREATE INDEX IF NOT EXISTS events_time_seq_idx ON events (time DESC, seq DESC);

-- Live events: the store's 0005_event_notify trigger announces every insert/update on 'vigil_events'.
