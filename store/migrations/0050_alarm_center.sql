-- The alarm center (issue 16): which events raise an alarm (rules per site, overridable per camera and zone,
-- with a priority and a schedule), alarms as their own rows referencing their events (a flood of one type on
-- one camera is one alarm with a count), procedures (checklists) copied onto each alarm, escalation and
-- auto-close state, shift handovers, site plans and cameras on maps.
--
-- An event raises its alarm in its own transaction, by a trigger (vigil_raise_alarm): every writer takes part
-- (the vision workers' batched writer, ingest's camera events, the API, a test's INSERT), exactly once (a
-- replayed batch that hits ON CONFLICT inserts nothing, so raises nothing), with no process to keep up.
-- Escalation and auto-close need a clock: one API replica does them (ops_api/alarm_watch.py).

-- Supervisors (trưởng ca): operators or admins who are told when an alarm of their sites is escalated.
ALTER TABLE users ADD COLUMN supervisor boolean NOT NULL DEFAULT false;

-- Maps: cameras by latitude and longitude on the city map; the site plan's picture size for its coordinates.
-- cameras.position (0001) keeps the place on the site plan: {"x": 0..1, "y": 0..1, "direction": deg, "fov": deg}.
ALTER TABLE cameras ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90);
ALTER TABLE cameras ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180);
ALTER TABLE sites ADD COLUMN plan_width integer CHECK (plan_width > 0);
ALTER TABLE sites ADD COLUMN plan_height integer CHECK (plan_height > 0);
ALTER TABLE sites ADD COLUMN plan_updated_at timestamptz;

-- Cameras that see around each other (configured on the map); stored both ways.
CREATE TABLE camera_neighbours (
    camera_id     bigint NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
    neighbour_id  bigint NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
    PRIMARY KEY (camera_id, neighbour_id),
    CHECK (camera_id <> neighbour_id)
);

-- Which events raise an alarm. The most specific rule decides (zone, then camera, then site, then the
-- defaults of every site); no rule at all: the event's severity (critical 1, high 2, medium 3, low 4, info none).
CREATE TABLE alarm_rules (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       bigint REFERENCES sites (id) ON DELETE CASCADE,      -- NULL: the default of every site
    camera_id     bigint REFERENCES cameras (id) ON DELETE CASCADE,    -- NULL: every camera of the site
    zone_id       bigint REFERENCES zones (id) ON DELETE CASCADE,      -- NULL: every zone of the camera
    event_type    text NOT NULL CHECK (event_type ~ '^[a-z0-9_]{1,64}$'),
    raises        boolean NOT NULL DEFAULT true,                       -- false: such events stay events
    priority      smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    schedule      jsonb,        -- NULL: always; else core.calendar's shape, in the site's time zone
    group_s       integer NOT NULL DEFAULT 600 CHECK (group_s BETWEEN 0 AND 86400),
    auto_close_s  integer CHECK (auto_close_s BETWEEN 60 AND 2592000),  -- NULL: never closed by itself
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (site_id IS NOT NULL OR camera_id IS NULL),
    CHECK (camera_id IS NOT NULL OR zone_id IS NULL)
);
CREATE UNIQUE INDEX alarm_rules_key ON alarm_rules (event_type, coalesce(site_id, 0), coalesce(camera_id, 0),
                                                    coalesce(zone_id, 0));

-- Procedures: per event type (and site; NULL: every site) an ordered checklist [{"text": ..., "required": bool}].
CREATE TABLE procedures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     bigint REFERENCES sites (id) ON DELETE CASCADE,
    event_type  text NOT NULL CHECK (event_type ~ '^[a-z0-9_]{1,64}$'),
    steps       jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(steps) = 'array'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX procedures_key ON procedures (event_type, coalesce(site_id, 0));

CREATE TABLE alarms (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id          bigint,
    camera_id        bigint,
    zone_id          bigint,
    counter_id       bigint,
    type             text NOT NULL,
    severity         text NOT NULL,
    priority         smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    rule_id          bigint REFERENCES alarm_rules (id) ON DELETE SET NULL,
    status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'assigned', 'resolved')),
    assignee_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    event_count      integer NOT NULL DEFAULT 1,
    first_event_id   uuid NOT NULL,
    first_time       timestamptz NOT NULL,
    last_event_id    uuid NOT NULL,
    last_time        timestamptz NOT NULL,
    raised_at        timestamptz NOT NULL DEFAULT now(),   -- the escalation clock starts here
    acknowledged_at  timestamptz,
    escalated_at     timestamptz,
    resolved_at      timestamptz,
    auto_closed      boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- escalated and still not acknowledged: above everything else in the list
    urgent           boolean GENERATED ALWAYS AS (status = 'new' AND escalated_at IS NOT NULL) STORED
);
-- The list: urgent first, then priority, then the newest; open alarms (the operators' view) have their own.
CREATE INDEX alarms_open_order ON alarms (urgent DESC, priority, last_time DESC, id DESC) WHERE status <> 'resolved';
CREATE INDEX alarms_open_site ON alarms (site_id, urgent DESC, priority, last_time DESC, id DESC)
    WHERE status <> 'resolved';
CREATE INDEX alarms_order ON alarms (urgent DESC, priority, last_time DESC, id DESC);
CREATE INDEX alarms_time ON alarms (last_time DESC);
-- The flood of one type on one camera joins its open alarm.
CREATE INDEX alarms_group ON alarms (camera_id, type, last_time DESC) WHERE status <> 'resolved';
-- Escalation: the alarms nobody acknowledged yet, by priority and age.
CREATE INDEX alarms_unacknowledged ON alarms (priority, raised_at) WHERE status = 'new' AND escalated_at IS NULL;
CREATE INDEX alarms_camera ON alarms (camera_id, last_time DESC);

CREATE TABLE alarm_events (
    alarm_id    bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    event_id    uuid NOT NULL,
    event_time  timestamptz NOT NULL,   -- the event's key is (id, time): hypertables need the time
    PRIMARY KEY (alarm_id, event_time, event_id)
);
CREATE UNIQUE INDEX alarm_events_event ON alarm_events (event_id);

-- The alarm's checklist as its procedure was when the alarm was raised (a later edit changes new alarms only).
CREATE TABLE alarm_steps (
    alarm_id   bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    position   smallint NOT NULL,
    text       text NOT NULL,
    required   boolean NOT NULL DEFAULT true,
    done_at    timestamptz,
    done_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    note       text,
    PRIMARY KEY (alarm_id, position)
);

-- Each step on an alarm (acknowledge, assign, note, step, resolve, reopen, escalate, auto_close).
CREATE TABLE alarm_notes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id  bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    time      timestamptz NOT NULL DEFAULT now(),
    user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    action    text NOT NULL,
    text      text
);
CREATE INDEX alarm_notes_alarm_idx ON alarm_notes (alarm_id, time);

-- Shift handovers (giao ca): the summary as it was generated, the remarks, who handed over to whom.
CREATE TABLE handovers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_ids         bigint[],              -- the shift's sites; NULL: every site
    from_user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    from_username    text NOT NULL,
    to_user_id       bigint REFERENCES users (id) ON DELETE SET NULL,
    to_username      text NOT NULL,
    shift_start      timestamptz NOT NULL,
    shift_end        timestamptz NOT NULL CHECK (shift_end > shift_start),
    summary          jsonb NOT NULL,
    remarks          text CHECK (length(remarks) <= 8000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    ack_note         text CHECK (length(ack_note) <= 4000)
);
CREATE INDEX handovers_time_idx ON handovers (shift_end DESC);
CREATE INDEX handovers_to_idx ON handovers (to_user_id) WHERE acknowledged_at IS NULL;

-- "HH:MM" (24:00 allowed) as minutes since midnight.
CREATE FUNCTION vigil_minutes(hhmm text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT split_part(hhmm, ':', 1)::integer * 60 + split_part(hhmm, ':', 2)::integer
$$;

-- Whether a schedule in core.calendar's shape ({"weekly": {"mon": [["18:00", "24:00"]], ...}, "holidays": [...],
-- "extra_days": {...}}) is open at a moment, in ``tz`` unless it names its own time zone. The same answers as
-- core.calendar.WorkingCalendar.is_open (tests/store/test_alarm_rules.py compares them).
CREATE FUNCTION vigil_schedule_open(schedule jsonb, tz text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    local    timestamp := at AT TIME ZONE coalesce(schedule ->> 'timezone', tz);
    day      text := to_char(local, 'YYYY-MM-DD');
    minute   double precision := extract(hour FROM local) * 60 + extract(minute FROM local)
                                 + extract(second FROM local) / 60;
    sessions jsonb;
    session  jsonb;
BEGIN
    IF schedule IS NULL THEN
        RETURN true;
    END IF;
    IF coalesce(schedule -> 'extra_days', '{}'::jsonb) ? day THEN
        sessions := schedule -> 'extra_days' -> day;
    ELSIF coalesce(schedule -> 'holidays', '[]'::jsonb) ? day THEN
        RETURN false;
    ELSIF coalesce(jsonb_typeof(schedule -> 'weekly'), 'null') = 'null' THEN
        RETURN true;
    ELSE
        sessions := schedule -> 'weekly' -> lower(to_char(local, 'Dy'));
    END IF;
    FOR session IN SELECT value FROM jsonb_array_elements(coalesce(sessions, '[]'::jsonb)) LOOP
        IF minute >= vigil_minutes(session ->> 0) AND minute < vigil_minutes(session ->> 1) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;

-- An event raises its alarm, or joins the open alarm of its camera and type (within the rule's group_s of
-- that alarm's newest event), or raises none: its rule says no, its schedule is closed, it is info without a
-- rule, it was stored already resolved, or it started over a day before it was stored (a backfill of recorded
-- footage, a spool replayed after a long outage: history, not something to act on now).
CREATE FUNCTION vigil_raise_alarm() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rule      alarm_rules%ROWTYPE;
    wanted    smallint;
    window_s  integer := 600;
    found_id  bigint;
    new_id    bigint;
BEGIN
    IF NEW.status = 'resolved' OR NEW.time < now() - interval '1 day' THEN
        RETURN NULL;
    END IF;
    SELECT r.* INTO rule FROM alarm_rules r
     WHERE r.event_type = NEW.type
       AND (r.site_id IS NULL OR r.site_id = NEW.site_id)
       AND (r.camera_id IS NULL OR r.camera_id = NEW.camera_id)
       AND (r.zone_id IS NULL OR r.zone_id = NEW.zone_id)
     ORDER BY r.zone_id IS NULL, r.camera_id IS NULL, r.site_id IS NULL
     LIMIT 1;
    IF FOUND THEN
        IF NOT rule.raises THEN
            RETURN NULL;
        END IF;
        IF rule.schedule IS NOT NULL AND NOT vigil_schedule_open(
                rule.schedule, coalesce((SELECT s.timezone FROM sites s WHERE s.id = NEW.site_id), 'Asia/Ho_Chi_Minh'),
                NEW.time) THEN
            RETURN NULL;
        END IF;
        wanted := rule.priority;
        window_s := rule.group_s;
    ELSE
        wanted := CASE NEW.severity WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 3 WHEN 'low' THEN 4 END;
        IF wanted IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;
    -- Two writers with events of the same camera and type at once: one alarm, not two.
    PERFORM pg_advisory_xact_lock(hashtext('vigil.alarm:' || coalesce(NEW.camera_id, 0) || ':'
                                           || coalesce(NEW.site_id, 0) || ':' || NEW.type));
    IF window_s > 0 AND NEW.camera_id IS NOT NULL THEN
        SELECT a.id INTO found_id FROM alarms a
         WHERE a.camera_id = NEW.camera_id AND a.type = NEW.type AND a.status <> 'resolved'
           AND a.last_time >= NEW.time - make_interval(secs => window_s)
         ORDER BY a.last_time DESC LIMIT 1;
    ELSIF window_s > 0 THEN
        SELECT a.id INTO found_id FROM alarms a
         WHERE a.camera_id IS NULL AND a.site_id IS NOT DISTINCT FROM NEW.site_id AND a.type = NEW.type
           AND a.status <> 'resolved' AND a.last_time >= NEW.time - make_interval(secs => window_s)
         ORDER BY a.last_time DESC LIMIT 1;
    END IF;
    IF found_id IS NOT NULL THEN
        UPDATE alarms SET event_count = event_count + 1,
               last_event_id = CASE WHEN NEW.time >= last_time THEN NEW.id ELSE last_event_id END,
               last_time = greatest(last_time, NEW.time), priority = least(priority, wanted), updated_at = now()
         WHERE id = found_id;
        INSERT INTO alarm_events (alarm_id, event_id, event_time) VALUES (found_id, NEW.id, NEW.time);
        RETURN NULL;
    END IF;
    INSERT INTO alarms (site_id, camera_id, zone_id, counter_id, type, severity, priority, rule_id,
                        first_event_id, first_time, last_event_id, last_time)
    VALUES (NEW.site_id, NEW.camera_id, NEW.zone_id, NEW.counter_id, NEW.type, NEW.severity, wanted,
            rule.id, NEW.id, NEW.time, NEW.id, NEW.time)
    RETURNING id INTO new_id;
    INSERT INTO alarm_events (alarm_id, event_id, event_time) VALUES (new_id, NEW.id, NEW.time);
    INSERT INTO alarm_steps (alarm_id, position, text, required)
    SELECT new_id, s.ord, s.step ->> 'text', coalesce((s.step ->> 'required')::boolean, true)
      FROM (SELECT p.steps FROM procedures p
             WHERE p.event_type = NEW.type AND (p.site_id IS NULL OR p.site_id = NEW.site_id)
             ORDER BY p.site_id IS NULL LIMIT 1) chosen,
           jsonb_array_elements(chosen.steps) WITH ORDINALITY AS s(step, ord);
    RETURN NULL;
END $$;

CREATE TRIGGER events_raise_alarm AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION vigil_raise_alarm();

-- Alarms are announced like events (0005), on their own channel; "escalated" when escalated_at is first set.
CREATE FUNCTION vigil_notify_alarm() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    op text := 'insert';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        op := CASE WHEN OLD.escalated_at IS NULL AND NEW.escalated_at IS NOT NULL THEN 'escalated' ELSE 'update' END;
    END IF;
    PERFORM pg_notify('vigil_alarms', json_build_object('op', op, 'id', NEW.id, 'site_id', NEW.site_id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER alarms_notify AFTER INSERT OR UPDATE ON alarms FOR EACH ROW EXECUTE FUNCTION vigil_notify_alarm();

-- The defaults every site starts with (managers override them per site, camera or zone).
INSERT INTO alarm_rules (event_type, raises, priority, group_s) VALUES
    ('intrusion', true, 1, 600), ('wrong_way', true, 2, 600), ('crowd', true, 2, 900),
    ('hall_overcrowded', true, 2, 900), ('counter_unattended_with_queue', true, 2, 900),
    ('camera_tamper', true, 2, 1800), ('stopped_vehicle', true, 3, 600), ('congestion', true, 3, 1800),
    ('loitering', true, 3, 900), ('camera_offline', true, 3, 1800), ('officer_absent', true, 3, 1800),
    ('long_wait', true, 4, 1800), ('camera_online', false, 5, 0);

INSERT INTO procedures (event_type, steps) VALUES
    ('intrusion', '[{"text": "Xem lại clip", "required": true},
                    {"text": "Gọi đội trật tự khu vực", "required": true},
                    {"text": "Ghi biên bản", "required": false}]'),
    ('wrong_way', '[{"text": "Xem lại clip", "required": true},
                    {"text": "Báo cảnh sát giao thông khu vực", "required": true},
                    {"text": "Ghi biên bản", "required": false}]'),
    ('crowd', '[{"text": "Xem lại clip", "required": true},
                {"text": "Gọi đội trật tự khu vực", "required": true},
                {"text": "Theo dõi đến khi giải tán", "required": false}]'),
    ('camera_tamper', '[{"text": "Kiểm tra hình ảnh camera", "required": true},
                        {"text": "Báo kỹ thuật viên", "required": true}]'),
    ('camera_offline', '[{"text": "Kiểm tra kết nối camera", "required": true},
                         {"text": "Báo kỹ thuật viên", "required": true}]'),
    ('officer_absent', '[{"text": "Gọi điện cho cán bộ trực quầy", "required": true},
                         {"text": "Báo lãnh đạo trung tâm", "required": false}]');
