-- A dedupe key matches only jobs of the same owner (jobs without an owner match each other).
DROP INDEX jobs_dedupe;
CREATE UNIQUE INDEX jobs_dedupe ON jobs (queue, coalesce(owner, ''), dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('waiting','scheduled','blocked','held','active');
-- The job's last lease that ended, and how: a worker naming that token is told why it lost it.
ALTER TABLE jobs ADD COLUMN lease_ended_token TEXT;
ALTER TABLE jobs ADD COLUMN lease_ended_reason TEXT;
ALTER TABLE jobs ADD COLUMN lease_ended_attempt INTEGER;
-- The principal (API key name) that registered a worker; NULL for library workers.
ALTER TABLE workers ADD COLUMN registered_by TEXT;
