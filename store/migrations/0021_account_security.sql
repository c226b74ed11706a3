-- Account security: the sites each audit row concerns (so a site-scoped admin reads only its sites' rows),
-- and sign-in failures counted per (user name, client address) and per client address, whether or not the
-- name exists (the lock-out no longer lives on the users row, where it told known names from unknown ones
-- and let anyone lock anyone out).

-- NULL: the row concerns no site or every site (a global user, an all-sites webhook): global admins only.
ALTER TABLE audit_log ADD COLUMN site_ids bigint[];

-- Rows written before this migration: the sites they name outright; the rest stay global.
UPDATE audit_log SET site_ids = ARRAY[object_id::bigint]
WHERE object_type = 'site' AND object_id ~ '^[0-9]{1,18}$';
UPDATE audit_log SET site_ids = ARRAY[coalesce(after ->> 'site_id', before ->> 'site_id')::bigint]
WHERE site_ids IS NULL AND coalesce(after ->> 'site_id', before ->> 'site_id') ~ '^[0-9]{1,18}$';

CREATE TABLE login_attempts (
    username      text NOT NULL,          -- '': every name tried from this address
    remote_addr   text NOT NULL,
    failures      integer NOT NULL DEFAULT 0,  -- failed (or still being checked) attempts since window_start
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,            -- set by the first attempt over the limit
    PRIMARY KEY (username, remote_addr)
);

ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;
