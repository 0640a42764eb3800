-- lease_jobs: the lease write of every claim, in one place. The jobs p_ids, picked and row-locked by
-- the caller (claim_jobs, claim_grouped), become active under a new lease token for p_worker: their
-- attempts count one more, each gets its state event and opens its attempt row, and when a rate limit
-- counts starts, each start is recorded (per group when p_starts_by_group). Returned in the order of
-- p_ids, which is the order the worker is to start them in.
-- SQLite twin: leaseJob in src/storage/sqlite/leases.ts.
CREATE OR REPLACE FUNCTION lease_jobs(p_ids uuid[], p_worker text, p_lease_ms int, p_now timestamptz,
  p_record_starts boolean, p_starts_by_group boolean)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN; END IF;
  RETURN QUERY
  WITH leased AS (
    UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
      lease_token = gen_random_uuid(), locked_at = p_now,
      lease_expires_at = p_now + p_lease_ms * interval '1 millisecond', started_at = p_now,
      progress_percent = 0, progress_step = NULL, progress_message = NULL
    WHERE j.id = ANY(p_ids)
    RETURNING j.*
  ), ev AS (
    INSERT INTO events (job_id, queue, worker_id, kind, status, at)
    SELECT id, queue, worker_id, 'state', 'active', p_now FROM leased
  ), started AS (
    INSERT INTO rate_limit_starts (queue, group_key, at)
    SELECT queue, CASE WHEN p_starts_by_group THEN coalesce(group_key, '') ELSE '' END, p_now
    FROM leased WHERE p_record_starts
  ), att AS (
    INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
    SELECT l.id, coalesce((SELECT max(a.seq) FROM job_attempts a WHERE a.job_id = l.id), 0) + 1,
      l.attempts, l.worker_id, p_now, 'running' FROM leased l
  )
  SELECT l.* FROM leased l JOIN unnest(p_ids) WITH ORDINALITY AS p(id, n) ON p.id = l.id ORDER BY p.n;
END $$;
