-- Service centers in depth (issue 17): provinces and site levels, province-wide user scopes, officers and who
-- works which counter when (weekly rosters, a day's exceptions, check-ins from ticket systems), the hall
-- screen's display keys, and the column mappings of imported ticket logs.

-- Since 1 July 2025 local government has two levels: a province (or centrally-run city) and its communes.
CREATE TABLE provinces (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- sites.level keeps 'district' readable (centers created before the reform); the API writes province or commune.
ALTER TABLE sites ADD COLUMN province_id bigint REFERENCES provinces (id) ON DELETE RESTRICT;
CREATE INDEX sites_province_idx ON sites (province_id);

-- A user's scope may name whole provinces: the server expands them to their sites at every request, so a
-- center added to the province is in scope at once. A user with provinces has site_ids '{}' or its extra
-- sites, never NULL: NULL keeps its one meaning, every site.
ALTER TABLE users ADD COLUMN province_ids bigint[];
ALTER TABLE users ADD CONSTRAINT users_province_scope CHECK (province_ids IS NULL OR site_ids IS NOT NULL);

CREATE TABLE officers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    full_name   text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    staff_code  text NOT NULL CHECK (staff_code ~ '^[A-Za-z0-9._:-]{1,64}$'),
    department  text CHECK (length(department) <= 200),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, staff_code)
);

-- The weekly roster: this officer works this counter on these ISO weekdays (1 = Monday) between these local
-- times, from valid_from to valid_until (NULL: until further notice). Entries are never edited, only ended:
-- attribution of past days never changes when the roster does.
CREATE TABLE officer_rosters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    counter_id   bigint NOT NULL REFERENCES counters (id) ON DELETE CASCADE,
    officer_id   bigint NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    weekdays     smallint[] NOT NULL CHECK (cardinality(weekdays) BETWEEN 1 AND 7 AND weekdays <@ '{1,2,3,4,5,6,7}'),
    start_time   time NOT NULL DEFAULT '00:00',
    end_time     time NOT NULL DEFAULT '24:00',
    valid_from   date NOT NULL,
    valid_until  date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time > start_time),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX officer_rosters_counter_idx ON officer_rosters (counter_id, valid_from);

-- One day's exception: between these local times of that day the counter is staffed by this officer instead
-- (officer_id NULL: by nobody, e.g. leave). A reassignment in the middle of a day is an exception from then on.
CREATE TABLE officer_roster_exceptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    counter_id  bigint NOT NULL REFERENCES counters (id) ON DELETE CASCADE,
    officer_id  bigint REFERENCES officers (id) ON DELETE CASCADE,
    day         date NOT NULL,
    start_time  time NOT NULL DEFAULT '00:00',
    end_time    time NOT NULL DEFAULT '24:00',
    note        text CHECK (length(note) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time > start_time)
);
CREATE INDEX officer_roster_exceptions_day_idx ON officer_roster_exceptions (counter_id, day);

-- Log-ins and log-outs a ticket system reports (the officer calling tickets at a counter): they win over the
-- roster for as long as they last. Kept once per (device, device event id).
CREATE TABLE officer_checkins (
    time             timestamptz NOT NULL,
    site_id          bigint NOT NULL,
    counter_id       bigint NOT NULL,
    officer_id       bigint NOT NULL,
    device_id        text NOT NULL,
    device_event_id  text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('login', 'logout'))
);
CREATE UNIQUE INDEX officer_checkins_key ON officer_checkins (device_id, device_event_id);
CREATE INDEX officer_checkins_site_idx ON officer_checkins (site_id, time);

-- The public hall screen of a site: the SHA-256 of its display key (a 256-bit random token; only the hash
-- is kept), rotated by an admin.
CREATE TABLE hall_displays (
    site_id     bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    key_hash    text NOT NULL,
    prefix      text NOT NULL,
    rotated_at  timestamptz NOT NULL DEFAULT now()
);

-- Which column of a site's ticket-system export holds what (vigil tickets import, the console's upload).
CREATE TABLE ticket_import_mappings (
    site_id     bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    mapping     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- counters.officer (free text) stays as the counter's label; each distinct name of a site becomes an officer
-- (staff code legacy-<first counter id>) rostered on its counters every day since the counter was created,
-- which is what the text meant: the past is attributed as it was read before.
INSERT INTO officers (site_id, full_name, staff_code, department)
SELECT site_id, btrim(officer), 'legacy-' || min(id), min(department)
FROM counters WHERE officer IS NOT NULL AND btrim(officer) <> ''
GROUP BY site_id, btrim(officer);

INSERT INTO officer_rosters (counter_id, officer_id, weekdays, valid_from)
SELECT k.id, o.id, '{1,2,3,4,5,6,7}', (k.created_at AT TIME ZONE s.timezone)::date
FROM counters k JOIN sites s ON s.id = k.site_id
JOIN officers o ON o.site_id = k.site_id AND o.full_name = btrim(k.officer) AND o.staff_code LIKE 'legacy-%'
WHERE k.officer IS NOT NULL AND btrim(k.officer) <> '';
