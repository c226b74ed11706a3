-- What each vision worker's store writer holds, published every heartbeat, so the API's /metrics can
-- show writer back-pressure (the writers run in the workers, not in the API processes).
CREATE TABLE writer_stats (
    worker              text PRIMARY KEY,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    queue_rows          integer NOT NULL,
    queue_capacity      integer NOT NULL,
    spool_pending_rows  bigint NOT NULL,
    rows_written        bigint NOT NULL,
    rows_spooled        bigint NOT NULL,
    rows_rejected       bigint NOT NULL,
    last_error          text
);
