-- Footage around events is kept at least as long as the rest (issue 15): a camera or site that sets both refuses
-- record_event_days < record_days. (Where one is inherited, store.recordings.recording_policy keeps the longer.)
-- Numbered 0046 inside the recordings range so the playback work can take 0041-0045 without a clash.

ALTER TABLE cameras ADD CONSTRAINT cameras_record_event_days_cover
    CHECK (record_event_days IS NULL OR record_days IS NULL OR record_event_days >= record_days);
ALTER TABLE sites ADD CONSTRAINT sites_record_event_days_cover
    CHECK (record_event_days IS NULL OR record_days IS NULL OR record_event_days >= record_days);
