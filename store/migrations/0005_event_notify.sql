-- Live event stream: every insert or update of an event is announced on channel 'vigil_events' so any
-- API replica can LISTEN and push it to consoles. The payload is small; readers fetch the row by seq.

CREATE FUNCTION vigil_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vigil_events', json_build_object(
        'op', lower(TG_OP), 'seq', NEW.seq, 'id', NEW.id, 'site_id', NEW.site_id,
        'camera_id', NEW.camera_id, 'type', NEW.type, 'status', NEW.status)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify AFTER INSERT OR UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION vigil_notify_event();
