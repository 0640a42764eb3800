-- A dedupe key matches only jobs of the same owner (jobs without an owner match each other).
DROP INDEX jobs_dedupe;
CREATE UNIQUE INDEX jobs_dedupe ON jobs (queue, coalesce(owner, ''), dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('waiting','scheduled','blocked','held','active');
-- The job's last lease that ended, and how: a worker naming that token is told why it lost it.
ALTER TABLE jobs ADD COLUMN lease_ended_token uuid;
ALTER TABLE jobs ADD COLUMN lease_ended_reason text;
ALTER TABLE jobs ADD COLUMN lease_ended_attempt integer;
-- The principal (API key name) that registered a worker; NULL for library workers.
ALTER TABLE workers ADD COLUMN registered_by text;
-- complete_jobs records why a lease ended (completed) for the LEASE_LOST reasons.
CREATE OR REPLACE FUNCTION complete_jobs(p_ids uuid[], p_tokens uuid[], p_results jsonb[])
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  done_ids uuid[];
  parents uuid[];
BEGIN
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) AS t(id, token, result)
  ), done AS (
    UPDATE jobs j SET status = 'completed', result = input.result, finished_at = now(),
      duration_ms = (extract(epoch FROM now() - j.started_at) * 1000)::bigint,
      progress_percent = 100, lease_token = NULL, lease_expires_at = NULL,
      lease_ended_token = j.lease_token, lease_ended_reason = 'completed', lease_ended_attempt = j.attempts
    FROM input
    WHERE j.id = input.id AND j.lease_token = input.token AND j.status = 'active' AND j.lease_expires_at > now()
    RETURNING j.id, j.queue, j.has_dependents
  ), ev AS (
    INSERT INTO events (job_id, queue, kind, status) SELECT id, queue, 'state', 'completed' FROM done
  )
  SELECT array_agg(id), array_agg(id) FILTER (WHERE has_dependents) INTO done_ids, parents FROM done;
  IF parents IS NOT NULL THEN
    PERFORM unblock_dependents(parents);
  END IF;
  RETURN QUERY SELECT unnest(coalesce(done_ids, '{}'::uuid[]));
END $$;
