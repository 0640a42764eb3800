-- complete_jobs: Completes many leased jobs in one statement; a stale token or an expired lease completes nothing. Returns the ids it completed.
-- SQLite twin: completeJobs in src/storage/sqlite/leases.ts.
CREATE OR REPLACE FUNCTION complete_jobs(p_ids uuid[], p_tokens uuid[], p_results jsonb[], p_now timestamptz DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  done_ids uuid[];
  parents uuid[];
  v_now timestamptz := coalesce(p_now, now());
BEGIN
  -- The rows are locked first, in id order, as every statement that locks several jobs does: a
  -- heartbeat of the same worker extending these leases at the same moment would otherwise take
  -- them in another order and deadlock with this one.
  PERFORM 1 FROM jobs j JOIN unnest(p_ids, p_tokens) AS t(id, token) ON j.id = t.id AND j.lease_token = t.token
  WHERE j.status = 'active'
  ORDER BY j.id FOR NO KEY UPDATE OF j;
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) AS t(id, token, result)
  ), done AS (
    UPDATE jobs j SET status = 'completed', result = input.result, finished_at = v_now,
      duration_ms = (extract(epoch FROM v_now - j.started_at) * 1000)::bigint,
      progress_percent = 100, lease_token = NULL, lease_expires_at = NULL,
      lease_ended_token = j.lease_token, lease_ended_reason = 'completed', lease_ended_attempt = j.attempts
    FROM input
    WHERE j.id = input.id AND j.lease_token = input.token AND j.status = 'active' AND j.lease_expires_at > v_now
    RETURNING j.id, j.queue, j.has_dependents, j.worker_id
  ), ev AS (
    INSERT INTO events (job_id, queue, worker_id, kind, status, at)
    SELECT id, queue, worker_id, 'state', 'completed', v_now FROM done
  ), att AS (
    UPDATE job_attempts a SET finished_at = v_now, outcome = 'completed'
    FROM done WHERE a.job_id = done.id AND a.finished_at IS NULL
  )
  SELECT array_agg(id), array_agg(id) FILTER (WHERE has_dependents) INTO done_ids, parents FROM done;
  IF parents IS NOT NULL THEN
    PERFORM unblock_dependents(parents, v_now);
  END IF;
  RETURN QUERY SELECT unnest(coalesce(done_ids, '{}'::uuid[]));
END $$;
